package dispatch_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/dispatch"
	"github.com/hotline-az/hotline/store"
	"github.com/hotline-az/hotline/twiliotest"
)

// alerts returns every alert, newest first.
func (h *harness) alerts() []hotline.Alert {
	h.t.Helper()
	var all []hotline.Alert
	if err := h.st.View(func(tx *store.Tx) error {
		var err error
		all, err = tx.Alerts()
		return err
	}); err != nil {
		h.t.Fatal(err)
	}
	return all
}

// callsTo returns the calls the fake Twilio placed to phone.
func (h *harness) callsTo(phone string) []twiliotest.FakeCall {
	var out []twiliotest.FakeCall
	for _, c := range h.twilio.Calls() {
		if c.To == phone {
			out = append(out, c)
		}
	}
	return out
}

// pathOf turns a URL Twilio was given into the path and query to post to.
func pathOf(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Path + "?" + u.RawQuery
}

// callStatus posts a call status callback as Twilio would for call c.
func (h *harness) callStatus(t *testing.T, c twiliotest.FakeCall, status string) int {
	t.Helper()
	code, body := h.post(pathOf(t, c.StatusCallback), url.Values{"CallSid": {c.SID}, "CallStatus": {status}})
	if code != http.StatusNoContent {
		t.Logf("status %s for call: %d %q", status, code, body)
	}
	return code
}

// p1Tips sends n P1 tips from n reporters.
func (h *harness) p1Tips(n int) {
	h.t.Helper()
	for i := range n {
		h.sms(fmt.Sprintf("+99455765%04d", i), p1Tip)
	}
}

// TestLostCallAnswerIsNeverCrossed: two P1 tips at once, and the answer to
// the first call request is lost, either after Twilio created the call or
// before it saw it. The retry must find its own call or place one; it must
// never adopt a call another alert placed, whose status callbacks would
// then be refused.
func TestLostCallAnswerIsNeverCrossed(t *testing.T) {
	for _, created := range []bool{true, false} {
		t.Run(fmt.Sprintf("created=%v", created), func(t *testing.T) {
			h := newHarness(t, nil)
			h.twilio.DropNextCreate("Calls", 1, created)
			h.p1Tips(2)
			h.runDue()
			for range 3 {
				h.clock.Add(10 * time.Second)
				h.runDue()
			}
			calls := h.callsTo(leylaPhone)
			if len(calls) != 1 {
				t.Fatalf("got %d calls to the on-duty officer, want one call for both alerts", len(calls))
			}
			c := calls[0]
			if code := h.callStatus(t, c, "ringing"); code != http.StatusNoContent {
				t.Fatalf("the call's own status callback was refused: %d", code)
			}
			code, doc := h.post(pathOf(t, c.URL), url.Values{"CallSid": {c.SID}, "CallStatus": {"in-progress"}, "AnsweredBy": {"human"}})
			if plays := h.alertCallPlays(doc); code != 200 || len(plays) < 5 ||
				!slices.Equal(plays[:5], []string{"en/alert_many", "en/digit_2", "en/alert_most_urgent", "en/alert_priority", "en/digit_1"}) {
				t.Fatalf("call TwiML: %d %s", code, doc)
			}
			code, doc = h.post(pathOf(t, c.URL), url.Values{"CallSid": {c.SID}, "Digits": {"1"}})
			if plays := h.alertCallPlays(doc); code != 200 ||
				!slices.Equal(plays, []string{"en/alert_acknowledged_many", "en/digit_2", "en/alert_open_console"}) {
				t.Fatalf("keypress: %d %s", code, doc)
			}
			if code := h.callStatus(t, c, "completed"); code != http.StatusNoContent {
				t.Fatalf("completed: %d", code)
			}
			for _, a := range h.alerts() {
				if a.State != hotline.AlertAcknowledged || a.AckedVia != "call" || a.AckedBy != h.officers[leylaPhone].ID {
					t.Fatalf("alert %d after the keypress: %+v", a.Number, a)
				}
			}
			for range 4 {
				h.clock.Add(5 * time.Minute)
				h.runDue()
			}
			h.wantSent("after the keypress", map[string]int{leylaPhone: 2}, map[string]int{leylaPhone: 1})
			var jobs []hotline.Job
			h.st.View(func(tx *store.Tx) error { jobs, _ = tx.Jobs(""); return nil })
			for _, j := range jobs {
				rider := j.SharedCall != "" && j.State == hotline.JobCancelled
				if j.Kind == hotline.JobAlertCall && j.State != hotline.JobDelivered && !rider {
					t.Errorf("call job after an acknowledged call: %+v", j)
				}
			}
		})
	}
}

