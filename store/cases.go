package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/crypto"
)

// caseRecord is a case as stored: plaintext metadata plus one sealed
// envelope holding the identifying fields, ending in an integrity tag
// (putTagged) so its priority or status cannot be changed without a key.
type caseRecord struct {
	ID        string             `json:"id"`
	Code      string             `json:"code"`
	Channel   hotline.Channel    `json:"channel"`
	Lang      hotline.Lang       `json:"lang"`
	Priority  hotline.Priority   `json:"priority"`
	Category  hotline.Category   `json:"category"`
	Status    hotline.CaseStatus `json:"status"`
	OpenedAt  time.Time          `json:"opened_at"`
	UpdatedAt time.Time          `json:"updated_at"`
	Messages  int                `json:"messages"`
	Sealed    []byte             `json:"sealed"` // sealed caseSecret
	// NumberDropped: retention removed the reporter's number from Sealed
	// (the keyed hash still threads their texts).
	NumberDropped bool `json:"number_dropped,omitempty"`
}

type caseSecret struct {
	Phone string `json:"phone"`
}

// messageBound marks a message record whose case and metadata are bound
// into its sealed body (schema 2). Records without it were written by
// schema 1 and are rewritten when the file is migrated.
const messageBound = 2

// messageRecord is a message as stored. The plaintext fields stay
// readable without a key (stats), and all of them, with the case, are
// bound into the sealed body's additional data (messageBinding).
type messageRecord struct {
	ID        string            `json:"id"`
	CaseID    string            `json:"case_id,omitempty"`
	Direction hotline.Direction `json:"direction"`
	Channel   hotline.Channel   `json:"channel"`
	At        time.Time         `json:"at"`
	Lang      hotline.Lang      `json:"lang"`
	Priority  hotline.Priority  `json:"priority"`
	Category  hotline.Category  `json:"category"`
	Bound     int               `json:"bound,omitempty"`
	Sealed    []byte            `json:"sealed"` // sealed messageSecret
}

type messageSecret struct {
	Body      string   `json:"body"`
	Matched   []string `json:"matched"`
	TwilioSID string   `json:"twilio_sid,omitempty"`
}

// messageBinding is what a message's sealed body is bound to besides its
// bucket: its case, its id and every plaintext field. Moving the message
// to another case, or editing its time, priority or category, makes the
// body fail to open.
func messageBinding(caseID string, m messageRecord) string {
	return bindKey("case", caseID, "message", m.ID, string(m.Direction), string(m.Channel),
		strconv.FormatInt(m.At.UnixNano(), 10), string(m.Lang), string(m.Priority), string(m.Category))
}

// sealMessage binds m to caseID and seals secret (a marshalled
// messageSecret) into it, returning the record's stored value.
func (s *Store) sealMessage(caseID string, m messageRecord, secret []byte) ([]byte, error) {
	m.CaseID, m.Bound = caseID, messageBound
	sealed, err := s.keyring.Seal(string(bucketMessages), messageBinding(caseID, m), secret)
	if err != nil {
		return nil, err
	}
	m.Sealed = sealed
	return json.Marshal(m)
}

// openMessage opens a message found under key in the messages bucket
// through caseID's index. Every way the record can disagree with where it
// was found is an ErrTampered that names the message and the cases.
func (s *Store) openMessage(caseID string, key []byte, m messageRecord) (messageSecret, error) {
	var sec messageSecret
	switch {
	case m.ID != string(key):
		return sec, fmt.Errorf("%w: the message record under %s names itself %s", ErrTampered, keyName(key), m.ID)
	case m.Bound != messageBound:
		return sec, fmt.Errorf("%w: message %s of case %s is not bound to its case (a schema 1 record in a migrated file)", ErrTampered, m.ID, caseID)
	case m.CaseID != caseID:
		return sec, fmt.Errorf("%w: message %s is filed under case %s but was written for case %s (moved between cases)", ErrTampered, m.ID, caseID, m.CaseID)
	}
	b, err := s.keyring.Open(string(bucketMessages), messageBinding(caseID, m), m.Sealed)
	if errors.Is(err, crypto.ErrDecrypt) {
		return sec, fmt.Errorf("%w: message %s does not open as a message of case %s: its case or its time, priority, category, language, channel or direction were changed", ErrTampered, m.ID, caseID)
	}
	if err != nil {
		return sec, fmt.Errorf("open message %s: %w", m.ID, err)
	}
	return sec, json.Unmarshal(b, &sec)
}

