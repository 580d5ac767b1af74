package store

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hotline-az/hotline/crypto"
)

// metaRewrap holds the cursor of an unfinished rewrap pass.
var metaRewrap = []byte("rewrap_cursor")

// ErrRewrapRunning is returned when a rewrap pass is already running in
// this process.
var ErrRewrapRunning = errors.New("a rewrap is already running")

// DefaultRewrapBatch is how many records one rewrap transaction changes:
// small enough that an intake write queued behind it waits a few ms.
const DefaultRewrapBatch = 500

// rewrapCursor is stored in the meta bucket in the same transaction as
// each batch, so a pass killed at any point resumes after the last batch
// that committed.
type rewrapCursor struct {
	Target    uint32    `json:"target"`
	Field     int       `json:"field"` // index in sealedFields
	After     []byte    `json:"after,omitempty"`
	Total     int       `json:"total"`
	Rewrapped int       `json:"rewrapped"`
	Failed    int       `json:"failed"`
	Started   time.Time `json:"started"`
}

// RewrapProgress is how far a rewrap pass has come.
type RewrapProgress struct {
	// Target is the primary version records are moved to.
	Target uint32 `json:"target"`
	// Total is how many records were under other versions when the pass
	// began (records written since are already under Target).
	Total     int       `json:"total"`
	Rewrapped int       `json:"rewrapped"`
	Failed    int       `json:"failed"`
	Started   time.Time `json:"started"`
	// Bucket is where the pass is (empty when done).
	Bucket string `json:"bucket,omitempty"`
	Done   bool   `json:"done"`
}

func (c *rewrapCursor) progress() RewrapProgress {
	p := RewrapProgress{Target: c.Target, Total: c.Total, Rewrapped: c.Rewrapped, Failed: c.Failed, Started: c.Started}
	if c.Field < len(sealedFields) {
		p.Bucket = string(sealedFields[c.Field].bucket)
	} else {
		p.Done = true
	}
	return p
}

// RewrapFailure is a record whose envelope could not be rewrapped: its
// bucket, its id (a plaintext id, never content) and why.
type RewrapFailure struct {
	Bucket string `json:"bucket"`
	ID     string `json:"id"`
	Error  string `json:"error"`
}

// RewrapOptions tune RewrapKeys. The zero value is usable.
type RewrapOptions struct {
	// BatchSize is how many records one transaction rewraps (default
	// DefaultRewrapBatch).
	BatchSize int
	// Progress is called after each committed batch; an error stops the
	// pass there (it resumes at the next call), which is also how tests
	// stop it half-way.
	Progress func(RewrapProgress) error
	// Failure is called for each record that does not rewrap; the pass
	// goes on.
	Failure func(RewrapFailure)
	// By names who asked, for the audit entries (Actor, Via, From).
	By AuditEntry
}

func readRewrapCursor(tx *bolt.Tx) (*rewrapCursor, error) {
	v := tx.Bucket(bucketMeta).Get(metaRewrap)
	if v == nil {
		return nil, nil
	}
	var c rewrapCursor
	if err := json.Unmarshal(v, &c); err != nil {
		return nil, fmt.Errorf("rewrap cursor: %w", err)
	}
	return &c, nil
}

// RewrapKeys moves every record's data key under the primary KEK, in
// transactions of BatchSize records shared with intake's group commit, so
// no writer waits long. Record bodies are never decrypted: only the
// 32-byte data key is unwrapped and wrapped again (crypto.Rewrap). It
// resumes an unfinished pass for the same primary, restarts one begun for
// an older primary, and reports records that fail by id without stopping.
// It returns the final progress; on ctx's end or a Progress error it
// returns that error and the pass can be resumed.
func (s *Store) RewrapKeys(ctx context.Context, opts RewrapOptions) (RewrapProgress, error) {
	if !s.keys.rewrapping.TryLock() {
		return RewrapProgress{}, ErrRewrapRunning
	}
	defer s.keys.rewrapping.Unlock()
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultRewrapBatch
	}
	by := opts.By

	// Start or resume.
	var cur rewrapCursor
	err := s.update(ctx, func(btx *bolt.Tx) error {
		c, err := readRewrapCursor(btx)
		if err != nil {
			return err
		}
		target := s.keyring.Primary()
		if c != nil && c.Target == target {
			cur = *c
			return nil
		}
		counts, _ := countVersions(btx)
		total := 0
		for v, n := range counts {
			if v != target {
				total += n
			}
		}
		cur = rewrapCursor{Target: target, Total: total, Started: s.now().UTC()}
		e := by
		e.Action, e.Object, e.Detail = "keys.rewrap_start", fmt.Sprintf("v%d", target), fmt.Sprintf("records=%d", total)
		if c != nil {
			e.Detail += fmt.Sprintf(" restarted_from=v%d", c.Target)
		}
		if err := (&Tx{s: s, tx: btx}).AppendAudit(e); err != nil {
			return err
		}
		return putJSON(btx.Bucket(bucketMeta), metaRewrap, cur)
	})
	if err != nil {
		return RewrapProgress{}, err
	}

	for {
		if err := ctx.Err(); err != nil {
			return cur.progress(), err
		}
		var failures []RewrapFailure
		var next rewrapCursor
		err := s.update(ctx, func(btx *bolt.Tx) error {
			failures = failures[:0]
			c, err := readRewrapCursor(btx)
			if err != nil {
				return err
			}
			if c == nil || c.Target != cur.Target {
				return fmt.Errorf("the rewrap cursor changed under this pass (another process?)")
			}
			next = *c
			if err := s.rewrapBatch(btx, &next, opts.BatchSize, func(f RewrapFailure) { failures = append(failures, f) }); err != nil {
				return err
			}
			if next.Field < len(sealedFields) {
				return putJSON(btx.Bucket(bucketMeta), metaRewrap, next)
			}
			e := by
			e.Action, e.Object = "keys.rewrap", fmt.Sprintf("v%d", next.Target)
			e.Detail = fmt.Sprintf("rewrapped=%d failed=%d", next.Rewrapped, next.Failed)
			if err := (&Tx{s: s, tx: btx}).AppendAudit(e); err != nil {
				return err
			}
			return btx.Bucket(bucketMeta).Delete(metaRewrap)
		})
		if err != nil {
			return cur.progress(), err
		}
		cur = next
		if opts.Failure != nil {
			for _, f := range failures {
				opts.Failure(f)
			}
		}
		p := cur.progress()
		if opts.Progress != nil {
			if err := opts.Progress(p); err != nil {
				return p, err
			}
		}
		if p.Done {
			return p, nil
		}
	}
}

