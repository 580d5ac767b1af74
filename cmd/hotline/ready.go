package main

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/hotline-az/hotline/dispatch"
)

// alertWorker is the dispatcher's goroutine (escalation timers, outbox),
// watched so that /readyz fails once alerts no longer go out.
type alertWorker struct {
	done chan struct{}
	err  error // why it stopped; set before done is closed
}

// startAlertWorker runs disp until ctx ends.
func startAlertWorker(ctx context.Context, disp *dispatch.Dispatcher, log zerolog.Logger) *alertWorker {
	w := &alertWorker{done: make(chan struct{})}
	go func() {
		defer close(w.done)
		err := disp.Run(ctx)
		if err == nil && ctx.Err() == nil {
			err = errors.New("returned without being asked to stop")
		}
		if err != nil {
			log.Error().Err(err).Msg("alert worker stopped: no alert will go out until the server restarts")
		}
		w.err = err
	}()
	return w
}

// Running reports whether the worker is still working.
func (w *alertWorker) Running() bool {
	select {
	case <-w.done:
		return false
	default:
		return true
	}
}

// Err is why the worker stopped: nil while it runs or after a clean stop.
func (w *alertWorker) Err() error {
	if w.Running() {
		return nil
	}
	return w.err
}

// pinger takes one durable write (store.Store.Ping).
type pinger interface {
	Ping(ctx context.Context) error
}

// readyCacheFor is how long one durable-write check answers /readyz: a
// probe every second then costs one fsync every few seconds, not one each.
const readyCacheFor = 5 * time.Second

// readiness answers GET /readyz: ready when the alert worker runs and the
// data file took a durable write within the last readyCacheFor.
type readiness struct {
	store    pinger
	worker   *alertWorker
	now      func() time.Time
	cacheFor time.Duration
	log      zerolog.Logger

	// checks are further conditions, each cheap (no write), with the
	// short reason /readyz gives when one fails.
	checks []readyCheck

	mu        sync.Mutex // held during a write check: concurrent probes share it
	checkedAt time.Time
	writeErr  error
}

func newReadiness(st pinger, worker *alertWorker, now func() time.Time, log zerolog.Logger) *readiness {
	return &readiness{store: st, worker: worker, now: now, cacheFor: readyCacheFor, log: log}
}

type readyCheck struct {
	reason string
	check  func() error
}

// also adds a condition to readiness: when check fails, /readyz answers
// 503 with reason (the error goes to the log, not to the prober).
func (r *readiness) also(reason string, check func() error) {
	r.checks = append(r.checks, readyCheck{reason: reason, check: check})
}

// problem is a short reason the server is not ready, or "".
func (r *readiness) problem() string {
	if !r.worker.Running() {
		return "alert worker stopped"
	}
	for _, c := range r.checks {
		if err := c.check(); err != nil {
			r.log.Debug().Err(err).Str("reason", c.reason).Msg("readiness check failed")
			return c.reason
		}
	}
	if r.durableWrite() != nil {
		return "data file does not take durable writes"
	}
	return ""
}

// durableWrite returns the result of the last write check, running a new
// one when that is older than cacheFor.
func (r *readiness) durableWrite() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.checkedAt.IsZero() && r.now().Sub(r.checkedAt) < r.cacheFor {
		return r.writeErr
	}
	// Not the request's context: a prober that hangs up must not leave a
	// cancelled check in the cache.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := r.store.Ping(ctx)
	if err != nil && r.writeErr == nil {
		r.log.Error().Err(err).Msg("readiness: the data file does not take durable writes")
	} else if err == nil && r.writeErr != nil {
		r.log.Info().Msg("readiness: the data file takes durable writes again")
	}
	r.checkedAt, r.writeErr = r.now(), err
	return err
}

func (r *readiness) serveHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if p := r.problem(); p != "" {
		http.Error(w, "not ready: "+p, http.StatusServiceUnavailable)
		return
	}
	w.Write([]byte("ready\n"))
}
