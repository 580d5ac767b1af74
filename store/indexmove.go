package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hotline-az/hotline/crypto"
)

// Moving the keyed hashes of phone numbers and Twilio SIDs to a new
// index key version (hotline keys rotate-index).
//
// RotateIndex stores a keyring whose primary index version is new and
// which remembers the old one; from then on every write hashes under the
// new version and every lookup tries both (Keyring.IndexCandidates).
// The move then re-hashes each lookup entry from the sealed value it
// stands for, in bounded transactions shared with intake, with a cursor
// stored in the same transaction as each batch so a killed move resumes.
// When every entry is under the new version the keyring forgets the old
// one and lookups try one hash again.
//
// indexedBuckets lists every bucket keyed by such a hash; a new one must
// be added here and to moveStep, or its entries stop being found.

// metaIndexMove holds the cursor of an unfinished index move.
var metaIndexMove = []byte("index_move_cursor")

// indexedBuckets are the buckets whose keys are keyed hashes of phone
// numbers or Twilio SIDs, in the order the move walks them.
var indexedBuckets = [][]byte{bucketReporters, bucketDedup, bucketSIDJobs, bucketOfficerIndex}

// DefaultIndexMoveBatch is how many entries one move transaction visits.
const DefaultIndexMoveBatch = 500

type indexMoveCursor struct {
	Version uint32    `json:"version"`
	Step    int       `json:"step"` // index in indexedBuckets
	After   []byte    `json:"after,omitempty"`
	Moved   int       `json:"moved"`
	Dropped int       `json:"dropped"`
	Kept    int       `json:"kept"`
	Started time.Time `json:"started"`
}

// IndexMoveProgress is how far a move has come.
type IndexMoveProgress struct {
	// Version is the new index key version.
	Version uint32 `json:"version"`
	// Moved counts entries re-hashed under Version.
	Moved int `json:"moved"`
	// Dropped counts reporter entries whose case no longer holds the
	// number (dropped by retention): nothing to re-hash them from. Such a
	// case is older than any threading window, so no text would join it.
	Dropped int `json:"dropped"`
	// Kept counts entries that cannot be re-hashed and are left as they
	// are (officer-command dedup entries: the SID is not kept sealed);
	// they age out of the dedup log.
	Kept    int       `json:"kept"`
	Started time.Time `json:"started"`
	// Bucket is where the move is (empty when done).
	Bucket string `json:"bucket,omitempty"`
	Done   bool   `json:"done"`
}

func (c *indexMoveCursor) progress() IndexMoveProgress {
	p := IndexMoveProgress{Version: c.Version, Moved: c.Moved, Dropped: c.Dropped, Kept: c.Kept, Started: c.Started}
	if c.Step < len(indexedBuckets) {
		p.Bucket = string(indexedBuckets[c.Step])
	} else {
		p.Done = true
	}
	return p
}

// IndexMoveOptions tune RotateIndex. The zero value is usable.
type IndexMoveOptions struct {
	// BatchSize is how many entries one transaction visits (default
	// DefaultIndexMoveBatch).
	BatchSize int
	// Progress is called after each committed batch; an error stops the
	// move there (it resumes at the next RotateIndex), which is also how
	// tests stop it half-way.
	Progress func(IndexMoveProgress) error
	// By names who asked, for the audit entries (Actor, Via, From).
	By AuditEntry
}

func readIndexMoveCursor(tx *bolt.Tx) (*indexMoveCursor, error) {
	v := tx.Bucket(bucketMeta).Get(metaIndexMove)
	if v == nil {
		return nil, nil
	}
	var c indexMoveCursor
	if err := json.Unmarshal(v, &c); err != nil {
		return nil, fmt.Errorf("index move cursor: %w", err)
	}
	return &c, nil
}

// IndexMoveUnderway returns the progress of an unfinished index move, nil
// when none.
func (s *Store) IndexMoveUnderway() (*IndexMoveProgress, error) {
	var p *IndexMoveProgress
	err := s.view(func(tx *bolt.Tx) error {
		c, err := readIndexMoveCursor(tx)
		if c != nil {
			pr := c.progress()
			p = &pr
		}
		return err
	})
	return p, err
}

