package intake

import (
	"sync"
	"time"
)

// referenceLimiter bounds how many references may be keyed: per calling
// number (by its keyed hash) in a day, and by everyone in an hour, so
// the codes cannot be guessed by machine from many lines either. The
// counts live in memory: a restart forgets them (the README says so).
//
// Withheld numbers all look alike, so they are counted per call, and
// together against their own, smaller hourly budget: a caller who hides
// their number can use up neither the tries of callers who show theirs
// nor theirs of other withheld callers beyond that budget.
type referenceLimiter struct {
	perCaller, perHour, perHourWithheld int
	now                                 func() time.Time

	mu       sync.Mutex
	callers  map[string][]time.Time // caller key → tries in the last day
	all      []time.Time            // tries from known numbers in the last hour
	withheld []time.Time            // tries from withheld numbers in the last hour
}

// withheldShare is the part of reference_tries_per_hour that withheld
// callers get as their own budget (at least one try an hour).
const withheldShare = 4

func newReferenceLimiter(perCaller, perHour int, now func() time.Time) *referenceLimiter {
	if now == nil {
		now = time.Now
	}
	return &referenceLimiter{perCaller: perCaller, perHour: perHour, perHourWithheld: max(1, perHour/withheldShare),
		now: now, callers: map[string][]time.Time{}}
}

// allow counts one try by caller and reports whether it may go ahead;
// withheld says the caller key names a call, not a number, and the try
// counts against the withheld callers' budget. A refused try is not
// counted, so a caller over the limit is not kept out longer by trying
// again.
func (l *referenceLimiter) allow(caller string, withheld bool) bool {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	pool, budget := &l.all, l.perHour
	if withheld {
		pool, budget = &l.withheld, l.perHourWithheld
	}
	*pool = since(*pool, now.Add(-time.Hour))
	tries := since(l.callers[caller], now.Add(-24*time.Hour))
	if len(tries) == 0 {
		delete(l.callers, caller)
	}
	if len(*pool) >= budget || len(tries) >= l.perCaller {
		if len(tries) > 0 {
			l.callers[caller] = tries
		}
		return false
	}
	*pool = append(*pool, now)
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