// dedupRecord remembers a Twilio SID we already accepted, so a retried
// webhook gets the same answer and writes nothing.
type dedupRecord struct {
	CaseID    string       `json:"case_id"`
	MessageID string       `json:"message_id"`
	Lang      hotline.Lang `json:"lang"`
	// Command marks an officer's SMS command (no case, no message).
	Command bool `json:"command,omitempty"`
}

// InboundSMS is one SMS from a reporter, already normalised and triaged.
type InboundSMS struct {
	MessageSID string
	From       string // E.164
	Body       string
	Triage     hotline.Triage
	// Window is how long after its last message a case takes new texts.
	Window time.Duration
	// RedactAtTwilio queues, with the tip, the job that blanks its body at
	// Twilio (QueueRedaction).
	RedactAtTwilio bool
}

// InboundResult says what RecordInboundSMS did.
type InboundResult struct {
	Case      hotline.Case
	MessageID string
	// Lang is the language to answer this message in.
	Lang hotline.Lang
	// Duplicate is true when the SID was seen before; nothing was written.
	Duplicate bool
	// NewCase is true when the message opened a new case.
	NewCase bool
	// PreviousPriority is the case's priority before this message ("" for
	// a new case), so alerting can tell a rise.
	PreviousPriority hotline.Priority
	// AlertPending is true when the hook failed: the tip was stored without
	// what the hook writes, with a mark the alert worker retries
	// (Tx.DueAlertsPending). AlertError says why (safe to log: it never
	// carries tip content).
	AlertPending bool
	AlertError   error
}

// InboundHook runs inside the transaction that records an inbound message,
// after the case and message are written, so follow-up rows (alerts,
// outbox) commit atomically with the tip. It is not called for duplicates.
// If it fails (or panics), the tip is stored without its writes and with
// an "alert pending" mark instead: a side effect never costs a tip.
type InboundHook func(tx *Tx, res *InboundResult) error

// Tx is a write transaction handed to hooks. It exposes hotline-level
// operations, never raw buckets.
type Tx struct {
	s  *Store
	tx *bolt.Tx
}

// codeAlphabet leaves out look-alikes (0/O, 1/I/L, 2/Z, 5/S, 8/B, 6/G, U/V)
// so a reporter can read a code over a bad line.
const codeAlphabet = "ACDEFHJKMNPQRTWXY34679"

// CodeAlphabet is every character a case code may hold: the alert call
// has a prompt for each (intake/prompts letter_* and digit_*).
const CodeAlphabet = codeAlphabet

// CodeLength is the length of a case reference: 22^6 ≈ 113 million codes.
const CodeLength = 6

// idSeq orders ids made at the same instant (a coarse or fake clock).
var idSeq atomic.Uint32

// newID returns a sortable, unique id: 8 bytes of time, 4 of a sequence,
// 4 random, hex-encoded. Ids are generated before the transaction so
// sealing (which binds the id) happens outside it.
func newID(now time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixNano()))
	binary.BigEndian.PutUint32(b[8:12], idSeq.Add(1))
	if _, err := rand.Read(b[12:]); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return hex.EncodeToString(b[:])
}

func newCode() string {
	var b [CodeLength]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	// 256 % 22 bias is under 1%; irrelevant for a reference code.
	for i := range b {
		b[i] = codeAlphabet[int(b[i])%len(codeAlphabet)]
	}
	return string(b[:])
}