// RotateIndex adds an index key version for phone numbers and Twilio
// SIDs and moves every lookup entry to it, or resumes the move an earlier
// call left unfinished. Audited as "keys.rotate_index" (start) and
// "keys.rotate_index_done".
func (s *Store) RotateIndex(ctx context.Context, opts IndexMoveOptions) (IndexMoveProgress, error) {
	if !s.keys.rewrapping.TryLock() {
		return IndexMoveProgress{}, ErrRewrapRunning
	}
	defer s.keys.rewrapping.Unlock()
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultIndexMoveBatch
	}
	if _, moving := s.keyring.IndexVersions(); moving == 0 {
		by := opts.By
		by.Action = "keys.rotate_index"
		var v uint32
		err := s.changeKeyring(ctx, &by, func(k *crypto.Keyring) error {
			var err error
			v, err = k.RotateIndex()
			by.Object = fmt.Sprintf("index-v%d", v)
			return err
		}, func(btx *bolt.Tx) error {
			return putJSON(btx.Bucket(bucketMeta), metaIndexMove, indexMoveCursor{Version: v, Started: s.now().UTC()})
		})
		if err != nil {
			return IndexMoveProgress{}, err
		}
	}
	primary, _ := s.keyring.IndexVersions()
	var cur indexMoveCursor
	for {
		if err := ctx.Err(); err != nil {
			return cur.progress(), err
		}
		err := s.update(ctx, func(btx *bolt.Tx) error {
			c, err := readIndexMoveCursor(btx)
			if err != nil {
				return err
			}
			if c == nil || c.Version != primary {
				return errors.New("the index move cursor does not match the keyring (another process?)")
			}
			cur = *c
			if err := s.moveBatch(btx, &cur, opts.BatchSize); err != nil {
				return err
			}
			return putJSON(btx.Bucket(bucketMeta), metaIndexMove, cur)
		})
		if err != nil {
			return cur.progress(), err
		}
		p := cur.progress()
		if p.Done {
			break
		}
		if opts.Progress != nil {
			if err := opts.Progress(p); err != nil {
				return p, err
			}
		}
	}
	by := opts.By
	by.Action, by.Object = "keys.rotate_index_done", fmt.Sprintf("index-v%d", primary)
	by.Detail = fmt.Sprintf("moved=%d dropped=%d kept=%d", cur.Moved, cur.Dropped, cur.Kept)
	err := s.changeKeyring(ctx, &by, func(k *crypto.Keyring) error { return k.FinishIndexMove() },
		func(btx *bolt.Tx) error { return btx.Bucket(bucketMeta).Delete(metaIndexMove) })
	p := cur.progress()
	if err == nil && opts.Progress != nil {
		err = opts.Progress(p)
	}
	return p, err
}

// moveBatch advances c by up to batch visited entries, writing in btx.
func (s *Store) moveBatch(btx *bolt.Tx, c *indexMoveCursor, batch int) error {
	budget := batch
	for c.Step < len(indexedBuckets) && budget > 0 {
		name := indexedBuckets[c.Step]
		if bytes.Equal(name, bucketOfficerIndex) {
			// Officers are few: all of them in one batch.
			if err := s.moveOfficers(btx, c); err != nil {
				return err
			}
			c.Step++
			c.After = nil
			continue
		}
		b := btx.Bucket(name)
		type change struct{ del, put, value []byte }
		var changes []change
		cur := b.Cursor()
		var k, v []byte
		if c.After == nil {
			k, v = cur.First()
		} else if k, v = cur.Seek(c.After); k != nil && bytes.Equal(k, c.After) {
			k, v = cur.Next()
		}
		for ; k != nil && budget > 0; k, v = cur.Next() {
			budget--
			c.After = append(c.After[:0], k...)
			del, put, value, err := s.moveEntry(btx, name, k, v)
			if err != nil {
				return err
			}
			switch {
			case del == nil && put == nil:
			case put == nil:
				c.Dropped++
			default:
				c.Moved++
			}
			if del != nil || put != nil {
				changes = append(changes, change{del, put, value})
			} else if bytes.Equal(name, bucketDedup) && isCommandEntry(v) {
				c.Kept++
			}
		}
		// Write after the walk: bbolt cursors are not valid across writes.
		for _, ch := range changes {
			if ch.put != nil && b.Get(ch.put) == nil {
				// An entry already under the new hash was written after
				// the rotation, so it is newer: it wins.
				if err := b.Put(ch.put, ch.value); err != nil {
					return err
				}
			}
			if ch.del != nil {
				if err := b.Delete(ch.del); err != nil {
					return err
				}
			}
		}
		if k == nil {
			c.Step++
			c.After = nil
		}
	}
	return nil
}

func isCommandEntry(v []byte) bool {
	var rec dedupRecord
	return json.Unmarshal(v, &rec) == nil && rec.Command
}

