package store

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// ErrWriteFailing is matched (errors.Is) by Healthy's error while the last
// durable write to the data file failed.
var ErrWriteFailing = errors.New("the last write to the data file failed")

// writeHealth remembers whether the last commit failed (a full disk, a
// file size limit, an I/O error). The state is sticky: a commit that fails
// sets it, and only a commit that carries real writes and succeeds clears
// it. The readiness probe's own write does not clear it: on a full disk it
// often still fits in a page freed inside the file while every tip, which
// needs the file to grow, is refused.
type writeHealth struct {
	log      zerolog.Logger
	now      func() time.Time
	failure  atomic.Pointer[writeFailure]
	failures atomic.Uint64
}

type writeFailure struct {
	at  time.Time
	err error
}

func (f *writeFailure) Error() string {
	return fmt.Sprintf("%v (at %s: %v); tips are answered 503 until a write succeeds",
		ErrWriteFailing, f.at.UTC().Format(time.RFC3339), f.err)
}

func (f *writeFailure) Unwrap() []error { return []error{ErrWriteFailing, f.err} }

// failed records a failed commit; the first of a run is logged.
func (h *writeHealth) failed(err error) {
	h.failures.Add(1)
	if h.failure.Swap(&writeFailure{at: h.now(), err: err}) == nil {
		h.log.Error().Err(err).Msg("a write to the data file failed: tips are refused and /readyz fails until a write succeeds (is the disk full?)")
	}
}

// succeeded records a commit of real writes; the end of a run of failures
// is logged.
func (h *writeHealth) succeeded() {
	if old := h.failure.Swap(nil); old != nil {
		h.log.Info().Time("failing_since", old.at).Msg("writes to the data file succeed again")
	}
}

func (h *writeHealth) err() error {
	if f := h.failure.Load(); f != nil {
		return f
	}
	return nil
}

// Healthy is nil while the last commit of real writes succeeded, and
// otherwise an error (matching ErrWriteFailing) that says since when
// writes fail and why. It does not touch the disk, so a readiness probe
// may call it as often as it likes.
func (s *Store) Healthy() error { return s.health.err() }

// WriteFailures counts commits that failed since the store was opened.
func (s *Store) WriteFailures() uint64 { return s.health.failures.Load() }
