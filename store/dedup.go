package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hotline-az/hotline/crypto"
)

// dedupIndex answers "have we accepted this Twilio SID?" from memory.
//
// Why not a bbolt bucket keyed by the SID's hash: such keys are random, so
// every tip dirtied one more random page and every group commit fsynced
// dozens of extra pages. Instead the durable record is an append-only log
// (bucket dedup, keyed by time then hash: new entries land on the last
// page) and this map, rebuilt from the log at open, serves lookups. It
// holds keyed hashes and ids only, never a SID or a number.
//
// Consistency: entries written by a transaction are staged in pending
// (touched only by the single writer goroutine) and become visible in
// committed only after that transaction is durable; a failed attempt drops
// its staged entries. A retry in the same batch sees pending.
type dedupIndex struct {
	mu        sync.RWMutex
	committed map[crypto.IndexHash]dedupRecord
	pending   map[crypto.IndexHash]dedupRecord // writer goroutine only
}

func newDedupIndex() *dedupIndex {
	return &dedupIndex{committed: map[crypto.IndexHash]dedupRecord{}, pending: map[crypto.IndexHash]dedupRecord{}}
}

// DedupWindow is how long a Twilio SID is remembered. Twilio retries a
// webhook within minutes; a month bounds the index's memory.
const DedupWindow = 30 * 24 * time.Hour

// prune deletes log entries older than cutoff (the log is in time order).
func (d *dedupIndex) prune(tx *bolt.Tx, cutoff time.Time) (int, error) {
	c := tx.Bucket(bucketDedup).Cursor()
	end := timeKey(cutoff, "")
	n := 0
	for k, _ := c.First(); k != nil && bytes.Compare(k[:8], end) < 0; k, _ = c.First() {
		if err := c.Delete(); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// load rebuilds the map from the log.
func (d *dedupIndex) load(tx *bolt.Tx) error {
	return tx.Bucket(bucketDedup).ForEach(func(k, v []byte) error {
		if len(k) != 8+len(crypto.IndexHash{}) {
			return fmt.Errorf("dedup log key of %d bytes", len(k))
		}
		var rec dedupRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("dedup log record: %w", err)
		}
		var h crypto.IndexHash
		copy(h[:], k[8:])
		d.committed[h] = rec
		return nil
	})
}

// lookup is safe from any goroutine; it sees committed entries only.
func (d *dedupIndex) lookup(h crypto.IndexHash) (dedupRecord, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	rec, ok := d.committed[h]
	return rec, ok
}

// lookupInTx is for the writer: committed entries and those staged by the
// transaction under way.
func (d *dedupIndex) lookupInTx(h crypto.IndexHash) (dedupRecord, bool) {
	if rec, ok := d.pending[h]; ok {
		return rec, true
	}
	return d.lookup(h)
}

// put appends to the log inside tx and stages the entry.
func (d *dedupIndex) put(tx *bolt.Tx, now time.Time, h crypto.IndexHash, rec dedupRecord) error {
	v, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if err := tx.Bucket(bucketDedup).Put(append(timeKey(now, ""), h[:]...), v); err != nil {
		return err
	}
	d.pending[h] = rec
	return nil
}

// beginAttempt drops entries staged by a transaction that did not commit.
func (d *dedupIndex) beginAttempt() { clear(d.pending) }

// committedAttempt publishes the staged entries once they are durable.
func (d *dedupIndex) committedAttempt() {
	if len(d.pending) == 0 {
		return
	}
	d.mu.Lock()
	for h, rec := range d.pending {
		d.committed[h] = rec
	}
	d.mu.Unlock()
	clear(d.pending)
}