// RecordInboundSMS threads an SMS into the reporter's open case (or opens
// one), stores the message sealed, runs hook in the same transaction and
// returns once all of it is fsynced. A MessageSid seen before is answered
// from the first recording and writes nothing. If hook fails, the tip is
// stored anyway with an alert-pending mark (see InboundResult.AlertPending).
func (s *Store) RecordInboundSMS(ctx context.Context, in InboundSMS, hook InboundHook) (InboundResult, error) {
	if in.MessageSID == "" || in.From == "" {
		return InboundResult{}, hotline.Errorf(hotline.EINVALID, "message sid and sender are required")
	}
	p := inboundPlan{in: in, now: s.now()}
	p.sidHash = s.keyring.Index(crypto.DomainTwilioSID, in.MessageSID)
	p.phoneHash = s.keyring.Index(crypto.DomainPhone, in.From)

	// Fast path for retries without taking a write slot.
	for _, h := range s.keyring.IndexCandidates(crypto.DomainTwilioSID, in.MessageSID) {
		if res, ok, err := s.lookupDedup(h); err != nil {
			return InboundResult{}, err
		} else if ok {
			return res, nil
		}
	}
	if err := s.prepareInbound(&p); err != nil {
		return InboundResult{}, err
	}
	res, err := s.recordInbound(ctx, &p, hook, nil)
	var failed *hookFailure
	if !errors.As(err, &failed) {
		return res, err
	}
	// The hook's writes were rolled back with the whole attempt: store the
	// tip alone, marked for the alert worker, in one new transaction.
	res, err = s.recordInbound(ctx, &p, nil, failed.err)
	if err != nil {
		return InboundResult{}, err
	}
	if !res.Duplicate {
		res.AlertPending, res.AlertError = true, failed.err
		s.alertFailures.Add(1)
	}
	return res, nil
}

// inboundPlan is what RecordInboundSMS prepares outside the single writer:
// hashes, ids, and the message sealed for the case it will most likely
// join.
type inboundPlan struct {
	in                 InboundSMS
	now                time.Time
	sidHash, phoneHash crypto.IndexHash
	lang               hotline.Lang
	msg                messageRecord // without case and seal
	secret             []byte        // the marshalled messageSecret
	newCaseID          string
	caseSealed         []byte // the reporter's number, sealed for newCaseID
	// sealedFor is the case msgValue is bound to.
	sealedFor string
	msgValue  []byte
}

// prepareInbound seals outside the transaction. The message is bound to
// its case, which is only certain inside the transaction, so it is sealed
// for the case a read-only look predicts (the reporter's open case, or a
// new one); recordInbound re-seals in the rare race where that changed.
func (s *Store) prepareInbound(p *inboundPlan) error {
	p.lang = p.in.Triage.Lang
	if !p.lang.Valid() {
		p.lang = hotline.LangAz
	}
	p.msg = messageRecord{
		ID: newID(p.now), Direction: hotline.Inbound, Channel: hotline.ChannelSMS, At: p.now,
		Lang: p.lang, Priority: p.in.Triage.Priority, Category: p.in.Triage.Category,
	}
	var err error
	p.secret, err = json.Marshal(messageSecret{Body: p.in.Body, Matched: p.in.Triage.Matched, TwilioSID: p.in.MessageSID})
	if err != nil {
		return err
	}
	p.newCaseID = newID(p.now)
	if p.caseSealed, err = s.seal(bucketCases, p.newCaseID, caseSecret{Phone: p.in.From}); err != nil {
		return err
	}
	p.sealedFor = p.newCaseID
	s.view(func(tx *bolt.Tx) error {
		for _, h := range s.keyring.IndexCandidates(crypto.DomainPhone, p.in.From) {
			if id, ok := s.predictCase(tx, h); ok {
				p.sealedFor = id
				break
			}
		}
		return nil
	})
	p.msgValue, err = s.sealMessage(p.sealedFor, p.msg, p.secret)
	return err
}

