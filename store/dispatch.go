package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/crypto"
)

// domainOfficerName separates officer-name hashes from phone hashes.
const domainOfficerName = "officer-name"

var errReadOnly = errors.New("store: write in a read-only transaction")

// officerRecord is an officer as stored; it ends in an integrity tag, so
// a role cannot be raised without a key.
type officerRecord struct {
	ID            string       `json:"id"`
	Role          hotline.Role `json:"role"`
	CreatedAt     time.Time    `json:"created_at"`
	VerifyExpires time.Time    `json:"verify_expires,omitzero"`
	Lang          hotline.Lang `json:"lang,omitempty"`
	Sealed        []byte       `json:"sealed"` // officerSecret
}

type officerSecret struct {
	Name         string `json:"name"`
	Phone        string `json:"phone"`
	PendingPhone string `json:"pending_phone,omitempty"`
	VerifyCode   string `json:"verify_code,omitempty"`
}

// jobRecord is an outbox job as stored, ending in an integrity tag.
type jobRecord struct {
	hotline.Job
	SealedSID []byte `json:"sealed_sid,omitempty"`
}

// Update runs fn in a durable, group-committed write transaction. fn may
// run more than once (see update), so it must not have side effects
// outside the transaction.
func (s *Store) Update(ctx context.Context, fn func(*Tx) error) error {
	return s.update(ctx, func(btx *bolt.Tx) error { return fn(&Tx{s: s, tx: btx}) })
}

// View runs fn in a read-only transaction.
func (s *Store) View(fn func(*Tx) error) error {
	return s.view(func(btx *bolt.Tx) error { return fn(&Tx{s: s, tx: btx}) })
}

// Now is the store's clock.
func (s *Store) Now() time.Time { return s.now() }

// Now is the store's clock, for decisions made inside a transaction.
func (t *Tx) Now() time.Time { return t.s.now() }

func (t *Tx) writable() error {
	if !t.tx.Writable() {
		return errReadOnly
	}
	return nil
}

// --- officers ---

func officerNameKey(name string) string {
	return strings.Join(strings.Fields(strings.ToLower(name)), " ")
}

// AddOfficer registers an officer. Name and phone (E.164) are sealed; their
// keyed hashes keep both unique.
func (t *Tx) AddOfficer(o hotline.Officer) (hotline.Officer, error) {
	if err := t.writable(); err != nil {
		return o, err
	}
	if strings.TrimSpace(o.Name) == "" || o.Phone == "" || !o.Role.Valid() {
		return o, hotline.Errorf(hotline.EINVALID, "officer needs a name, a phone number and a role (officer, supervisor or admin)")
	}
	if o.Lang != "" && !o.Lang.Valid() {
		return o, hotline.Errorf(hotline.EINVALID, "officer language must be az, ru or en")
	}
	kr := t.s.keyring
	phoneHash := kr.Index(crypto.DomainPhone, o.Phone)
	nameHash := kr.Index(domainOfficerName, officerNameKey(o.Name))
	idx := t.tx.Bucket(bucketOfficerIndex)
	for _, h := range kr.IndexCandidates(crypto.DomainPhone, o.Phone) {
		if idx.Get(h[:]) != nil {
			return o, hotline.Errorf(hotline.ECONFLICT, "another officer already has that phone number")
		}
	}
	if idx.Get(nameHash[:]) != nil {
		return o, hotline.Errorf(hotline.ECONFLICT, "an officer with that name already exists")
	}
	now := t.s.now()
	o.ID = newID(now)
	o.CreatedAt = now
	sealed, err := t.s.seal(bucketOfficers, o.ID, officerSecret{Name: o.Name, Phone: o.Phone})
	if err != nil {
		return o, err
	}
	if err := t.s.putTagged(t.tx.Bucket(bucketOfficers), bucketOfficers, []byte(o.ID), officerRecord{ID: o.ID, Role: o.Role, CreatedAt: now, Lang: o.Lang, Sealed: sealed}); err != nil {
		return o, err
	}
	if err := idx.Put(phoneHash[:], t.s.tagValue(bucketOfficerIndex, phoneHash[:], []byte(o.ID))); err != nil {
		return o, err
	}
	return o, idx.Put(nameHash[:], t.s.tagValue(bucketOfficerIndex, nameHash[:], []byte(o.ID)))
}

