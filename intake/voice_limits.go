package intake

import (
	"sync"
	"time"
)

// referenceLimiter bounds how many references may be keyed: per calling
// number (by its keyed hash) in a day, and by everyone in an hour, so
// the codes cannot be guessed by machine from many lines either. The
// counts live in memory: a restart forgets them (the README says so).
type referenceLimiter struct {
	perCaller, perHour int
	now                func() time.Time

	mu      sync.Mutex
	callers map[string][]time.Time // caller key → tries in the last day
	all     []time.Time            // everyone's tries in the last hour
}

func newReferenceLimiter(perCaller, perHour int, now func() time.Time) *referenceLimiter {
	if now == nil {
		now = time.Now
	}
	return &referenceLimiter{perCaller: perCaller, perHour: perHour, now: now, callers: map[string][]time.Time{}}
}

// allow counts one try by caller and reports whether it may go ahead. A
// refused try is not counted, so a caller over the limit is not kept out
// longer by trying again.
func (l *referenceLimiter) allow(caller string) bool {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all = since(l.all, now.Add(-time.Hour))
	tries := since(l.callers[caller], now.Add(-24*time.Hour))
	if len(tries) == 0 {
		delete(l.callers, caller)
	}
	if len(l.all) >= l.perHour || len(tries) >= l.perCaller {
		if len(tries) > 0 {
			l.callers[caller] = tries
		}
		return false
	}
	l.all = append(l.all, now)
	l.callers[caller] = append(tries, now)
	if len(l.callers) > 10000 {
		// Drop callers whose tries are all older than a day, so the map
		// does not grow with every number that ever called.
		for k, ts := range l.callers {
			if len(since(ts, now.Add(-24*time.Hour))) == 0 {
				delete(l.callers, k)
			}
		}
	}
	return true
}

// since drops the times before cutoff from ts (oldest first).
func since(ts []time.Time, cutoff time.Time) []time.Time {
	i := 0
	for i < len(ts) && ts[i].Before(cutoff) {
		i++
	}
	return ts[i:]
}