// predictCase guesses, outside the writer, which case threadableCase
// will pick: the case the reporter's index entry names. It reads no case
// record and checks no tag (decoding the case to see whether it is still
// open and recent cost more than the rare wrong guess, which only costs a
// re-seal in the writer: the first text after a case closed or went
// quiet).
func (s *Store) predictCase(tx *bolt.Tx, phoneHash crypto.IndexHash) (string, bool) {
	stored := tx.Bucket(bucketReporters).Get(phoneHash[:])
	if len(stored) <= macLen {
		return "", false
	}
	return string(stored[:len(stored)-macLen]), true
}

// threadableCase returns the reporter's case if new texts still join it:
// open, written to within window, and intact. A case that fails its
// integrity check is not joined: the tip opens a new case, and the log
// says why. While an index move is under way the number's entry may be
// under either index key version, so both are tried (in the transaction,
// where the keyring cannot change under the move).
func (s *Store) threadableCase(tx *bolt.Tx, phone string, now time.Time, window time.Duration) (caseRecord, bool) {
	var c caseRecord
	var phoneHash crypto.IndexHash
	var stored []byte
	for _, h := range s.keyring.IndexCandidates(crypto.DomainPhone, phone) {
		if stored = tx.Bucket(bucketReporters).Get(h[:]); stored != nil {
			phoneHash = h
			break
		}
	}
	if stored == nil {
		return c, false
	}
	id, err := s.checkValue(bucketReporters, phoneHash[:], stored)
	if err == nil {
		cases := tx.Bucket(bucketCases)
		var known bool
		if c, known = s.commits.cases.get(id, cases.Get(id)); !known {
			err = s.getTagged(cases, bucketCases, id, &c)
		}
	}
	if err != nil {
		s.log.Error().Err(err).Msg("the reporter's case cannot be trusted; the tip opens a new case")
		return c, false
	}
	return c, c.Status == hotline.CaseOpen && now.Sub(c.UpdatedAt) < window
}

// writtenCases is the single writer's memory of the case records it last
// stored: the exact bytes and the record they encode. A case read back
// byte for byte as the writer stored it needs neither its tag checked
// again (the same bytes under the same key carry the tag the writer
// computed) nor decoding; any other bytes (a change by another write, an
// edit outside hotline, a write rolled back) are checked and decoded as
// usual. It holds case metadata only (the reporter's number stays sealed)
// and starts over past maxWrittenCases. Only the writer goroutine (inside
// a write transaction's function) touches it.
type writtenCases map[string]writtenCase

type writtenCase struct {
	stored []byte
	rec    caseRecord
}

// maxWrittenCases bounds the writer's memory of cases (a few MB).
const maxWrittenCases = 4096

// get returns the record the writer stored as stored under id, if it did.
func (w writtenCases) get(id, stored []byte) (caseRecord, bool) {
	wc, ok := w[string(id)]
	if !ok || stored == nil || !bytes.Equal(wc.stored, stored) {
		return caseRecord{}, false
	}
	return wc.rec, true
}

// put remembers that c was stored as stored (which must not change after).
// Times lose their monotonic reading, as a decoded record has none.
func (w *writtenCases) put(c caseRecord, stored []byte) {
	if *w == nil || len(*w) >= maxWrittenCases {
		*w = writtenCases{}
	}
	c.OpenedAt, c.UpdatedAt = c.OpenedAt.Round(0), c.UpdatedAt.Round(0)
	(*w)[c.ID] = writtenCase{stored: stored, rec: c}
}

