package web

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Login throttling. Failures are counted per (name, client) pair and per
// client, never per name alone: a lock on a name would let anyone who
// knows an officer's name keep that officer out, even with the right
// password. After a few free failures a key waits a delay that doubles
// with each further failure, up to maxDelay.
//
// A global budget of failures bounds guessing spread over many clients.
// Once it is spent, only pairs that logged in before (this officer from
// this client) may still try: a flood from elsewhere does not lock out
// the officers who use the console. Such a known pair also skips its
// client's count, so a spray of names from a shared office address does
// not lock out the officers who work there.
const (
	pairFreeFailures   = 5
	clientFreeFailures = 20
	maxDelay           = 15 * time.Minute
	// forgetAfter drops a key's failures after this long without one.
	forgetAfter = 24 * time.Hour
	// knownFor is how long a successful login keeps its pair known.
	knownFor = 30 * 24 * time.Hour
	// DefaultLoginFailureBudget is how many failed logins an hour the
	// whole console takes from clients that never logged in before.
	DefaultLoginFailureBudget = 300
	// maxKeys bounds the maps against a flood of made-up names.
	maxKeys = 100000
)

// throttle holds the counts in memory, under keyed hashes (never a name
// or an address). A restart forgets them; the audit log keeps every
// failure.
type throttle struct {
	mu      sync.Mutex
	pairs   map[string]*failures
	clients map[string]*failures
	known   map[string]time.Time // pair → last successful login
	global  *rate.Limiter
	// pending counts attempts let through check whose password or code
	// is still being checked, by key ("" for the global budget): they
	// count as failures until settled, so parallel guesses cannot all
	// pass check before the first of them fails.
	pending map[string]int
	// totpFailed counts wrong codes per half-done login (by session key)
	// and per account (by "a:"+officer id), see failTOTP.
	totpFailed map[string]*failures
	// noted is when a refusal for a key was last written to the audit
	// log: a refused try costs no password check, and must not cost a
	// disk write each either.
	noted map[string]time.Time
}

type failures struct {
	count int
	last  time.Time
	until time.Time
}

// newThrottle allows budget failures an hour across all clients (with
// a burst of the whole budget).
func newThrottle(budget int) *throttle {
	return &throttle{
		pairs:   map[string]*failures{},
		clients: map[string]*failures{},
		known:   map[string]time.Time{},
		global:  rate.NewLimiter(rate.Limit(float64(budget)/3600), budget),
		pending: map[string]int{},
		noted:   map[string]time.Time{},

		totpFailed: map[string]*failures{},
	}
}

// verdict says whether a login attempt may go ahead.
type verdict int

const (
	allowed verdict = iota
	pairWaiting
	clientWaiting
	globalSpent
)

// attempt is a try let through check: until settled (fail or release)
// it counts as a failure of its keys.
type attempt struct {
	t            *throttle
	pair, client string
	// global says whether the try holds a share of the global budget
	// (a pair that logged in before does not).
	global  bool
	settled bool
}

// check says whether pair (from client) may try a password or code now
// and, if it may, reserves the try: the returned attempt must be settled
// with fail or release. A pair that logged in before skips the client
// and global limits; its own delay always applies.
func (t *throttle) check(pair, client string, now time.Time) (verdict, *attempt) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if waiting(t.pairs[pair], now) || t.full(t.pairs[pair], pair, pairFreeFailures, now) {
		return pairWaiting, nil
	}
	a := &attempt{t: t, pair: pair, client: client}
	if at, ok := t.known[pair]; !ok || now.Sub(at) >= knownFor {
		if waiting(t.clients[client], now) || t.full(t.clients[client], client, clientFreeFailures, now) {
			return clientWaiting, nil
		}
		if t.global.TokensAt(now)-float64(t.pending[""]) < 1 {
			return globalSpent, nil
		}
		a.global = true
		t.pending[""]++
		t.pending[client]++
	}
	t.pending[pair]++
	return allowed, a
}

// full says whether key already has tries in flight that, should they
// all fail, would use up its free failures: one more must wait for them.
// With none in flight one try may go ahead, as without parallel tries.
func (t *throttle) full(f *failures, key string, free int, now time.Time) bool {
	n := t.pending[key]
	if n == 0 {
		return false
	}
	if f != nil && now.Sub(f.last) <= forgetAfter {
		n += f.count
	}
	return n >= free
}

