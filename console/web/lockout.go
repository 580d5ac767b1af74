package web

import (
	"sync"
	"time"
)

// Lockout policy: a few free failures, then a delay that doubles with
// each further failure, up to maxDelay. Addresses get more free failures
// than accounts (several officers may share one office address).
const (
	accountFreeFailures = 3
	addressFreeFailures = 10
	maxDelay            = 15 * time.Minute
	// forgetAfter drops a key's failures after this long without one.
	forgetAfter = 24 * time.Hour
)

// limiter counts failed logins per key (keyed hashes of an account name
// or a client address, never the values) in memory. A restart forgets
// them; the audit log keeps every failure.
type limiter struct {
	mu   sync.Mutex
	keys map[string]*failures
}

type failures struct {
	count int
	last  time.Time
	until time.Time
}

func newLimiter() *limiter { return &limiter{keys: map[string]*failures{}} }

// blockedUntil returns when key may try again (zero: now).
func (l *limiter) blockedUntil(key string, now time.Time) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.keys[key]
	if f == nil || !now.Before(f.until) {
		return time.Time{}
	}
	return f.until
}

// fail records a failure of key; free is how many failures cost nothing.
func (l *limiter) fail(key string, free int, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.keys[key]
	if f == nil || now.Sub(f.last) > forgetAfter {
		f = &failures{}
		l.keys[key] = f
	}
	f.count++
	f.last = now
	if over := f.count - free; over > 0 {
		d := time.Second << min(over-1, 20)
		f.until = now.Add(min(d, maxDelay))
	}
	if len(l.keys) > 100000 { // a flood of made-up names: drop the stale ones
		for k, v := range l.keys {
			if now.Sub(v.last) > time.Hour {
				delete(l.keys, k)
			}
		}
	}
}

// reset forgets key's failures (after a successful login).
func (l *limiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.keys, key)
}
