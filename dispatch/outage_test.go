package dispatch_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/store"
)

// TestTenMinuteOutage: Twilio answers 503 for ten (simulated) minutes
// while two P1 tips come in. Sends retry for as long as their alerts are
// open, the escalation goes on to the backup and the supervisor
// meanwhile, the dispatcher reports itself unready after the alarm time,
// and once Twilio is back every queued SMS and call goes out exactly once.
func TestTenMinuteOutage(t *testing.T) {
	h := newHarness(t, nil)
	h.twilio.SetDown(true)
	h.sms(reporter, p1Tip)
	start := h.clock.Now()
	if err := h.disp.Ready(); err == nil || !strings.Contains(err.Error(), "not running") {
		t.Fatalf("Ready before Run: %v, want 'not running'", err)
	}
	unreadyAt := time.Duration(0)
	for h.clock.Now().Sub(start) < 10*time.Minute {
		h.clock.Add(10 * time.Second)
		if h.clock.Now().Sub(start) == 2*time.Minute {
			h.sms("+994557654322", p1Tip)
		}
		h.runDue()
		if r := h.disp.Health(); unreadyAt == 0 && r.TwilioFailingFor > 2*time.Minute {
			unreadyAt = h.clock.Now().Sub(start)
			if !strings.Contains(r.LastFailure, "503") {
				t.Errorf("last failure %q, want the 503", r.LastFailure)
			}
		}
	}
	h.wantSent("while down", map[string]int{}, map[string]int{})
	if unreadyAt == 0 || unreadyAt > 3*time.Minute {
		t.Fatalf("Twilio failing was reported after %s, want soon after the 2 min alarm", unreadyAt)
	}
	for _, a := range h.alerts() {
		if a.State != hotline.AlertOpen || a.Step < 2 {
			t.Fatalf("alert %d during the outage: state %s step %d; the escalation should have gone on", a.Number, a.State, a.Step)
		}
	}
	var jobs []hotline.Job
	h.st.View(func(tx *store.Tx) error { jobs, _ = tx.Jobs(""); return nil })
	for _, j := range jobs {
		if j.State == hotline.JobDead || j.State == hotline.JobUncertain {
			t.Fatalf("a send gave up during the outage: %+v", j)
		}
	}

	h.twilio.SetDown(false)
	for range 18 { // three minutes
		h.clock.Add(10 * time.Second)
		h.runDue()
	}
	if r := h.disp.Health(); r.TwilioFailingFor != 0 {
		t.Fatalf("still failing after recovery: %+v", r)
	}
	// Each alert's SMS to each officer paged (on duty, backup,
	// supervisor) exactly once; one call per officer names both alerts.
	h.wantSent("after recovery",
		map[string]int{leylaPhone: 2, rashadPhone: 2, ayselPhone: 2},
		map[string]int{leylaPhone: 1, rashadPhone: 1, ayselPhone: 1})
	seen := map[string]bool{}
	for _, m := range h.twilio.Messages() {
		if seen[m.To+m.Body] {
			t.Fatalf("an SMS went out twice: %q", m.Body)
		}
		seen[m.To+m.Body] = true
	}
	h.st.View(func(tx *store.Tx) error { jobs, _ = tx.Jobs(""); return nil })
	for _, j := range jobs {
		if j.Kind == hotline.JobAlertSMS && (j.State != hotline.JobSent || !j.HasSID) {
			t.Errorf("SMS job after recovery: %+v", j)
		}
	}
}
