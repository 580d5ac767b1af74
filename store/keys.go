package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	bolt "go.etcd.io/bbolt"

	"github.com/hotline-az/hotline/crypto"
)

// keyOps is the store's key-management state: the master key that seals
// the keyring (kept so a rotation can be stored) and the locks that keep
// key operations one at a time.
type keyOps struct {
	// mu orders rotate, min-decrypt and retire: each clones the keyring,
	// stores the changed copy and only then adopts it.
	mu sync.Mutex
	// rewrapping is held by the one rewrap pass that may run.
	rewrapping sync.Mutex
	master     crypto.MasterKey
}

// sealedField is one place where envelopes are kept: a JSON member of the
// records of a bucket, sealed bound to the name adKey gives. Rewrap, key
// status and retire walk exactly these; a sealed field added elsewhere
// must be added here, or retire could destroy the key it needs.
type sealedField struct {
	bucket []byte
	member string // "sealed" or "sealed_sid"
	// adKey is the name the envelope is bound to, from the record's key
	// and value.
	adKey func(key, value []byte) (string, error)
}

func recordKey(k, _ []byte) (string, error) { return string(k), nil }

// messageAD is a message's binding (its case and metadata, see
// messageBinding), or its id for a schema 1 message not yet bound.
func messageAD(k, v []byte) (string, error) {
	var m messageRecord
	if err := json.Unmarshal(v, &m); err != nil {
		return "", err
	}
	if m.Bound != messageBound {
		return string(k), nil
	}
	return messageBinding(m.CaseID, m), nil
}

// sealedFields lists every envelope the store writes (see the seal and
// sealMessage calls).
var sealedFields = []sealedField{
	{bucketCases, "sealed", recordKey},
	{bucketMessages, "sealed", messageAD},
	{bucketOfficers, "sealed", recordKey},
	{bucketAccounts, "sealed", recordKey},
	{bucketCaseWork, "sealed", recordKey},
	{bucketCaseNotes, "sealed", recordKey},
	{bucketJobs, "sealed_sid", func(k, _ []byte) (string, error) { return string(k) + "/sid", nil }},
	{bucketRecordings, "sealed", recordKey},
	{bucketRecordingChunks, "sealed", recordKey},
}

// sealedMembers decodes only the members that may hold an envelope.
type sealedMembers struct {
	Sealed    []byte `json:"sealed"`
	SealedSID []byte `json:"sealed_sid"`
}

// envelope returns the record's envelope in this field, nil when the value
// is an index entry or the record has none (an optional member).
func (f sealedField) envelope(v []byte) ([]byte, error) {
	if len(v) == 0 || v[0] != '{' {
		return nil, nil
	}
	var m sealedMembers
	if err := json.Unmarshal(v, &m); err != nil {
		return nil, err
	}
	if f.member == "sealed_sid" {
		return m.SealedSID, nil
	}
	return m.Sealed, nil
}

// KeyVersion is one KEK version and how many records it still protects.
type KeyVersion struct {
	Version uint32 `json:"version"`
	Records int    `json:"records"`
	Primary bool   `json:"primary,omitempty"`
	// Archived: below the minimum decryption version, it opens nothing.
	Archived bool `json:"archived,omitempty"`
}

// KeyStatus describes the keyring without revealing a key.
type KeyStatus struct {
	Primary    uint32       `json:"primary"`
	MinDecrypt uint32       `json:"min_decrypt"`
	Versions   []KeyVersion `json:"versions"`
	// Missing counts records naming a version no longer in the keyring
	// (retired, or a damaged header): they cannot be opened.
	Missing int `json:"missing,omitempty"`
	// Malformed counts sealed members that are not envelopes.
	Malformed int `json:"malformed,omitempty"`
	// Rewrap is the unfinished rewrap pass, nil when none is under way.
	Rewrap *RewrapProgress `json:"rewrap,omitempty"`
	// IndexPrimary is the index key version that phone numbers and
	// Twilio SIDs are hashed under.
	IndexPrimary uint32 `json:"index_primary"`
	// IndexMove is an unfinished rotate-index, nil when none.
	IndexMove *IndexMoveProgress `json:"index_move,omitempty"`
}

// countVersions counts envelopes per KEK version in tx.
func countVersions(tx *bolt.Tx) (byVersion map[uint32]int, malformed int) {
	byVersion = map[uint32]int{}
	for _, f := range sealedFields {
		b := tx.Bucket(f.bucket)
		if b == nil {
			continue
		}
		b.ForEach(func(k, v []byte) error {
			env, err := f.envelope(v)
			if err != nil {
				malformed++
				return nil
			}
			if env == nil {
				return nil
			}
			ver, err := crypto.EnvelopeVersion(env)
			if err != nil {
				malformed++
				return nil
			}
			byVersion[ver]++
			return nil
		})
	}
	return byVersion, malformed
}