// rewrapBatch advances c by up to batch rewrapped records (and at most a
// bounded number of records read), writing them in btx.
func (s *Store) rewrapBatch(btx *bolt.Tx, c *rewrapCursor, batch int, fail func(RewrapFailure)) error {
	type change struct{ key, value []byte }
	visitBudget := batch * 8
	changed := 0
	for c.Field < len(sealedFields) && changed < batch && visitBudget > 0 {
		f := sealedFields[c.Field]
		b := btx.Bucket(f.bucket)
		var puts []change
		cur := b.Cursor()
		var k, v []byte
		if c.After == nil {
			k, v = cur.First()
		} else if k, v = cur.Seek(c.After); k != nil && bytes.Equal(k, c.After) {
			k, v = cur.Next()
		}
		for ; k != nil && changed < batch && visitBudget > 0; k, v = cur.Next() {
			visitBudget--
			c.After = append(c.After[:0], k...)
			env, err := f.envelope(v)
			if err != nil {
				c.Failed++
				fail(RewrapFailure{Bucket: string(f.bucket), ID: keyID(k), Error: "record is not readable JSON"})
				continue
			}
			if env == nil {
				continue
			}
			if ver, err := crypto.EnvelopeVersion(env); err == nil && ver == c.Target {
				continue
			}
			value, err := s.rewrapRecord(f, k, v, env)
			if err != nil {
				c.Failed++
				fail(RewrapFailure{Bucket: string(f.bucket), ID: keyID(k), Error: err.Error()})
				continue
			}
			puts = append(puts, change{append([]byte(nil), k...), value})
			changed++
		}
		// Put after the walk: bbolt cursors are not valid across writes.
		for _, p := range puts {
			if err := b.Put(p.key, p.value); err != nil {
				return err
			}
		}
		c.Rewrapped += len(puts)
		if k == nil {
			c.Field++
			c.After = nil
		}
	}
	return nil
}

// rewrapRecord returns the record v (stored under k) with env, its
// envelope in field f, rewrapped under the primary KEK. A tagged record's
// tag is checked first (a record changed outside hotline is not
// re-tagged into looking genuine) and computed again over the new bytes.
func (s *Store) rewrapRecord(f sealedField, k, v, env []byte) ([]byte, error) {
	tagged := hasTag(v)
	if tagged {
		if err := s.checkTag(f.bucket, k, v); err != nil {
			return nil, err
		}
	}
	ad, err := f.adKey(k, v)
	if err != nil {
		return nil, err
	}
	fresh, err := s.keyring.Rewrap(string(f.bucket), ad, env)
	if err != nil {
		return nil, err
	}
	out, err := replaceEnvelope(v, env, fresh)
	if err != nil || !tagged {
		return out, err
	}
	untagged := out[:len(out)-macMemberLen]
	retagged := append(untagged[:len(untagged):len(untagged)], macMemberPrefix...)
	retagged = base64.StdEncoding.AppendEncode(retagged, s.recordMAC(f.bucket, k, untagged))
	return append(retagged, `"}`...), nil
}

// replaceEnvelope swaps the old envelope's base64 for the new one's in a
// JSON record. Rewrap keeps the length, so every other byte of the record
// stays as it was.
func replaceEnvelope(record, old, fresh []byte) ([]byte, error) {
	from := []byte(base64.StdEncoding.EncodeToString(old))
	to := []byte(base64.StdEncoding.EncodeToString(fresh))
	i := bytes.Index(record, from)
	if i < 0 || len(from) != len(to) {
		return nil, errors.New("sealed value not found in its record")
	}
	out := append([]byte(nil), record...)
	copy(out[i:], to)
	return out, nil
}

// keyID prints a record key for a report: ids are plaintext ASCII; any
// other key (a keyed hash) is shown by its length only.
func keyID(k []byte) string {
	for _, b := range k {
		if b < 0x20 || b > 0x7e {
			return fmt.Sprintf("(%d-byte key)", len(k))
		}
	}
	return string(k)
}
