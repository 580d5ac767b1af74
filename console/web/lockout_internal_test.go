package web

import (
	"errors"
	"testing"
	"time"

	"github.com/hotline-az/hotline/crypto"
)

// Tries in flight count against a key's free failures and the global
// budget until settled; a released try costs nothing.
func TestThrottleCountsTriesInFlight(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	th := newThrottle(300)
	var tries []*attempt
	for i := range pairFreeFailures {
		v, a := th.check("p", "c", now)
		if v != allowed {
			t.Fatalf("try %d in flight: %v, want allowed", i+1, v)
		}
		tries = append(tries, a)
	}
	if v, a := th.check("p", "c", now); v != pairWaiting || a != nil {
		t.Fatalf("a sixth try with five in flight: %v, want pairWaiting", v)
	}
	for _, a := range tries {
		a.release()
		a.release() // settling twice is harmless
	}
	if len(th.pending) != 0 {
		t.Fatalf("released tries left counts in flight: %v", th.pending)
	}
	v, a := th.check("p", "c", now)
	if v != allowed {
		t.Fatalf("after releasing: %v, want allowed", v)
	}
	a.fail(now)
	if th.pairs["p"].count != 1 || th.clients["c"].count != 1 {
		t.Fatalf("a failed try was not counted: pair %+v client %+v", th.pairs["p"], th.clients["c"])
	}

	small := newThrottle(2)
	_, a1 := small.check("p1", "c1", now)
	_, a2 := small.check("p2", "c2", now)
	if v, _ := small.check("p3", "c3", now); v != globalSpent {
		t.Fatalf("two tries in flight on a budget of two: %v, want globalSpent", v)
	}
	a1.release()
	a2.fail(now)
	if v, _ := small.check("p3", "c3", now); v != allowed {
		t.Fatalf("one failure of a budget of two: %v, want allowed", v)
	}
}

// With every password-check slot taken, a check is refused at once.
func TestVerifyPasswordRefusesWhenEverySlotIsTaken(t *testing.T) {
	hash, err := crypto.HashPassword("right password", crypto.PasswordParams{Time: 1, MemoryKiB: 1024, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	h := &handler{verifying: make(chan struct{}, 1)}
	if ok, err := h.verifyPassword(hash, "right password"); !ok || err != nil {
		t.Fatalf("a free slot: %v %v, want a checked right password", ok, err)
	}
	h.verifying <- struct{}{}
	if _, err := h.verifyPassword(hash, "right password"); !errors.Is(err, errVerifyBusy) {
		t.Fatalf("no free slot: %v, want errVerifyBusy", err)
	}
}