// KeyStatus reports the keyring's versions, how many records each still
// protects and any unfinished rewrap. It reads envelope headers only.
func (s *Store) KeyStatus() (KeyStatus, error) {
	kr := s.keyring
	st := KeyStatus{Primary: kr.Primary(), MinDecrypt: kr.MinDecrypt()}
	err := s.db.View(func(tx *bolt.Tx) error {
		counts, malformed := countVersions(tx)
		st.Malformed = malformed
		for _, v := range kr.Versions() {
			st.Versions = append(st.Versions, KeyVersion{
				Version: v, Records: counts[v], Primary: v == st.Primary, Archived: v < st.MinDecrypt,
			})
			delete(counts, v)
		}
		for _, n := range counts {
			st.Missing += n
		}
		cur, err := readRewrapCursor(tx)
		if err != nil {
			return err
		}
		if cur != nil {
			p := cur.progress()
			st.Rewrap = &p
		}
		st.IndexPrimary, _ = kr.IndexVersions()
		move, err := readIndexMoveCursor(tx)
		if move != nil {
			p := move.progress()
			st.IndexMove = &p
		}
		return err
	})
	return st, err
}

// ErrKeyInUse is matched (errors.Is) by the error of RetireKey when
// records still reference the version.
var ErrKeyInUse = errors.New("the key version still protects records")

// KeyInUseError says how many records still use a version.
type KeyInUseError struct {
	Version uint32
	Records int
}

func (e *KeyInUseError) Error() string {
	return fmt.Sprintf("key version %d still protects %d records: run `hotline keys rewrap` first", e.Version, e.Records)
}

// Is makes errors.Is(err, ErrKeyInUse) true.
func (e *KeyInUseError) Is(target error) bool { return target == ErrKeyInUse }

// changeKeyring applies change to a copy of the keyring, stores the copy
// (sealed under the master key) with an audit entry in one durable
// transaction, and only then makes it live, so a failed write changes
// nothing and no record is ever sealed under an unstored key. check, when
// set, runs inside that transaction first and may refuse the change.
func (s *Store) changeKeyring(ctx context.Context, audit *AuditEntry, change func(*crypto.Keyring) error, check func(*bolt.Tx) error) error {
	s.keys.mu.Lock()
	defer s.keys.mu.Unlock()
	next := s.keyring.Clone()
	if err := change(next); err != nil {
		return err
	}
	blob, err := next.Marshal(s.keys.master)
	if err != nil {
		return err
	}
	err = s.update(ctx, func(btx *bolt.Tx) error {
		if check != nil {
			if err := check(btx); err != nil {
				return err
			}
		}
		if err := btx.Bucket(bucketMeta).Put(metaKeyring, blob); err != nil {
			return err
		}
		return (&Tx{s: s, tx: btx}).AppendAudit(*audit)
	})
	if err != nil {
		return err
	}
	return s.keyring.Adopt(next)
}

// RotateKey adds a KEK version and makes it primary: every record sealed
// from now on uses it. Older records keep opening under their version
// until RewrapKeys moves them. by names who asked (Actor, Via, From);
// the audit entry is "keys.rotate".
func (s *Store) RotateKey(ctx context.Context, by AuditEntry) (uint32, error) {
	var v uint32
	by.Action = "keys.rotate"
	err := s.changeKeyring(ctx, &by, func(k *crypto.Keyring) error {
		var err error
		v, err = k.Rotate()
		if err == nil {
			by.Object = fmt.Sprintf("v%d", v)
		}
		return err
	}, nil)
	return v, err
}

// SetMinDecrypt makes versions below v open nothing (reversible: lower it
// again). It returns how many records that leaves unreadable. Audited as
// "keys.min_decrypt".
func (s *Store) SetMinDecrypt(ctx context.Context, v uint32, by AuditEntry) (int, error) {
	by.Action, by.Object = "keys.min_decrypt", fmt.Sprintf("v%d", v)
	var blocked int
	err := s.changeKeyring(ctx, &by, func(k *crypto.Keyring) error { return k.SetMinDecrypt(v) },
		func(tx *bolt.Tx) error {
			counts, _ := countVersions(tx)
			blocked = 0
			for ver, n := range counts {
				if ver < v {
					blocked += n
				}
			}
			return nil
		})
	return blocked, err
}

// RetireKey destroys KEK version v for good. It refuses (KeyInUseError)
// while any record references v, counted in the same transaction that
// stores the smaller keyring, and refuses the primary. Audited as
// "keys.retire".
func (s *Store) RetireKey(ctx context.Context, v uint32, by AuditEntry) error {
	by.Action, by.Object = "keys.retire", fmt.Sprintf("v%d", v)
	return s.changeKeyring(ctx, &by, func(k *crypto.Keyring) error { return k.Retire(v) },
		func(tx *bolt.Tx) error {
			counts, malformed := countVersions(tx)
			if n := counts[v]; n > 0 {
				return &KeyInUseError{Version: v, Records: n}
			}
			if malformed > 0 {
				// A sealed value whose header cannot be read may name v.
				return fmt.Errorf("%d sealed values cannot be read, so it is not known which key they need: run `hotline check`", malformed)
			}
			return nil
		})
}