// RemoveOfficer deletes an officer and their index entries.
func (t *Tx) RemoveOfficer(id string) error {
	if err := t.writable(); err != nil {
		return err
	}
	o, err := t.Officer(id)
	if err != nil {
		return err
	}
	kr := t.s.keyring
	nameHash := kr.Index(domainOfficerName, officerNameKey(o.Name))
	idx := t.tx.Bucket(bucketOfficerIndex)
	if err := idx.Delete(nameHash[:]); err != nil {
		return err
	}
	for _, phone := range []string{o.Phone, o.PendingPhone} {
		if phone == "" {
			continue
		}
		// Under either index key version while a move is under way.
		for _, h := range kr.IndexCandidates(crypto.DomainPhone, phone) {
			if err := idx.Delete(h[:]); err != nil {
				return err
			}
		}
	}
	return t.tx.Bucket(bucketOfficers).Delete([]byte(id))
}

// Officer returns one officer with name and phone opened.
func (t *Tx) Officer(id string) (hotline.Officer, error) {
	var rec officerRecord
	if err := t.s.getTagged(t.tx.Bucket(bucketOfficers), bucketOfficers, []byte(id), &rec); err != nil {
		if isNotFound(err) {
			return hotline.Officer{}, hotline.Errorf(hotline.ENOTFOUND, "no such officer")
		}
		return hotline.Officer{}, err
	}
	return t.s.openOfficer(rec)
}

func (s *Store) openOfficer(rec officerRecord) (hotline.Officer, error) {
	var sec officerSecret
	if rec.ID == "" {
		return hotline.Officer{}, fmt.Errorf("%w: officer record without an id", ErrTampered)
	}
	if err := s.open(bucketOfficers, rec.ID, rec.Sealed, &sec); err != nil {
		return hotline.Officer{}, err
	}
	return hotline.Officer{ID: rec.ID, Name: sec.Name, Phone: sec.Phone, Role: rec.Role, CreatedAt: rec.CreatedAt, Lang: rec.Lang,
		PendingPhone: sec.PendingPhone, VerifyCode: sec.VerifyCode, VerifyExpires: rec.VerifyExpires}, nil
}