// moveEntry decides what happens to one entry: nothing (already under the
// new version, or cannot be re-hashed), a delete alone (nothing left to
// re-hash from), or a delete and a put of value under a new key.
func (s *Store) moveEntry(btx *bolt.Tx, bucket, k, v []byte) (del, put, value []byte, err error) {
	switch {
	case bytes.Equal(bucket, bucketReporters):
		if len(k) != len(crypto.IndexHash{}) {
			return nil, nil, nil, nil
		}
		caseID, err := s.checkValue(bucketReporters, k, v)
		if err != nil {
			return nil, nil, nil, err
		}
		var c caseRecord
		if err := s.getTagged(btx.Bucket(bucketCases), bucketCases, caseID, &c); err != nil {
			return nil, nil, nil, fmt.Errorf("reporter entry's case %s: %w", keyName(caseID), err)
		}
		if len(c.Sealed) == 0 {
			return clone(k), nil, nil, nil
		}
		var sec caseSecret
		if err := s.open(bucketCases, c.ID, c.Sealed, &sec); err != nil {
			return nil, nil, nil, err
		}
		if sec.Phone == "" {
			return clone(k), nil, nil, nil
		}
		from, to, _ := s.keyring.IndexMovePair(crypto.DomainPhone, sec.Phone)
		if !bytes.Equal(k, from[:]) {
			return nil, nil, nil, nil
		}
		return clone(k), to[:], s.tagValue(bucketReporters, to[:], caseID), nil

	case bytes.Equal(bucket, bucketDedup):
		if len(k) != 8+len(crypto.IndexHash{}) {
			return nil, nil, nil, fmt.Errorf("dedup log key of %d bytes", len(k))
		}
		var rec dedupRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return nil, nil, nil, fmt.Errorf("dedup log record: %w", err)
		}
		if rec.Command {
			return nil, nil, nil, nil
		}
		var m messageRecord
		if err := getJSON(btx.Bucket(bucketMessages), []byte(rec.MessageID), &m); err != nil {
			// The message was purged: the entry only answers a retry of
			// a deleted case, and ages out anyway.
			return clone(k), nil, nil, nil
		}
		sec, err := s.openMessage(rec.CaseID, []byte(rec.MessageID), m)
		if err != nil {
			return nil, nil, nil, err
		}
		from, to, _ := s.keyring.IndexMovePair(crypto.DomainTwilioSID, sec.TwilioSID)
		if !bytes.Equal(k[8:], from[:]) {
			return nil, nil, nil, nil
		}
		s.dedup.pending[to] = rec
		return clone(k), append(clone(k[:8]), to[:]...), clone(v), nil

	case bytes.Equal(bucket, bucketSIDJobs):
		var rec jobRecord
		if err := s.getTagged(btx.Bucket(bucketJobs), bucketJobs, v, &rec); err != nil {
			if isNotFound(err) {
				return clone(k), nil, nil, nil
			}
			return nil, nil, nil, err
		}
		if len(rec.SealedSID) == 0 {
			return nil, nil, nil, nil
		}
		var sid string
		if err := s.open(bucketJobs, rec.ID+"/sid", rec.SealedSID, &sid); err != nil {
			return nil, nil, nil, err
		}
		from, to, _ := s.keyring.IndexMovePair(crypto.DomainTwilioSID, sid)
		if !bytes.Equal(k, from[:]) {
			return nil, nil, nil, nil
		}
		return clone(k), to[:], clone(v), nil
	}
	return nil, nil, nil, fmt.Errorf("no index move for bucket %s", bucket)
}

// moveOfficers re-hashes every officer's phone and pending phone entries.
func (s *Store) moveOfficers(btx *bolt.Tx, c *indexMoveCursor) error {
	t := &Tx{s: s, tx: btx}
	officers, err := t.Officers()
	if err != nil {
		return err
	}
	idx := btx.Bucket(bucketOfficerIndex)
	for _, o := range officers {
		for _, phone := range []string{o.Phone, o.PendingPhone} {
			if phone == "" {
				continue
			}
			from, to, _ := s.keyring.IndexMovePair(crypto.DomainPhone, phone)
			if idx.Get(from[:]) == nil {
				continue
			}
			if err := idx.Put(to[:], s.tagValue(bucketOfficerIndex, to[:], []byte(o.ID))); err != nil {
				return err
			}
			if err := idx.Delete(from[:]); err != nil {
				return err
			}
			c.Moved++
		}
	}
	return nil
}
