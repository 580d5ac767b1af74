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
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/crypto"
)

// caseRecord is a case as stored: plaintext metadata plus one sealed
// envelope holding the identifying fields.
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
}

type caseSecret struct {
	Phone string `json:"phone"`
}

// messageRecord is a message as stored.
type messageRecord struct {
	ID        string            `json:"id"`
	Direction hotline.Direction `json:"direction"`
	Channel   hotline.Channel   `json:"channel"`
	At        time.Time         `json:"at"`
	Lang      hotline.Lang      `json:"lang"`
	Priority  hotline.Priority  `json:"priority"`
	Category  hotline.Category  `json:"category"`
	Sealed    []byte            `json:"sealed"` // sealed messageSecret
}

type messageSecret struct {
	Body      string   `json:"body"`
	Matched   []string `json:"matched"`
	TwilioSID string   `json:"twilio_sid,omitempty"`
}

// dedupRecord remembers a Twilio SID we already accepted, so a retried
// webhook gets the same answer and writes nothing.
type dedupRecord struct {
	CaseID    string       `json:"case_id"`
	MessageID string       `json:"message_id"`
	Lang      hotline.Lang `json:"lang"`
}

// InboundSMS is one SMS from a reporter, already normalised and triaged.
type InboundSMS struct {
	MessageSID string
	From       string // E.164
	Body       string
	Triage     hotline.Triage
	// Window is how long after its last message a case takes new texts.
	Window time.Duration
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
}

// InboundHook runs inside the transaction that records an inbound message,
// after the case and message are written, so follow-up rows (alerts,
// outbox) commit atomically with the tip. It is not called for duplicates.
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
// from the first recording and writes nothing.
func (s *Store) RecordInboundSMS(ctx context.Context, in InboundSMS, hook InboundHook) (InboundResult, error) {
	if in.MessageSID == "" || in.From == "" {
		return InboundResult{}, hotline.Errorf(hotline.EINVALID, "message sid and sender are required")
	}
	now := s.now()
	sidHash := s.keyring.Index(crypto.DomainTwilioSID, in.MessageSID)
	phoneHash := s.keyring.Index(crypto.DomainPhone, in.From)

	// Fast path for retries without taking a write slot.
	if res, ok, err := s.lookupDedup(sidHash); err != nil {
		return InboundResult{}, err
	} else if ok {
		return res, nil
	}

	// Seal outside the transaction: the ids are chosen here so the
	// additional data can bind them.
	msgID := newID(now)
	candidateCaseID := newID(now)
	msgSealed, err := s.seal(bucketMessages, msgID, messageSecret{Body: in.Body, Matched: in.Triage.Matched, TwilioSID: in.MessageSID})
	if err != nil {
		return InboundResult{}, err
	}
	caseSealed, err := s.seal(bucketCases, candidateCaseID, caseSecret{Phone: in.From})
	if err != nil {
		return InboundResult{}, err
	}
	lang := in.Triage.Lang
	if !lang.Valid() {
		lang = hotline.LangAz
	}
	// The message record does not name its case (its index entry beside the
	// case record does), so it is serialised here, outside the single writer.
	msgValue, err := json.Marshal(messageRecord{
		ID: msgID, Direction: hotline.Inbound, Channel: hotline.ChannelSMS,
		At: now, Lang: lang, Priority: in.Triage.Priority, Category: in.Triage.Category, Sealed: msgSealed,
	})
	if err != nil {
		return InboundResult{}, err
	}

	var res InboundResult
	err = s.update(ctx, func(btx *bolt.Tx) error {
		res = InboundResult{}
		if rec, ok := s.dedup.lookupInTx(sidHash); ok {
			d, err := s.dedupResult(btx, rec)
			res = d
			return err
		}
		var c caseRecord
		found := false
		if id := btx.Bucket(bucketReporters).Get(phoneHash[:]); id != nil {
			if err := getJSON(btx.Bucket(bucketCases), id, &c); err == nil &&
				c.Status == hotline.CaseOpen && now.Sub(c.UpdatedAt) < in.Window {
				found = true
			}
		}
		if !found {
			code, err := uniqueCode(btx)
			if err != nil {
				return err
			}
			c = caseRecord{
				ID: candidateCaseID, Code: code, Channel: hotline.ChannelSMS,
				Lang: lang, Priority: in.Triage.Priority, Category: in.Triage.Category,
				Status: hotline.CaseOpen, OpenedAt: now, Sealed: caseSealed,
			}
			if err := btx.Bucket(bucketCaseCodes).Put([]byte(code), []byte(c.ID)); err != nil {
				return err
			}
			if err := btx.Bucket(bucketReporters).Put(phoneHash[:], []byte(c.ID)); err != nil {
				return err
			}
			res.NewCase = true
		} else {
			res.PreviousPriority = c.Priority
			c.Priority = c.Priority.Max(in.Triage.Priority)
			if in.Triage.Priority.Rank() >= c.Priority.Rank() && in.Triage.Category != hotline.CategoryNone && in.Triage.Category != "" {
				c.Category = in.Triage.Category
			}
		}
		c.Messages++
		c.UpdatedAt = now
		if err := putJSON(btx.Bucket(bucketCases), []byte(c.ID), c); err != nil {
			return err
		}
		// Message ids grow with time, so new messages append at the end of
		// the bucket (few dirty pages per commit); the small index keeps a
		// case's messages together.
		if err := btx.Bucket(bucketMessages).Put([]byte(msgID), msgValue); err != nil {
			return err
		}
		// The index entry sorts right after its case record (the case id is
		// its prefix), so both usually land on the same page.
		if err := btx.Bucket(bucketCases).Put(messageKey(c.ID, msgID), nil); err != nil {
			return err
		}
		if err := s.dedup.put(btx, now, sidHash, dedupRecord{CaseID: c.ID, MessageID: msgID, Lang: lang}); err != nil {
			return err
		}
		res.Case = c.domain()
		res.MessageID = msgID
		res.Lang = lang
		if hook != nil {
			return hook(&Tx{s: s, tx: btx}, &res)
		}
		return nil
	})
	if err != nil {
		return InboundResult{}, err
	}
	return res, nil
}

