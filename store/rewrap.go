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
	// Yield is how long the pass waits after a batch while other writes
	// are being committed, as a multiple of the time the batch's commit
	// took (default 2: intake gets the writer at least two thirds of the
	// time; negative: no wait).
	Yield float64
}

func (o RewrapOptions) yield() float64 {
	switch {
	case o.Yield < 0:
		return 0
	case o.Yield == 0:
		return 2
	}
	return o.Yield
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
		// The batch is prepared in a read transaction (the unwrap, wrap
		// and re-tag of every record), so the single writer, which
		// intake shares, only checks and puts.
		var plan rewrapPlan
		if err := s.view(func(btx *bolt.Tx) error {
			plan = s.planRewrap(btx, cur, opts.BatchSize)
			return nil
		}); err != nil {
			return cur.progress(), err
		}
		var failures []RewrapFailure
		var next rewrapCursor
		started, writesBefore := time.Now(), s.commits.writes.Load()
		err := s.update(ctx, func(btx *bolt.Tx) error {
			c, err := readRewrapCursor(btx)
			if err != nil {
				return err
			}
			if c == nil || c.Target != cur.Target || c.Field != cur.Field || !bytes.Equal(c.After, cur.After) {
				return fmt.Errorf("the rewrap cursor changed under this pass (another process?)")
			}
			next = plan.cursor
			failures = append(failures[:0], plan.failures...)
			if err := s.applyRewrap(btx, plan, &next, func(f RewrapFailure) { failures = append(failures, f) }); err != nil {
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
		took := time.Since(started)
		// Other writes committed meanwhile: intake is busy.
		busy := s.commits.writes.Load()-writesBefore > 1
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
		// Yield while intake is busy: leave the writer to it for twice as
		// long as the batch took. On a quiet line the pass runs flat out.
		if pause := time.Duration(float64(took) * opts.yield()); busy && pause > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(min(pause, time.Second)):
			}
		}
	}
}

// rewrapPlan is one batch prepared outside the writer: each record's
// value as read and as rewrapped, and where the cursor then stands.
type rewrapPlan struct {
	cursor   rewrapCursor
	changes  []rewrapChange
	failures []RewrapFailure
}

type rewrapChange struct {
	field    int
	key, old []byte
	value    []byte
}

// planRewrap walks from c in a read transaction, rewrapping up to batch
// records (and reading at most 8 times as many).
func (s *Store) planRewrap(btx *bolt.Tx, c rewrapCursor, batch int) rewrapPlan {
	plan := rewrapPlan{cursor: c}
	pc := &plan.cursor
	pc.After = clone(c.After)
	visitBudget := batch * 8
	for pc.Field < len(sealedFields) && len(plan.changes) < batch && visitBudget > 0 {
		f := sealedFields[pc.Field]
		cur := btx.Bucket(f.bucket).Cursor()
		var k, v []byte
		if pc.After == nil {
			k, v = cur.First()
		} else if k, v = cur.Seek(pc.After); k != nil && bytes.Equal(k, pc.After) {
			k, v = cur.Next()
		}
		for ; k != nil && len(plan.changes) < batch && visitBudget > 0; k, v = cur.Next() {
			visitBudget--
			pc.After = append(pc.After[:0], k...)
			value, fail := s.rewrapValue(f, k, v, pc.Target)
			switch {
			case fail != "":
				pc.Failed++
				plan.failures = append(plan.failures, RewrapFailure{Bucket: string(f.bucket), ID: keyID(k), Error: fail})
			case value != nil:
				plan.changes = append(plan.changes, rewrapChange{field: pc.Field, key: clone(k), old: clone(v), value: value})
			}
		}
		if k == nil {
			pc.Field++
			pc.After = nil
		}
	}
	return plan
}

// rewrapValue returns v rewrapped to target, nil when it needs nothing,
// or why it cannot be rewrapped.
func (s *Store) rewrapValue(f sealedField, k, v []byte, target uint32) ([]byte, string) {
	env, err := f.envelope(v)
	if err != nil {
		return nil, "record is not readable JSON"
	}
	if env == nil {
		return nil, ""
	}
	if ver, err := crypto.EnvelopeVersion(env); err == nil && ver == target {
		return nil, ""
	}
	value, err := s.rewrapRecord(f, k, v, env)
	if err != nil {
		return nil, err.Error()
	}
	return value, ""
}

// applyRewrap puts the planned values in btx. A record written since the
// plan was read (a case that took a message) is rewrapped again from its
// current value, here.
func (s *Store) applyRewrap(btx *bolt.Tx, plan rewrapPlan, c *rewrapCursor, fail func(RewrapFailure)) error {
	for _, ch := range plan.changes {
		f := sealedFields[ch.field]
		b := btx.Bucket(f.bucket)
		value := ch.value
		if now := b.Get(ch.key); !bytes.Equal(now, ch.old) {
			if now == nil {
				continue // deleted since
			}
			var msg string
			if value, msg = s.rewrapValue(f, ch.key, now, c.Target); msg != "" {
				c.Failed++
				fail(RewrapFailure{Bucket: string(f.bucket), ID: keyID(ch.key), Error: msg})
				continue
			}
			if value == nil {
				continue // already under the target
			}
		}
		if err := b.Put(ch.key, value); err != nil {
			return err
		}
		c.Rewrapped++
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
