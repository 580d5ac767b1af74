package dispatch_test

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/store"
)

// caseAudit returns the audit entries about a case, oldest first.
func (h *harness) caseAudit(t *testing.T, code string) []store.AuditEntry {
	t.Helper()
	e, err := h.st.Audit(store.AuditFilter{Object: code})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// caseState is the case's workflow state as the console and `hotline
// cases` read it.
func (h *harness) caseState(t *testing.T, caseID string) hotline.WorkState {
	t.Helper()
	var w hotline.CaseWork
	if err := h.st.View(func(tx *store.Tx) (err error) { w, err = tx.CaseWork(caseID); return err }); err != nil {
		t.Fatal(err)
	}
	return w.State
}

// An acknowledgement or close by SMS is in the case's audit trail (who,
// which alert, by SMS) and moves the case to acknowledged.
func TestSMSAckAndCloseAreAuditedOnTheCase(t *testing.T) {
	h := newHarness(t, nil)
	h.sms(reporter, p1Tip)
	h.runDue()
	a := h.onlyAlert()
	if s := h.caseState(t, a.CaseID); s != hotline.WorkNew {
		t.Fatalf("case before the ack: %s, want new", s)
	}
	h.sms(leylaPhone, "1a")
	h.sms(leylaPhone, "1a") // already acknowledged: no second entry
	h.sms(leylaPhone, "1c")
	h.sms(leylaPhone, "yes")
	entries := h.caseAudit(t, a.CaseCode)
	leyla := h.officers[leylaPhone].ID
	want := []struct{ action, detail string }{{"alert.acknowledged", "alert=1"}, {"alert.closed", "alert=1"}}
	if len(entries) != len(want) {
		t.Fatalf("case audit: %+v, want %d entries", entries, len(want))
	}
	for i, w := range want {
		e := entries[i]
		if e.Action != w.action || e.Detail != w.detail || e.Via != "sms" || e.Actor != leyla {
			t.Errorf("entry %d: %+v, want %s %s via sms by the officer", i, e, w.action, w.detail)
		}
	}
	if s := h.caseState(t, a.CaseID); s != hotline.WorkAcknowledged {
		t.Fatalf("case after the SMS ack: %s, want acknowledged", s)
	}
	if _, problems, err := h.st.VerifyAudit(); err != nil || len(problems) > 0 {
		t.Fatalf("audit chain: %v %v", problems, err)
	}
}

// A keypress on an alert call acknowledges every alert the call named:
// each gets its own audit entry, via call.
func TestCallAckIsAuditedOnEachCase(t *testing.T) {
	h := newHarness(t, nil)
	h.p1Tips(2)
	h.runDue()
	for range 3 {
		h.clock.Add(10 * time.Second)
		h.runDue()
	}
	calls := h.callsTo(leylaPhone)
	if len(calls) != 1 {
		t.Fatalf("got %d calls, want one for both alerts", len(calls))
	}
	c := calls[0]
	h.post(pathOf(t, c.URL), url.Values{"CallSid": {c.SID}, "CallStatus": {"in-progress"}, "AnsweredBy": {"human"}})
	code, doc := h.post(pathOf(t, c.URL), url.Values{"CallSid": {c.SID}, "Digits": {"1"}})
	if code != http.StatusOK || !slices.Equal(h.alertCallPlays(doc), []string{"en/alert_acknowledged_many", "en/digit_2", "en/alert_open_console"}) {
		t.Fatalf("keypress: %d %s", code, doc)
	}
	for _, a := range h.alerts() {
		e := h.caseAudit(t, a.CaseCode)
		if len(e) != 1 || e[0].Action != "alert.acknowledged" || e[0].Via != "call" || e[0].Actor != h.officers[leylaPhone].ID {
			t.Errorf("case %s audit: %+v, want one alert.acknowledged via call", a.CaseCode, e)
		}
		if s := h.caseState(t, a.CaseID); s != hotline.WorkAcknowledged {
			t.Errorf("case %s after the call: %s, want acknowledged", a.CaseCode, s)
		}
	}
}