func (s *Store) lookupDedup(sidHash crypto.IndexHash) (InboundResult, bool, error) {
	rec, ok := s.dedup.lookup(sidHash)
	if !ok {
		return InboundResult{}, false, nil
	}
	var res InboundResult
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		res, err = s.dedupResult(tx, rec)
		return err
	})
	return res, true, err
}

func (s *Store) dedupResult(tx *bolt.Tx, d dedupRecord) (InboundResult, error) {
	var c caseRecord
	if err := getJSON(tx.Bucket(bucketCases), []byte(d.CaseID), &c); err != nil {
		return InboundResult{}, err
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
	err := s.db.View(func(tx *bolt.Tx) error {
		id := tx.Bucket(bucketCaseCodes).Get([]byte(code))
		if id == nil {
			return hotline.Errorf(hotline.ENOTFOUND, "no case with code %s", code)
		}
		return getJSON(tx.Bucket(bucketCases), id, &c)
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
func (s *Store) CaseMessages(caseID string) ([]hotline.Message, error) {
	var recs []messageRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		cur := tx.Bucket(bucketCases).Cursor()
		msgs := tx.Bucket(bucketMessages)
		prefix := []byte(caseID + "/")
		for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
			var m messageRecord
			if err := getJSON(msgs, k[len(prefix):], &m); err != nil {
				return fmt.Errorf("message record: %w", err)
			}
			recs = append(recs, m)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]hotline.Message, 0, len(recs))
	for _, m := range recs {
		var sec messageSecret
		if err := s.open(bucketMessages, m.ID, m.Sealed, &sec); err != nil {
			return nil, err
		}
		out = append(out, hotline.Message{
			ID: m.ID, CaseID: caseID, Direction: m.Direction, Channel: m.Channel, At: m.At,
			Lang: m.Lang, Priority: m.Priority, Category: m.Category, Body: sec.Body, Matched: sec.Matched,
		})
	}
	return out, nil
}

// messageKey indexes a message under its case in the cases bucket.
func messageKey(caseID, msgID string) []byte { return []byte(caseID + "/" + msgID) }

// isIndexKey tells index entries from case records in the cases bucket.
func isIndexKey(k []byte) bool { return bytes.IndexByte(k, '/') >= 0 }

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

// ListCases returns every case's metadata, newest first, without opening
// anything sealed.
func (s *Store) ListCases() ([]hotline.Case, error) {
	var out []hotline.Case
	err := s.db.View(func(tx *bolt.Tx) error {
		cur := tx.Bucket(bucketCases).Cursor()
		for k, v := cur.Last(); k != nil; k, v = cur.Prev() {
			if isIndexKey(k) {
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
	return out, err
}
