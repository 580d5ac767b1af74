package store

import (
	"encoding/json"
	"errors"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hotline-az/hotline"
)

// bucketAlertPending holds cases whose alert could not be opened when
// their tip was stored (case id → PendingAlert). It is tiny: empty unless
// the alert path is failing.
var bucketAlertPending = []byte("alert_pending")

// PendingAlert marks a case whose alert failed to open when its tip was
// stored (a rota that did not load, an officer record that did not open).
// The tip itself is stored; the alert worker retries opening the alert
// with backoff until it succeeds. It lives in the data file, so a restart
// does not forget it.
type PendingAlert struct {
	CaseID string `json:"case_id"`
	// CaseCode is the case's reference, for the log.
	CaseCode string `json:"case_code"`
	// NewCase is true when the failed tip opened the case; otherwise it
	// raised the case's priority.
	NewCase bool         `json:"new_case"`
	Lang    hotline.Lang `json:"lang"`
	// Since is when the first attempt failed.
	Since     time.Time `json:"since"`
	Tries     int       `json:"tries"`
	NextTryAt time.Time `json:"next_try_at"`
	// LastError is the last failure, as safe text (never tip content).
	LastError string `json:"last_error"`
}

// maxPendingError bounds the stored error text.
const maxPendingError = 300

// markAlertPending writes p, merging it into a mark the case already has
// (the earlier Since stays, tries and schedule are kept).
func (s *Store) markAlertPending(tx *bolt.Tx, p PendingAlert) error {
	b := tx.Bucket(bucketAlertPending)
	var old PendingAlert
	if err := s.getTagged(b, bucketAlertPending, []byte(p.CaseID), &old); err == nil {
		p.Since, p.Tries, p.NextTryAt, p.NewCase = old.Since, old.Tries, old.NextTryAt, old.NewCase || p.NewCase
	}
	return s.putPending(b, p)
}

func (s *Store) putPending(b *bolt.Bucket, p PendingAlert) error {
	if len(p.LastError) > maxPendingError {
		p.LastError = p.LastError[:maxPendingError]
	}
	return s.putTagged(b, bucketAlertPending, []byte(p.CaseID), p)
}

// AlertFailures counts tips whose alert failed to open when they were
// stored (since the store was opened). Each left an alert-pending mark.
func (s *Store) AlertFailures() uint64 { return s.alertFailures.Load() }

// AlertPending returns the case's pending-alert mark, if it has one.
func (t *Tx) AlertPending(caseID string) (PendingAlert, bool, error) {
	var p PendingAlert
	err := t.s.getTagged(t.tx.Bucket(bucketAlertPending), bucketAlertPending, []byte(caseID), &p)
	if isNotFound(err) {
		return p, false, nil
	}
	return p, err == nil, err
}

// PutAlertPending stores a pending-alert mark as given (the worker records
// each failed retry with it).
func (t *Tx) PutAlertPending(p PendingAlert) error {
	if err := t.writable(); err != nil {
		return err
	}
	return t.s.putPending(t.tx.Bucket(bucketAlertPending), p)
}

// ClearAlertPending removes the case's mark, if any: its alert is open.
func (t *Tx) ClearAlertPending(caseID string) error {
	if err := t.writable(); err != nil {
		return err
	}
	b := t.tx.Bucket(bucketAlertPending)
	if b.Get([]byte(caseID)) == nil {
		return nil
	}
	return b.Delete([]byte(caseID))
}

// DueAlertsPending returns the marks whose next try is due at now, in
// case id order, at most limit. A mark that fails its integrity check is
// left out and named in the error (never silently dropped); the others
// are returned.
func (t *Tx) DueAlertsPending(now time.Time, limit int) ([]PendingAlert, error) {
	var out []PendingAlert
	var bad []error
	c := t.tx.Bucket(bucketAlertPending).Cursor()
	for k, v := c.First(); k != nil && len(out) < limit; k, v = c.Next() {
		var p PendingAlert
		if err := t.s.checkTag(bucketAlertPending, k, v); err != nil {
			bad = append(bad, err)
			continue
		}
		if err := json.Unmarshal(v, &p); err != nil {
			bad = append(bad, err)
			continue
		}
		if !p.NextTryAt.After(now) {
			out = append(out, p)
		}
	}
	return out, errors.Join(bad...)
}

func isNotFound(err error) bool {
	he, ok := err.(*hotline.Error)
	return ok && he.Code == hotline.ENOTFOUND
}

// AlertsPendingCount is how many cases wait for their alert to open: one
// read of a small bucket, cheap enough for every metrics scrape (the other
// counts are cached; this one must not lag behind a failing alert path).
func (s *Store) AlertsPendingCount() (int, error) {
	n := 0
	err := s.view(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketAlertPending).Stats().KeyN
		return nil
	})
	return n, err
}
