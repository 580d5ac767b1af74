package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Audit chain domains: each entry's hash is an HMAC under the keyring's
// index key over the previous hash and the entry, so whoever edits the
// file without the master key cannot recompute the chain.
const (
	domainAuditChain = "audit-chain"
	domainAuditHead  = "audit-head"
	domainAddress    = "client-address"
)

var auditHeadKey = []byte("head")

// AuditEntry is one line of the audit log: who did what to which object,
// when and from where. It never holds tip content, a name, a number or
// an address: Actor is an officer id, Object a case code, officer id or
// job id, From a keyed hash of the client's address.
type AuditEntry struct {
	Seq    uint64    `json:"seq"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Object string    `json:"object,omitempty"`
	// Via is the way in: console, cli (the admin socket), sms, call.
	Via string `json:"via"`
	// From tags the client address (AddressTag), "" when there is none.
	From string `json:"from,omitempty"`
	// Detail is a short, content-free note such as "state=closed".
	Detail string `json:"detail,omitempty"`
	Prev   string `json:"prev"`
	Hash   string `json:"hash"`
}

type auditHead struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
	MAC  string `json:"mac"`
}

// AddressTag is a keyed hash of a client address (16 hex digits): equal
// addresses get equal tags, and the tag does not reveal the address.
func (s *Store) AddressTag(addr string) string {
	if addr == "" {
		return ""
	}
	return s.keyring.Index(domainAddress, addr).String()[:16]
}

func (s *Store) auditHash(prev string, e AuditEntry) (string, error) {
	e.Hash = ""
	b, err := json.Marshal(e)
	if err != nil {
		return "", err
	}
	return s.keyring.Index(domainAuditChain, prev+"\n"+string(b)).String(), nil
}

func (s *Store) headMAC(seq uint64, hash string) string {
	return s.keyring.Index(domainAuditHead, strconv.FormatUint(seq, 10)+"/"+hash).String()
}

// AppendAudit adds an entry at the end of the chain in this transaction.
// Seq, Prev and Hash are filled in; At defaults to now.
func (t *Tx) AppendAudit(e AuditEntry) error {
	if err := t.writable(); err != nil {
		return err
	}
	b := t.tx.Bucket(bucketAudit)
	var head auditHead
	if v := b.Get(auditHeadKey); v != nil {
		if err := json.Unmarshal(v, &head); err != nil {
			return fmt.Errorf("audit head: %w", err)
		}
	}
	if e.At.IsZero() {
		e.At = t.s.now()
	}
	e.At = e.At.UTC()
	e.Seq = head.Seq + 1
	e.Prev = head.Hash
	h, err := t.s.auditHash(e.Prev, e)
	if err != nil {
		return err
	}
	e.Hash = h
	if err := putJSON(b, binary.BigEndian.AppendUint64(nil, e.Seq), e); err != nil {
		return err
	}
	return putJSON(b, auditHeadKey, auditHead{Seq: e.Seq, Hash: e.Hash, MAC: t.s.headMAC(e.Seq, e.Hash)})
}

// AuditFilter selects audit entries; zero fields match everything.
type AuditFilter struct {
	Since  time.Time
	Actor  string
	Action string
	Object string
	// Limit keeps the newest Limit entries (0: all).
	Limit int
}

func (f AuditFilter) match(e AuditEntry) bool {
	return (f.Since.IsZero() || !e.At.Before(f.Since)) &&
		(f.Actor == "" || e.Actor == f.Actor) &&
		(f.Action == "" || e.Action == f.Action) &&
		(f.Object == "" || e.Object == f.Object)
}

// Audit returns the entries that f selects, oldest first.
func (s *Store) Audit(f AuditFilter) ([]AuditEntry, error) {
	var out []AuditEntry
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketAudit).Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			if len(k) != 8 {
				continue
			}
			var e AuditEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("audit entry %d: %w", binary.BigEndian.Uint64(k), err)
			}
			if f.match(e) {
				out = append(out, e)
				if f.Limit > 0 && len(out) >= f.Limit {
					break
				}
			}
		}
		return nil
	})
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, err
}

// AuditProblem is one break in the audit chain.
type AuditProblem struct {
	Seq     uint64 `json:"seq"`
	Problem string `json:"problem"`
}

// VerifyAudit walks the whole chain and reports every entry that was
// changed, removed or moved, and a head that does not match the last
// entry (the end of the log was cut off). It returns how many entries it
// read.
func (s *Store) VerifyAudit() (int, []AuditProblem, error) {
	var problems []AuditProblem
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		var prevHash string
		var prevSeq uint64
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if len(k) != 8 {
				continue
			}
			n++
			keySeq := binary.BigEndian.Uint64(k)
			var e AuditEntry
			if err := json.Unmarshal(v, &e); err != nil {
				problems = append(problems, AuditProblem{keySeq, "entry is not readable (changed)"})
				prevSeq, prevHash = keySeq, ""
				continue
			}
			if e.Seq != keySeq {
				problems = append(problems, AuditProblem{keySeq, fmt.Sprintf("entry says it is number %d (moved)", e.Seq)})
			}
			if keySeq != prevSeq+1 {
				problems = append(problems, AuditProblem{keySeq, fmt.Sprintf("entries %d to %d are missing (removed)", prevSeq+1, keySeq-1)})
			} else if e.Prev != prevHash {
				problems = append(problems, AuditProblem{keySeq, "does not follow the entry before it (removed or reordered)"})
			}
			if h, err := s.auditHash(e.Prev, e); err != nil || h != e.Hash {
				problems = append(problems, AuditProblem{keySeq, "content does not match its hash (changed)"})
			}
			prevSeq, prevHash = keySeq, e.Hash
		}
		var head auditHead
		if v := b.Get(auditHeadKey); v != nil {
			if err := json.Unmarshal(v, &head); err != nil {
				problems = append(problems, AuditProblem{prevSeq, "the log's head record is not readable"})
				return nil
			}
		}
		switch {
		case head.Seq == 0 && prevSeq == 0:
		case head.MAC != s.headMAC(head.Seq, head.Hash):
			problems = append(problems, AuditProblem{head.Seq, "the log's head record was changed"})
		case head.Seq != prevSeq || head.Hash != prevHash:
			problems = append(problems, AuditProblem{prevSeq, fmt.Sprintf("the log ends at entry %d but %d were written (removed at the end)", prevSeq, head.Seq)})
		}
		return nil
	})
	return n, problems, err
}
