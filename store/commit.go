package store

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// maxBatch bounds one group commit so a flood cannot build one huge
// transaction that holds every writer back.
const maxBatch = 512

// ErrClosed is returned to a write that reaches the store after Close
// began. Nothing of that write was stored; writes queued before Close are
// committed before the file closes.
var ErrClosed = errors.New("store is closed: the write was not stored")

type writeRequest struct {
	fn   func(*bolt.Tx) error
	done chan error
	// probe marks the readiness probe's write: its success does not clear
	// a failed-write state (see writeHealth).
	probe bool
}

// committer is hotline's group commit: one goroutine owns all writes. A
// lone request is committed at once (one fsync); requests that arrive
// while a commit is in flight queue up and share the next one. Unlike
// bbolt's db.Batch there is no fixed delay, so a quiet hotline answers in
// one fsync and a busy one amortises fsyncs across requests.
type committer struct {
	db *bolt.DB
	// prepare runs first in every transaction (it sets bucket fill).
	prepare func(*bolt.Tx)
	health  *writeHealth
	// beforeAttempt and afterCommit run in the writer goroutine around
	// each transaction attempt (the store's dedup index stages entries
	// between them).
	beforeAttempt, afterCommit func()
	requests                   chan writeRequest
	stopped                    chan struct{}
	// cases is state of the writer goroutine alone: the case records it
	// stored last (see writtenCases).
	cases writtenCases

	// mu orders sends on requests against close: writers hold it shared
	// while they send, close holds it exclusively to close the channel, so
	// no writer ever sends on a closed channel.
	mu     sync.RWMutex
	closed bool

	// commits and writes count transactions and the requests they
	// carried: their ratio is the group commit's batch size.
	commits, writes atomic.Uint64
}

func newCommitter(db *bolt.DB, prepare func(*bolt.Tx), health *writeHealth, beforeAttempt, afterCommit func()) *committer {
	c := &committer{
		db: db, prepare: prepare, health: health, beforeAttempt: beforeAttempt, afterCommit: afterCommit,
		requests: make(chan writeRequest, maxBatch), stopped: make(chan struct{}),
	}
	go c.run()
	return c
}

func (c *committer) do(ctx context.Context, fn func(*bolt.Tx) error, probe bool) error {
	req := writeRequest{fn: fn, done: make(chan error, 1), probe: probe}
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return ErrClosed
	}
	// The writer goroutine keeps draining until close, so this send ends
	// even while close waits for the lock.
	select {
	case c.requests <- req:
	case <-ctx.Done():
		c.mu.RUnlock()
		return ctx.Err()
	}
	c.mu.RUnlock()
	// Once queued the write will happen; wait for it even if ctx ends so
	// the caller never answers before knowing whether data is durable.
	return <-req.done
}

// close refuses new writes with ErrClosed, commits those already queued
// and waits for the writer goroutine to finish.
func (c *committer) close() {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.requests)
	}
	c.mu.Unlock()
	<-c.stopped
}

func (c *committer) run() {
	defer close(c.stopped)
	batch := make([]writeRequest, 0, maxBatch)
	for req := range c.requests {
		batch = append(batch[:0], req)
	drain:
		for len(batch) < maxBatch {
			select {
			case r, ok := <-c.requests:
				if !ok {
					break drain
				}
				batch = append(batch, r)
			default:
				break drain
			}
		}
		c.commits.Add(1)
		c.writes.Add(uint64(len(batch)))
		c.commit(batch)
	}
}

// commit writes the batch in one transaction. If one request fails, the
// transaction is rolled back, that request gets its error and the others
// are retried together without it.
func (c *committer) commit(batch []writeRequest) {
	for len(batch) > 0 {
		failed := -1
		var failErr error
		c.beforeAttempt()
		// A damaged page that the check at open did not read makes bbolt
		// panic (or fault) here; the writes fail and the server lives on.
		err := readSafely(c.db.Path(), func() error {
			return c.db.Update(func(tx *bolt.Tx) error {
				c.prepare(tx)
				for i, r := range batch {
					if err := r.fn(tx); err != nil {
						failed, failErr = i, err
						return err
					}
				}
				return nil
			})
		})
		if failed < 0 {
			if err == nil {
				c.afterCommit()
				if !onlyProbes(batch) {
					c.health.succeeded()
				}
			} else {
				// Every request's own function succeeded, so the commit
				// itself failed: the disk, not the request.
				c.health.failed(err)
			}
			for _, r := range batch {
				r.done <- err
			}
			return
		}
		batch[failed].done <- failErr
		batch = append(batch[:failed:failed], batch[failed+1:]...)
	}
}

// view runs fn in a read-only transaction; after Close it returns
// ErrClosed like a write would.
func (s *Store) view(fn func(*bolt.Tx) error) error {
	err := s.db.View(fn)
	if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}

func onlyProbes(batch []writeRequest) bool {
	for _, r := range batch {
		if !r.probe {
			return false
		}
	}
	return true
}