// UpdateOfficer stores o over the officer with its id: name, role, phone
// and a pending number with its code. The name, the phone and the
// pending phone are all indexed, so a text from a number waiting for
// verification reaches the officer's commands (IsOfficerPhone).
func (t *Tx) UpdateOfficer(o hotline.Officer) error {
	if err := t.writable(); err != nil {
		return err
	}
	if strings.TrimSpace(o.Name) == "" || o.Phone == "" || !o.Role.Valid() {
		return hotline.Errorf(hotline.EINVALID, "officer needs a name, a phone number and a role (officer, supervisor or admin)")
	}
	if o.Lang != "" && !o.Lang.Valid() {
		return hotline.Errorf(hotline.EINVALID, "officer language must be az, ru or en")
	}
	old, err := t.Officer(o.ID)
	if err != nil {
		return err
	}
	kr := t.s.keyring
	idx := t.tx.Bucket(bucketOfficerIndex)
	// keys gives the officer's index keys; with every set, under each
	// index key version a move may still have entries under.
	keys := func(x hotline.Officer, every bool) [][]byte {
		name := kr.Index(domainOfficerName, officerNameKey(x.Name))
		out := [][]byte{name[:]}
		for _, phone := range []string{x.Phone, x.PendingPhone} {
			if phone == "" {
				continue
			}
			hashes := kr.IndexCandidates(crypto.DomainPhone, phone)
			if !every {
				hashes = hashes[:1]
			}
			for _, h := range hashes {
				out = append(out, h[:])
			}
		}
		return out
	}
	newKeys := keys(o, false)
	for i, k := range keys(o, true) {
		stored := idx.Get(k)
		if stored == nil {
			continue
		}
		id, err := t.s.checkValue(bucketOfficerIndex, k, stored)
		if err != nil {
			return err
		}
		if string(id) != o.ID {
			if i == 0 {
				return hotline.Errorf(hotline.ECONFLICT, "an officer with that name already exists")
			}
			return hotline.Errorf(hotline.ECONFLICT, "another officer already has that phone number")
		}
	}
	for _, k := range keys(old, true) {
		if err := idx.Delete(k); err != nil {
			return err
		}
	}
	for _, k := range newKeys {
		if err := idx.Put(k, t.s.tagValue(bucketOfficerIndex, k, []byte(o.ID))); err != nil {
			return err
		}
	}
	sealed, err := t.s.seal(bucketOfficers, o.ID, officerSecret{Name: o.Name, Phone: o.Phone, PendingPhone: o.PendingPhone, VerifyCode: o.VerifyCode})
	if err != nil {
		return err
	}
	return t.s.putTagged(t.tx.Bucket(bucketOfficers), bucketOfficers, []byte(o.ID), officerRecord{ID: o.ID, Role: o.Role, CreatedAt: old.CreatedAt, VerifyExpires: o.VerifyExpires, Lang: o.Lang, Sealed: sealed})
}

// Officers lists every officer with names and phones opened, by name.
func (t *Tx) Officers() ([]hotline.Officer, error) {
	var out []hotline.Officer
	err := t.tx.Bucket(bucketOfficers).ForEach(func(k, v []byte) error {
		if err := t.s.checkTag(bucketOfficers, k, v); err != nil {
			return err
		}
		var rec officerRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return err
		}
		o, err := t.s.openOfficer(rec)
		if err != nil {
			return err
		}
		out = append(out, o)
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// OfficerByPhone finds the officer with an E.164 number, if any.
func (t *Tx) OfficerByPhone(phone string) (hotline.Officer, bool, error) {
	for _, h := range t.s.keyring.IndexCandidates(crypto.DomainPhone, phone) {
		if o, ok, err := t.officerByIndex(h); ok || err != nil {
			return o, ok, err
		}
	}
	return hotline.Officer{}, false, nil
}

// OfficerByName finds an officer by name, ignoring case and extra spaces.
func (t *Tx) OfficerByName(name string) (hotline.Officer, bool, error) {
	h := t.s.keyring.Index(domainOfficerName, officerNameKey(name))
	return t.officerByIndex(h)
}

// officerByIndex follows a tagged officer index entry (an entry re-pointed
// at another officer fails its tag).
func (t *Tx) officerByIndex(h crypto.IndexHash) (hotline.Officer, bool, error) {
	stored := t.tx.Bucket(bucketOfficerIndex).Get(h[:])
	if stored == nil {
		return hotline.Officer{}, false, nil
	}
	id, err := t.s.checkValue(bucketOfficerIndex, h[:], stored)
	if err != nil {
		return hotline.Officer{}, false, err
	}
	o, err := t.Officer(string(id))
	return o, err == nil, err
}

// IsOfficerPhone reports whether a number belongs to an officer, without
// opening anything (the hot path of every inbound SMS). An index entry
// that fails its integrity tag is an error: the number was an officer's,
// but which officer cannot be trusted.
func (s *Store) IsOfficerPhone(phone string) (string, bool, error) {
	var id string
	err := s.view(func(tx *bolt.Tx) error {
		// Hashed inside the read: see threadableCase.
		for _, h := range s.keyring.IndexCandidates(crypto.DomainPhone, phone) {
			stored := tx.Bucket(bucketOfficerIndex).Get(h[:])
			if stored == nil {
				continue
			}
			v, err := s.checkValue(bucketOfficerIndex, h[:], stored)
			id = string(v)
			return err
		}
		return nil
	})
	if err != nil {
		return "", false, err
	}
	return id, id != "", nil
}

// --- settings (rota and the like: ids and times only, never names) ---

// Setting returns a stored setting, or nil if it is not set. A setting
// changed outside hotline (it carries an integrity tag) is an error
// wrapping ErrTampered.
func (t *Tx) Setting(key string) ([]byte, error) {
	stored := t.tx.Bucket(bucketSettings).Get([]byte(key))
	if stored == nil {
		return nil, nil
	}
	v, err := t.s.checkValue(bucketSettings, []byte(key), stored)
	return clone(v), err
}

// PutSetting stores a setting. Callers must not put identifying data here.
func (t *Tx) PutSetting(key string, value []byte) error {
	if err := t.writable(); err != nil {
		return err
	}
	return t.tx.Bucket(bucketSettings).Put([]byte(key), t.s.tagValue(bucketSettings, []byte(key), value))
}

// --- alerts ---

func timeKey(at time.Time, id string) []byte {
	k := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(id)), uint64(at.UnixNano()))
	return append(k, id...)
}