// recordInbound is one write of a prepared tip. With hookErr set it runs
// no hook and marks the case's alert pending, recording why.
func (s *Store) recordInbound(ctx context.Context, p *inboundPlan, hook InboundHook, hookErr error) (InboundResult, error) {
	var res InboundResult
	err := s.update(ctx, func(btx *bolt.Tx) error {
		res = InboundResult{}
		for _, h := range s.keyring.IndexCandidates(crypto.DomainTwilioSID, p.in.MessageSID) {
			if rec, ok := s.dedup.lookupInTx(h); ok {
				d, err := s.dedupResult(btx, rec)
				res = d
				return err
			}
		}
		// Hashed again here: an index rotation may have been adopted
		// since the plan was made.
		p.sidHash = s.keyring.Index(crypto.DomainTwilioSID, p.in.MessageSID)
		p.phoneHash = s.keyring.Index(crypto.DomainPhone, p.in.From)
		now := p.now
		c, found := s.threadableCase(btx, p.in.From, now, p.in.Window)
		if !found {
			code, err := uniqueCode(btx)
			if err != nil {
				return err
			}
			c = caseRecord{
				ID: p.newCaseID, Code: code, Channel: hotline.ChannelSMS,
				Lang: p.lang, Priority: p.in.Triage.Priority, Category: p.in.Triage.Category,
				Status: hotline.CaseOpen, OpenedAt: now, Sealed: p.caseSealed,
			}
			if err := btx.Bucket(bucketCaseCodes).Put([]byte(code), []byte(c.ID)); err != nil {
				return err
			}
			if err := btx.Bucket(bucketReporters).Put(p.phoneHash[:], s.tagValue(bucketReporters, p.phoneHash[:], []byte(c.ID))); err != nil {
				return err
			}
			res.NewCase = true
		} else {
			res.PreviousPriority = c.Priority
			c.Priority = c.Priority.Max(p.in.Triage.Priority)
			if p.in.Triage.Priority.Rank() >= c.Priority.Rank() && p.in.Triage.Category != hotline.CategoryNone && p.in.Triage.Category != "" {
				c.Category = p.in.Triage.Category
			}
		}
		c.Messages++
		c.UpdatedAt = now
		caseValue, err := s.tagJSON(bucketCases, []byte(c.ID), c)
		if err != nil {
			return err
		}
		if err := btx.Bucket(bucketCases).Put([]byte(c.ID), caseValue); err != nil {
			return err
		}
		s.commits.cases.put(c, caseValue)
		msgValue := p.msgValue
		if p.sealedFor != c.ID {
			// The prediction missed (another text from the same number
			// opened the case meanwhile): bind the message to its real case.
			v, err := s.sealMessage(c.ID, p.msg, p.secret)
			if err != nil {
				return err
			}
			msgValue = v
		}
		// Message ids grow with time, so new messages append at the end of
		// the bucket (few dirty pages per commit); the small index keeps a
		// case's messages together.
		if err := btx.Bucket(bucketMessages).Put([]byte(p.msg.ID), msgValue); err != nil {
			return err
		}
		// The index entry sorts right after its case record (the case id is
		// its prefix), so both usually land on the same page.
		if err := btx.Bucket(bucketCases).Put(messageKey(c.ID, p.msg.ID), nil); err != nil {
			return err
		}
		if err := s.dedup.put(btx, now, p.sidHash, dedupRecord{CaseID: c.ID, MessageID: p.msg.ID, Lang: p.lang}); err != nil {
			return err
		}
		if p.in.RedactAtTwilio {
			if err := (&Tx{s: s, tx: btx}).QueueRedaction(c.ID, p.msg.ID); err != nil {
				return err
			}
		}
		res.Case = c.domain()
		res.MessageID = p.msg.ID
		res.Lang = p.lang
		if hookErr != nil {
			return s.markAlertPending(btx, PendingAlert{
				CaseID: c.ID, CaseCode: c.Code, NewCase: res.NewCase, Lang: p.lang, Since: now, NextTryAt: now, LastError: hookErr.Error(),
			})
		}
		if hook != nil {
			return runHook(hook, &Tx{s: s, tx: btx}, &res)
		}
		return nil
	})
	if err != nil {
		return InboundResult{}, err
	}
	return res, nil
}

