package main

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twilio/twilio-go/twiml"
	bolt "go.etcd.io/bbolt"
)

// The baseline is the floor the hotline is measured against: an HTTP handler
// that does nothing but write the raw webhook body durably to bbolt, with
// group commit, and answer once the commit has returned.

var bucketMessages = []byte("messages")

// maxBatch bounds how many writes share one transaction.
const maxBatch = 1024

var errClosed = errors.New("group committer closed")

// groupCommitter writes values to bbolt from a single goroutine. A write that
// arrives while no commit is running is committed at once, alone (one
// db.Update, no waiting for company); writes that arrive while a commit is in
// flight queue up and all share the next one.
type groupCommitter struct {
	db      *bolt.DB
	writes  chan pendingWrite
	commits atomic.Int64 // transactions committed (or failed)
	queued  atomic.Int64 // writes handed to the writer goroutine
	done    chan struct{}

	mu     sync.RWMutex // held for reading while sending on writes
	closed bool
}

type pendingWrite struct {
	val  []byte
	done chan error
}

// openGroupCommitter opens (or creates) the bbolt file at path and starts the
// writer goroutine. Close stops it and closes the file.
func openGroupCommitter(path string) (*groupCommitter, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, err
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketMessages)
		return err
	}); err != nil {
		db.Close()
		return nil, err
	}
	g := &groupCommitter{
		db:     db,
		writes: make(chan pendingWrite, 4*maxBatch),
		done:   make(chan struct{}),
	}
	go g.loop()
	return g, nil
}

// Write stores val under the next sequence number and returns once the
// transaction holding it has been committed and synced. val must not be
// changed until then.
func (g *groupCommitter) Write(ctx context.Context, val []byte) error {
	w := pendingWrite{val: val, done: make(chan error, 1)}
	g.mu.RLock()
	if g.closed {
		g.mu.RUnlock()
		return errClosed
	}
	select {
	case g.writes <- w:
	case <-ctx.Done():
		g.mu.RUnlock()
		return ctx.Err()
	}
	g.mu.RUnlock()
	g.queued.Add(1)
	// Once queued the write happens; wait for it whatever ctx says, so that
	// an answer never goes out before the data is on disk.
	return <-w.done
}

// Commits is how many transactions the writer has run.
func (g *groupCommitter) Commits() int64 { return g.commits.Load() }

func (g *groupCommitter) loop() {
	defer close(g.done)
	batch := make([]pendingWrite, 0, maxBatch)
	for w := range g.writes {
		batch = append(batch[:0], w)
	drain:
		for len(batch) < maxBatch {
			select {
			case w, ok := <-g.writes:
				if !ok {
					break drain
				}
				batch = append(batch, w)
			default:
				break drain
			}
		}
		err := g.db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketMessages)
			for _, w := range batch {
				seq, err := b.NextSequence()
				if err != nil {
					return err
				}
				if err := b.Put(seqKey(seq), w.val); err != nil {
					return err
				}
			}
			return nil
		})
		g.commits.Add(1)
		for _, w := range batch {
			w.done <- err
		}
		clear(batch) // drop references to the bodies
	}
}

// Close waits for queued writes to be committed, then closes the file.
func (g *groupCommitter) Close() error {
	g.mu.Lock()
	if !g.closed {
		g.closed = true
		close(g.writes)
	}
	g.mu.Unlock()
	<-g.done
	return g.db.Close()
}

func seqKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64(nil, seq)
}

// baselineHandler answers a webhook with an empty TwiML response after its
// raw body has been committed.
type baselineHandler struct {
	store *groupCommitter
	reply []byte
}

func newBaselineHandler(store *groupCommitter) (*baselineHandler, error) {
	reply, err := twiml.Messages(nil)
	if err != nil {
		return nil, err
	}
	return &baselineHandler{store: store, reply: []byte(reply)}, nil
}

func (h *baselineHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if err := h.store.Write(r.Context(), body); err != nil {
		http.Error(w, "storage error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Write(h.reply)
}