// Alert returns an alert by id.
func (t *Tx) Alert(id string) (hotline.Alert, error) {
	var a hotline.Alert
	if err := t.s.getTagged(t.tx.Bucket(bucketAlerts), bucketAlerts, []byte(id), &a); err != nil {
		if isNotFound(err) {
			return a, hotline.Errorf(hotline.ENOTFOUND, "no such alert")
		}
		return a, err
	}
	return a, nil
}

// AlertByNumber returns the alert an officer refers to as "12".
func (t *Tx) AlertByNumber(n int) (hotline.Alert, bool, error) {
	id := t.tx.Bucket(bucketAlertNumbers).Get([]byte(strconv.Itoa(n)))
	if id == nil {
		return hotline.Alert{}, false, nil
	}
	a, err := t.Alert(string(id))
	if err == nil && a.Number != n {
		err = fmt.Errorf("%w: alert number %d points at alert %s, whose number is %d", ErrTampered, n, a.ID, a.Number)
	}
	return a, err == nil, err
}

// OpenAlertForCase returns the case's open alert, if it has one.
func (t *Tx) OpenAlertForCase(caseID string) (hotline.Alert, bool, error) {
	id := t.tx.Bucket(bucketCaseAlerts).Get([]byte(caseID))
	if id == nil {
		return hotline.Alert{}, false, nil
	}
	a, err := t.Alert(string(id))
	if err == nil && a.CaseID != caseID {
		err = fmt.Errorf("%w: case %s points at alert %s, which belongs to case %s", ErrTampered, caseID, a.ID, a.CaseID)
	}
	return a, err == nil, err
}