// hookFailure carries an inbound hook's error out of the transaction, so
// RecordInboundSMS can tell it from a failure to store.
type hookFailure struct{ err error }

func (h *hookFailure) Error() string { return "inbound hook: " + h.err.Error() }
func (h *hookFailure) Unwrap() error { return h.err }

// runHook runs hook, turning an error or a panic into a hookFailure: a bug
// on the alert path must not take down the single writer (and every tip
// with it).
func runHook(hook InboundHook, tx *Tx, res *InboundResult) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &hookFailure{fmt.Errorf("panic: %v", v)}
		}
	}()
	if err := hook(tx, res); err != nil {
		return &hookFailure{err}
	}
	return nil
}

func (s *Store) lookupDedup(sidHash crypto.IndexHash) (InboundResult, bool, error) {
	rec, ok := s.dedup.lookup(sidHash)
	if !ok {
		return InboundResult{}, false, nil
	}
	if rec.Command {
		// An officer's command whose sender is no longer an officer:
		// it was handled once, it is not a tip now.
		return InboundResult{Duplicate: true}, true, nil
	}
	var res InboundResult
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		res, err = s.dedupResult(tx, rec)
		return err
	})
	return res, true, err
}

// dedupResult answers a retried SID from its first recording. The log
// entry is not tagged (it is rebuilt into memory at every start, where
// checking a million tags would slow the start): instead the case must be
// intact and still index the message the entry names.
func (s *Store) dedupResult(tx *bolt.Tx, d dedupRecord) (InboundResult, error) {
	var c caseRecord
	cases := tx.Bucket(bucketCases)
	if err := s.getTagged(cases, bucketCases, []byte(d.CaseID), &c); err != nil {
		return InboundResult{}, err
	}
	if !hasKey(cases, messageKey(d.CaseID, d.MessageID)) {
		return InboundResult{}, fmt.Errorf("%w: the dedup log names message %s of case %s, which the case does not hold", ErrTampered, d.MessageID, d.CaseID)
	}
	return InboundResult{Case: c.domain(), MessageID: d.MessageID, Lang: d.Lang, Duplicate: true}, nil
}

func uniqueCode(tx *bolt.Tx) (string, error) {
	codes := tx.Bucket(bucketCaseCodes)
	for range 20 {
		code := newCode()
		if codes.Get([]byte(code)) == nil {
			return code, nil
		}
	}
	return "", errors.New("could not find a free case code after 20 tries")
}

func (c caseRecord) domain() hotline.Case {
	return hotline.Case{
		ID: c.ID, Code: c.Code, Channel: c.Channel, Lang: c.Lang, Priority: c.Priority,
		Category: c.Category, Status: c.Status, OpenedAt: c.OpenedAt, UpdatedAt: c.UpdatedAt, Messages: c.Messages,
	}
}

// seal marshals v and seals it bound to bucket and id.
func (s *Store) seal(bucket []byte, id string, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return s.keyring.Seal(string(bucket), id, b)
}

// open is seal's inverse.
func (s *Store) open(bucket []byte, id string, envelope []byte, v any) error {
	b, err := s.keyring.Open(string(bucket), id, envelope)
	if err != nil {
		return fmt.Errorf("open sealed %s record: %w", bucket, err)
	}
	return json.Unmarshal(b, v)
}

// CaseByCode returns a case with its reporter's number opened.
func (s *Store) CaseByCode(code string) (hotline.Case, error) {
	var c caseRecord
	err := s.view(func(tx *bolt.Tx) error {
		id := tx.Bucket(bucketCaseCodes).Get([]byte(code))
		if id == nil {
			return hotline.Errorf(hotline.ENOTFOUND, "no case with code %s", code)
		}
		if err := s.getTagged(tx.Bucket(bucketCases), bucketCases, id, &c); err != nil {
			return err
		}
		if c.Code != code {
			return fmt.Errorf("%w: case code %s points at case %s, whose code is %s", ErrTampered, code, c.ID, c.Code)
		}
		return nil
	})
	if err != nil {
		return hotline.Case{}, err
	}
	var sec caseSecret
	if err := s.open(bucketCases, c.ID, c.Sealed, &sec); err != nil {
		return hotline.Case{}, err
	}
	out := c.domain()
	out.ReporterPhone = sec.Phone
	return out, nil
}

