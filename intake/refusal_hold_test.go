package intake_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/rs/zerolog/hlog"

	"github.com/hotline-az/hotline/intake"
	"github.com/hotline-az/hotline/triage"
)

// TestForgedRefusalsAreHeld: with a RefusalDelay, a request refused
// before a signature proved it Twilio's is answered no sooner than the
// delay, with MaxHeldRefusals held at once and the rest answered at once;
// a signed tip, and a signed request refused for a field, are not held.
func TestForgedRefusalsAreHeld(t *testing.T) {
	const delay = 2 * time.Second
	e := newEnv(t)
	v, err := intake.NewVerifier(intake.VerifierConfig{
		PublicURL: publicURL, AuthTokens: []string{token},
		AccountSID: accountSID, Numbers: []string{hotlineNum}, RefusalDelay: delay,
	})
	if err != nil {
		t.Fatal(err)
	}
	h := hlog.NewHandler(zerolog.Nop())(intake.NewSMSHandler(intake.SMSConfig{Verifier: v, Store: e.store, Triager: triage.Default()}))
	timed := func(req *http.Request) (int, time.Duration) {
		start := time.Now()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code, time.Since(start)
	}

	smsURL := publicURL + "/twilio/sms"
	if status, took := timed(signed(t, token, smsURL, fixture(t, "sms_inbound"))); status != 200 || took >= delay {
		t.Fatalf("signed tip: got %d after %v, want 200 before %v", status, took, delay)
	}
	other := fixture(t, "sms_inbound")
	other.Set("To", "+994125550001")
	if status, took := timed(signed(t, token, smsURL, other)); status != 403 || took >= delay {
		t.Fatalf("signed tip to another number: got %d after %v, want 403 before %v", status, took, delay)
	}

	const extra = 4
	forged := make([]*http.Request, intake.MaxHeldRefusals+extra)
	for i := range forged {
		forged[i] = signed(t, "nottoken999", smsURL, fixture(t, "sms_inbound"))
	}
	var mu sync.Mutex
	var held, quick int
	var wg sync.WaitGroup
	for _, req := range forged {
		wg.Go(func() {
			status, took := timed(req)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case status != 403:
				t.Errorf("forged request: got %d, want 403", status)
			case took >= delay:
				held++
			case took < delay/2:
				quick++
			}
		})
	}
	wg.Wait()
	if held != intake.MaxHeldRefusals || quick != extra {
		t.Fatalf("of %d forged requests at once: %d held for %v and %d answered at once, want %d and %d",
			len(forged), held, delay, quick, intake.MaxHeldRefusals, extra)
	}
}