// Alerts lists every alert, newest first.
func (t *Tx) Alerts() ([]hotline.Alert, error) {
	var out []hotline.Alert
	c := t.tx.Bucket(bucketAlerts).Cursor()
	for k, v := c.Last(); k != nil; k, v = c.Prev() {
		if err := t.s.checkTag(bucketAlerts, k, v); err != nil {
			return nil, err
		}
		var a hotline.Alert
		if err := json.Unmarshal(v, &a); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// PutAlert writes an alert, giving a new one its id and number, and keeps
// the case and timer indexes in step with its state.
func (t *Tx) PutAlert(a *hotline.Alert) error {
	if err := t.writable(); err != nil {
		return err
	}
	alerts := t.tx.Bucket(bucketAlerts)
	timers := t.tx.Bucket(bucketTimers)
	if a.ID == "" {
		a.ID = newID(t.s.now())
		seq, err := t.tx.Bucket(bucketAlertNumbers).NextSequence()
		if err != nil {
			return err
		}
		a.Number = int(seq)
		if err := t.tx.Bucket(bucketAlertNumbers).Put([]byte(strconv.Itoa(a.Number)), []byte(a.ID)); err != nil {
			return err
		}
	} else {
		var old hotline.Alert
		if err := t.s.getTagged(alerts, bucketAlerts, []byte(a.ID), &old); err != nil && !isNotFound(err) {
			return err
		} else if err == nil && !old.NextAt.IsZero() {
			if err := timers.Delete(timeKey(old.NextAt, old.ID)); err != nil {
				return err
			}
		}
	}
	if a.State == hotline.AlertOpen {
		if err := t.tx.Bucket(bucketCaseAlerts).Put([]byte(a.CaseID), []byte(a.ID)); err != nil {
			return err
		}
		if !a.NextAt.IsZero() {
			if err := timers.Put(timeKey(a.NextAt, a.ID), nil); err != nil {
				return err
			}
		}
	} else {
		a.NextAt = time.Time{}
		ca := t.tx.Bucket(bucketCaseAlerts)
		if string(ca.Get([]byte(a.CaseID))) == a.ID {
			if err := ca.Delete([]byte(a.CaseID)); err != nil {
				return err
			}
		}
	}
	return t.s.putTagged(alerts, bucketAlerts, []byte(a.ID), a)
}

// DueAlerts returns ids of open alerts whose next step is due at now.
func (t *Tx) DueAlerts(now time.Time, limit int) []string {
	var ids []string
	c := t.tx.Bucket(bucketTimers).Cursor()
	end := binary.BigEndian.AppendUint64(nil, uint64(now.UnixNano()))
	for k, _ := c.First(); k != nil && bytes.Compare(k[:8], end) <= 0 && len(ids) < limit; k, _ = c.Next() {
		ids = append(ids, string(k[8:]))
	}
	return ids
}

// NextTimer is when the earliest alert step or job try is due (zero: none).
func (s *Store) NextTimer() time.Time {
	var next time.Time
	s.view(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketTimers, bucketJobQueue} {
			if k, _ := tx.Bucket(b).Cursor().First(); k != nil {
				at := time.Unix(0, int64(binary.BigEndian.Uint64(k[:8])))
				if next.IsZero() || at.Before(next) {
					next = at
				}
			}
		}
		return nil
	})
	return next
}

// --- outbox jobs ---

// Job returns an outbox job by id.
func (t *Tx) Job(id string) (hotline.Job, error) {
	var r jobRecord
	if err := t.s.getTagged(t.tx.Bucket(bucketJobs), bucketJobs, []byte(id), &r); err != nil {
		if isNotFound(err) {
			return hotline.Job{}, hotline.Errorf(hotline.ENOTFOUND, "no such job")
		}
		return hotline.Job{}, err
	}
	return r.Job, nil
}

// Jobs lists the jobs of an alert (every job for ""), oldest first.
func (t *Tx) Jobs(alertID string) ([]hotline.Job, error) {
	var out []hotline.Job
	err := t.tx.Bucket(bucketJobs).ForEach(func(k, v []byte) error {
		var r jobRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return err
		}
		if alertID != "" && r.AlertID != alertID {
			return nil
		}
		// Only the jobs returned are checked: the tag of a job of another
		// alert does not matter here, and checking every job would make
		// each acknowledgement cost a pass over the whole outbox.
		if err := t.s.checkTag(bucketJobs, k, v); err != nil {
			return err
		}
		out = append(out, r.Job)
		return nil
	})
	return out, err
}