// CaseMessages returns a case's messages, oldest first, with bodies opened.
// A message that does not belong to the case (moved there by someone who
// could write the file) or whose metadata was edited fails with an error
// wrapping ErrTampered that names it.
func (s *Store) CaseMessages(caseID string) ([]hotline.Message, error) {
	var out []hotline.Message
	err := s.view(func(tx *bolt.Tx) error {
		var c caseRecord
		if err := s.getTagged(tx.Bucket(bucketCases), bucketCases, []byte(caseID), &c); err != nil {
			return err
		}
		cur := tx.Bucket(bucketCases).Cursor()
		msgs := tx.Bucket(bucketMessages)
		prefix := []byte(caseID + "/")
		for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
			id := k[len(prefix):]
			var m messageRecord
			if err := getJSON(msgs, id, &m); err != nil {
				return fmt.Errorf("message %s of case %s: %w", keyName(id), caseID, err)
			}
			sec, err := s.openMessage(caseID, id, m)
			if err != nil {
				return err
			}
			out = append(out, hotline.Message{
				ID: m.ID, CaseID: caseID, Direction: m.Direction, Channel: m.Channel, At: m.At,
				Lang: m.Lang, Priority: m.Priority, Category: m.Category, Body: sec.Body, Matched: sec.Matched,
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// messageKey indexes a message under its case in the cases bucket.
func messageKey(caseID, msgID string) []byte { return []byte(caseID + "/" + msgID) }

// isIndexKey tells index entries from case records in the cases bucket.
func isIndexKey(k []byte) bool { return bytes.IndexByte(k, '/') >= 0 }

// hasKey reports whether key exists in b (Get cannot tell a missing key
// from an empty value, which index entries have).
func hasKey(b *bolt.Bucket, key []byte) bool {
	k, _ := b.Cursor().Seek(key)
	return bytes.Equal(k, key)
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}

func getJSON(b *bolt.Bucket, key []byte, v any) error {
	data := b.Get(key)
	if data == nil {
		return hotline.Errorf(hotline.ENOTFOUND, "record not found")
	}
	return json.Unmarshal(data, v)
}

func notFound(bucket []byte) error {
	return hotline.Errorf(hotline.ENOTFOUND, "no such %s record", bucket)
}

// Case returns a case's metadata (nothing sealed is opened).
func (t *Tx) Case(id string) (hotline.Case, error) {
	var c caseRecord
	if err := t.s.getTagged(t.tx.Bucket(bucketCases), bucketCases, []byte(id), &c); err != nil {
		return hotline.Case{}, err
	}
	return c.domain(), nil
}

// ListCases returns every case's metadata, newest first, without opening
// anything sealed. A case that fails its integrity check is left out and
// named in the error (wrapping ErrTampered); the others are still
// returned, so one damaged record does not hide the queue.
func (s *Store) ListCases() ([]hotline.Case, error) {
	var out []hotline.Case
	var bad []error
	err := s.view(func(tx *bolt.Tx) error {
		cur := tx.Bucket(bucketCases).Cursor()
		for k, v := cur.Last(); k != nil; k, v = cur.Prev() {
			if isIndexKey(k) {
				continue
			}
			if err := s.checkTag(bucketCases, k, v); err != nil {
				bad = append(bad, err)
				continue
			}
			var c caseRecord
			if err := json.Unmarshal(v, &c); err != nil {
				return fmt.Errorf("case record: %w", err)
			}
			out = append(out, c.domain())
		}
		return nil
	})
	if err != nil {
		return out, err
	}
	return out, errors.Join(bad...)
}