// unpend drops the try from the in-flight counts; t.mu is held.
func (a *attempt) unpend() bool {
	if a == nil || a.settled {
		return false
	}
	a.settled = true
	t := a.t
	keys := []string{a.pair}
	if a.global {
		keys = append(keys, a.client, "")
	}
	for _, k := range keys {
		if t.pending[k]--; t.pending[k] <= 0 {
			delete(t.pending, k)
		}
	}
	return true
}

// release settles a try that did not fail (right password, or stopped
// before any check); it costs nothing. Releasing a settled try is a no-op.
func (a *attempt) release() {
	if a == nil {
		return
	}
	a.t.mu.Lock()
	defer a.t.mu.Unlock()
	a.unpend()
}

// fail settles the try as a failed password or code.
func (a *attempt) fail(now time.Time) {
	t := a.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if !a.unpend() {
		return
	}
	count(t.pairs, a.pair, pairFreeFailures, now)
	count(t.clients, a.client, clientFreeFailures, now)
	t.global.AllowN(now, 1)
}

// refusalNoteEvery is how often refusals of one key reach the audit log.
const refusalNoteEvery = time.Minute

// noteRefusal says whether a refusal of key (for v) should be written to
// the audit log now: the first one, then at most one a minute.
func (t *throttle) noteRefusal(v verdict, pair, client string, now time.Time) bool {
	key := map[verdict]string{pairWaiting: pair, clientWaiting: client, globalSpent: "global"}[v]
	t.mu.Lock()
	defer t.mu.Unlock()
	if at, ok := t.noted[key]; ok && now.Sub(at) < refusalNoteEvery {
		return false
	}
	t.noted[key] = now
	if len(t.noted) > maxKeys {
		for k, at := range t.noted {
			if now.Sub(at) >= refusalNoteEvery {
				delete(t.noted, k)
			}
		}
	}
	return true
}

func waiting(f *failures, now time.Time) bool { return f != nil && now.Before(f.until) }

// succeed forgets pair's failures and remembers that it logged in. The
// client's count stays: an officer's own login must not wipe the trail
// of a spray from the same address.
func (t *throttle) succeed(pair string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.pairs, pair)
	t.known[pair] = now
	if len(t.known) > maxKeys {
		for k, at := range t.known {
			if now.Sub(at) > knownFor {
				delete(t.known, k)
			}
		}
	}
}

// count adds a failure of key; free is how many failures cost nothing.
func count(m map[string]*failures, key string, free int, now time.Time) {
	f := m[key]
	if f == nil || now.Sub(f.last) > forgetAfter {
		f = &failures{}
		m[key] = f
	}
	f.count++
	f.last = now
	if over := f.count - free; over > 0 {
		d := time.Second << min(over-1, 20)
		f.until = now.Add(min(d, maxDelay))
	}
	if len(m) > maxKeys {
		for k, v := range m {
			if now.Sub(v.last) > time.Hour && !now.Before(v.until) {
				delete(m, k)
			}
		}
	}
}

// maxTOTPFailures is how many wrong codes a half-done login (password
// proven), and an account across all of them, may send before the login
// must start again from the password. The code is six digits: without a
// cap, someone holding a stolen password could guess it in one session.
const maxTOTPFailures = 5

// failTOTP counts a wrong code for the half-done login session and its
// account, and says whether that login must now end. An account's count
// is forgotten after forgetAfter without a wrong code, or on login.
func (t *throttle) failTOTP(session, account string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	over := false
	for _, key := range []string{session, account} {
		f := t.totpFailed[key]
		if f == nil || now.Sub(f.last) > forgetAfter {
			f = &failures{}
			t.totpFailed[key] = f
		}
		f.count++
		f.last = now
		over = over || f.count >= maxTOTPFailures
	}
	if over { // the login ends: its own count is done with
		delete(t.totpFailed, session)
	}
	if len(t.totpFailed) > maxKeys {
		for k, f := range t.totpFailed {
			if now.Sub(f.last) > time.Hour {
				delete(t.totpFailed, k)
			}
		}
	}
	return over
}

// succeedTOTP forgets the wrong codes of session and account.
func (t *throttle) succeedTOTP(session, account string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.totpFailed, session)
	delete(t.totpFailed, account)
}