// PutJob writes a job, giving a new one its id, and keeps the queue index
// (pending jobs by next try time) in step.
func (t *Tx) PutJob(j *hotline.Job) error {
	if err := t.writable(); err != nil {
		return err
	}
	jobs := t.tx.Bucket(bucketJobs)
	queue := t.tx.Bucket(queueBucket(j.Kind))
	now := t.s.now()
	var rec jobRecord
	if j.ID == "" {
		j.ID = newID(now)
		j.CreatedAt = now
	} else if err := t.s.getTagged(jobs, bucketJobs, []byte(j.ID), &rec); err != nil && !isNotFound(err) {
		return err
	} else if err == nil && rec.State == hotline.JobPending {
		if err := queue.Delete(timeKey(rec.NextTryAt, rec.ID)); err != nil {
			return err
		}
	}
	j.UpdatedAt = now
	if j.State == hotline.JobPending {
		if j.NextTryAt.IsZero() {
			j.NextTryAt = now
		}
		if err := queue.Put(timeKey(j.NextTryAt, j.ID), nil); err != nil {
			return err
		}
	}
	rec.Job = *j
	return t.s.putTagged(jobs, bucketJobs, []byte(j.ID), rec)
}

// SetJobSID records Twilio's SID for a job, sealed, with a keyed hash so
// status callbacks find the job.
func (t *Tx) SetJobSID(j *hotline.Job, sid string) error {
	if err := t.writable(); err != nil {
		return err
	}
	var rec jobRecord
	if err := t.s.getTagged(t.tx.Bucket(bucketJobs), bucketJobs, []byte(j.ID), &rec); err != nil {
		return err
	}
	sealed, err := t.s.seal(bucketJobs, j.ID+"/sid", sid)
	if err != nil {
		return err
	}
	h := t.s.keyring.Index(crypto.DomainTwilioSID, sid)
	if err := t.tx.Bucket(bucketSIDJobs).Put(h[:], []byte(j.ID)); err != nil {
		return err
	}
	j.HasSID = true
	j.UpdatedAt = t.s.now()
	rec.Job = *j
	rec.SealedSID = sealed
	return t.s.putTagged(t.tx.Bucket(bucketJobs), bucketJobs, []byte(j.ID), rec)
}

// JobBySID finds the job a Twilio SID belongs to.
func (t *Tx) JobBySID(sid string) (hotline.Job, bool, error) {
	var id []byte
	for _, h := range t.s.keyring.IndexCandidates(crypto.DomainTwilioSID, sid) {
		if id = t.tx.Bucket(bucketSIDJobs).Get(h[:]); id != nil {
			break
		}
	}
	if id == nil {
		return hotline.Job{}, false, nil
	}
	j, err := t.Job(string(id))
	return j, err == nil, err
}

// DueJobs returns pending jobs whose next try is due at now. A queued job
// whose record is missing or fails its check is left out and named in the
// error, so one bad record does not hold up the others.
func (t *Tx) DueJobs(now time.Time, limit int) ([]hotline.Job, error) {
	var out []hotline.Job
	var bad []error
	c := t.tx.Bucket(bucketJobQueue).Cursor()
	end := binary.BigEndian.AppendUint64(nil, uint64(now.UnixNano()))
	for k, _ := c.First(); k != nil && bytes.Compare(k[:8], end) <= 0 && len(out) < limit; k, _ = c.Next() {
		j, err := t.Job(string(k[8:]))
		if err != nil {
			bad = append(bad, fmt.Errorf("queued job %s: %w", keyName(k[8:]), err))
			continue
		}
		out = append(out, j)
	}
	return out, errors.Join(bad...)
}

// JobsInState lists jobs in a state (used at start-up to find jobs a crash
// left in flight). A job that fails its check is left out and named in the
// error; the others are returned.
func (t *Tx) JobsInState(state hotline.JobState) ([]hotline.Job, error) {
	var out []hotline.Job
	var bad []error
	err := t.tx.Bucket(bucketJobs).ForEach(func(k, v []byte) error {
		var r jobRecord
		if err := json.Unmarshal(v, &r); err != nil {
			bad = append(bad, fmt.Errorf("job %s: %w", keyName(k), err))
			return nil
		}
		if r.State != state {
			return nil
		}
		if err := t.s.checkTag(bucketJobs, k, v); err != nil {
			bad = append(bad, err)
			return nil
		}
		out = append(out, r.Job)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, errors.Join(bad...)
}
