package store

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// errNoStatfs is FreeSpace's error where the platform cannot say.
var errNoStatfs = errors.New("free space is not known on this platform")

// FreeSpace returns the bytes an unprivileged writer can still use in the
// file system of the data directory.
func (s *Store) FreeSpace() (uint64, error) { return freeSpace(s.dir) }

// MinFreeSpace is the floor below which the store warns (zero: no check).
func (s *Store) MinFreeSpace() uint64 { return s.space.floor }

// LowOnSpace is true while the last check found free space under the floor.
func (s *Store) LowOnSpace() bool { return s.space.low.Load() }

// spaceWatch checks free space in the data directory now and then and
// warns while it is under the floor: on a full disk every tip is refused,
// so an operator should hear of it before.
type spaceWatch struct {
	dir   string
	floor uint64
	every time.Duration
	log   zerolog.Logger
	low   atomic.Bool

	stopOnce sync.Once
	quit     chan struct{}
	done     chan struct{}
}

// remindEvery repeats the warning while space stays low, so it shows in
// recent logs and not only at the moment it crossed the floor.
const remindEvery = time.Hour

func startSpaceWatch(dir string, opts Options, log zerolog.Logger) *spaceWatch {
	w := &spaceWatch{dir: dir, floor: opts.MinFreeSpace, every: opts.SpaceCheckInterval, log: log,
		quit: make(chan struct{}), done: make(chan struct{})}
	if w.every <= 0 {
		w.every = time.Minute
	}
	if w.floor == 0 {
		close(w.done)
		return w
	}
	go w.run()
	return w
}

func (w *spaceWatch) run() {
	defer close(w.done)
	var lastWarn time.Time
	tick := time.NewTicker(w.every)
	defer tick.Stop()
	for {
		lastWarn = w.check(lastWarn)
		select {
		case <-w.quit:
			return
		case <-tick.C:
		}
	}
}

// check compares free space with the floor, logs a warning when it is
// under (again after remindEvery) and a note when it is back over.
func (w *spaceWatch) check(lastWarn time.Time) time.Time {
	free, err := freeSpace(w.dir)
	if err != nil {
		if errors.Is(err, errNoStatfs) {
			return lastWarn
		}
		w.log.Warn().Err(err).Msg("cannot read free space in the data directory")
		return lastWarn
	}
	if free >= w.floor {
		if w.low.Swap(false) {
			w.log.Info().Uint64("free_bytes", free).Uint64("min_free_space", w.floor).Msg("free space in the data directory is back above min_free_space")
		}
		return time.Time{}
	}
	w.low.Store(true)
	if lastWarn.IsZero() || time.Since(lastWarn) >= remindEvery {
		w.log.Warn().Uint64("free_bytes", free).Uint64("min_free_space", w.floor).
			Msg("free space in the data directory is below min_free_space: when the disk is full every tip is refused; free some space or grow the volume")
		return time.Now()
	}
	return lastWarn
}

func (w *spaceWatch) stop() {
	w.stopOnce.Do(func() { close(w.quit) })
	<-w.done
}