// TestOneCallAtATimePerOfficer: five P1 tips at once ring the on-duty
// phone once, not five times; when that call goes unanswered every alert
// moves on to the backup at once, again with one call.
func TestOneCallAtATimePerOfficer(t *testing.T) {
	h := newHarness(t, nil)
	h.p1Tips(5)
	h.runDue()
	h.runDue()
	h.wantSent("at once", map[string]int{leylaPhone: 5}, map[string]int{leylaPhone: 1})
	c := h.callsTo(leylaPhone)[0]
	if code := h.callStatus(t, c, "no-answer"); code != http.StatusNoContent {
		t.Fatalf("no-answer: %d", code)
	}
	h.runDue()
	h.runDue()
	h.wantSent("after no answer", map[string]int{leylaPhone: 5, rashadPhone: 5}, map[string]int{leylaPhone: 1, rashadPhone: 1})
	for _, a := range h.alerts() {
		if a.Step != 2 {
			t.Errorf("alert %d is at step %d, want 2 (backup paged)", a.Number, a.Step)
		}
	}
}

// TestVoicemailIsNotAnAnswer: a call a mailbox answers, or one that ends
// without the keypress, moves the alert to its next step at once.
func TestVoicemailIsNotAnAnswer(t *testing.T) {
	for _, answeredBy := range []string{"machine_start", "machine_end_beep", "human"} {
		t.Run(answeredBy, func(t *testing.T) {
			h := newHarness(t, nil)
			h.sms(reporter, p1Tip)
			h.runDue()
			c := h.callsTo(leylaPhone)[0]
			if c.Timeout != "18" || c.MachineDetection != "Enable" || c.FallbackURL != c.URL {
				t.Fatalf("call rings %qs, machine detection %q, fallback %q; want 18, Enable, the TwiML URL", c.Timeout, c.MachineDetection, c.FallbackURL)
			}
			if m := h.twilio.Messages()[0]; m.ValidityPeriod == "" {
				t.Fatal("alert SMS has no ValidityPeriod")
			}
			code, doc := h.post(pathOf(t, c.URL), url.Values{"CallSid": {c.SID}, "CallStatus": {"in-progress"}, "AnsweredBy": {answeredBy}})
			machine := answeredBy != "human"
			if code != 200 || strings.Contains(doc, "<Gather") == machine {
				t.Fatalf("TwiML for a call answered by %s: %d %s", answeredBy, code, doc)
			}
			// Leyla has no language set: her call is in English.
			if plays := h.alertCallPlays(doc); !machine && (len(plays) == 0 || plays[0] != "en/alert_intro") {
				t.Fatalf("call to an officer without a language plays %v, want en/alert_intro first", plays)
			}
			h.callStatus(t, c, "completed")
			h.runDue() // no clock change
			h.wantSent("after an unanswered call", map[string]int{leylaPhone: 1, rashadPhone: 1}, map[string]int{leylaPhone: 1, rashadPhone: 1})
			if a := h.onlyAlert(); a.State != hotline.AlertOpen || a.Step != 2 {
				t.Fatalf("alert after voicemail: state %s step %d, want open at step 2", a.State, a.Step)
			}
		})
	}
}

// TestEveryDocumentedStatusIsAccepted: every message and call status Twilio
// documents is taken, partially_delivered included.
func TestEveryDocumentedStatusIsAccepted(t *testing.T) {
	h := newHarness(t, nil)
	h.sms(reporter, p1Tip)
	h.runDue()
	m := h.twilio.Messages()[0]
	for _, st := range []string{"accepted", "scheduled", "queued", "sending", "sent", "partially_delivered", "delivered", "read", "undelivered", "failed", "canceled", "receiving", "received"} {
		if code, body := h.post(pathOf(t, m.StatusCallback), url.Values{"MessageSid": {m.SID}, "MessageStatus": {st}}); code != http.StatusNoContent {
			t.Errorf("message status %s: %d %q", st, code, body)
		}
	}
	c := h.callsTo(leylaPhone)[0]
	for _, st := range []string{"queued", "initiated", "ringing", "in-progress", "completed", "busy", "failed", "no-answer", "canceled"} {
		if code := h.callStatus(t, c, st); code != http.StatusNoContent {
			t.Errorf("call status %s: %d", st, code)
		}
	}
}

// TestAStaleCallStopsBlockingWhileAlertsKeepComing: a call whose final
// status never arrives counts as in flight for maxCallTime from when it
// was placed, not from when the last alert joined it. Before, every new
// alert riding on it restarted the clock, so a stream of P1 tips (one a
// minute or so, as in a real incident) kept the officer's phone silent.
func TestAStaleCallStopsBlockingWhileAlertsKeepComing(t *testing.T) {
	h := newHarness(t, nil)
	h.sms("+994557660000", p1Tip)
	h.runDue()
	h.runDue()
	if n := len(h.callsTo(leylaPhone)); n != 1 {
		t.Fatalf("first alert: %d calls, want 1", n)
	}
	// Its status callbacks are lost; a new P1 tip every 50 s rides on it.
	var elapsed time.Duration
	for i := 1; elapsed < dispatch.MaxCallTime+20*time.Second; i++ {
		h.clock.Add(50 * time.Second)
		elapsed += 50 * time.Second
		h.sms(fmt.Sprintf("+99455766%04d", i), p1Tip)
		h.runDue()
		h.runDue()
	}
	if n := len(h.callsTo(leylaPhone)); n != 2 {
		t.Fatalf("%s after a call with no outcome, with new alerts riding on it: %d calls to the officer, want a second one", elapsed, n)
	}
}
