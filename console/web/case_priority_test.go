package web_test

import (
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/internal/leaktest"
	"github.com/hotline-az/hotline/store"
)

const priorityReason = "Qız səfirliyin telefon nömrəsini soruşur, heç kim saxlanmır"

// openAlert returns the case's open alert, if any.
func (h *harness) openAlert(code string) (hotline.Alert, bool) {
	h.t.Helper()
	var a hotline.Alert
	var ok bool
	err := h.st.View(func(tx *store.Tx) error {
		c, err := tx.CaseByCode(code)
		if err != nil {
			return err
		}
		a, ok, err = tx.OpenAlertForCase(c.ID)
		return err
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return a, ok
}

func TestOfficerLowersAP1InTheConsole(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	b.login("Leyla Aliyeva", leylaPass, "")
	page := "/cases/" + h.caseCode
	path := page + "/priority"
	alert, ok := h.openAlert(h.caseCode)
	if !ok {
		t.Fatal("the harness's P1 case has no open alert")
	}

	for _, bad := range []struct {
		label string
		form  url.Values
		want  int
	}{
		{"no reason", url.Values{"priority": {"P2"}}, http.StatusBadRequest},
		{"blank reason", url.Values{"priority": {"P2"}, "reason": {"   "}}, http.StatusBadRequest},
		{"unknown priority", url.Values{"priority": {"P9"}, "reason": {"x"}}, http.StatusBadRequest},
		{"same priority", url.Values{"priority": {"P1"}, "reason": {"x"}}, http.StatusConflict},
		{"reason too long", url.Values{"priority": {"P2"}, "reason": {strings.Repeat("a", store.MaxCorrectionReason+1)}}, http.StatusRequestEntityTooLarge},
	} {
		if a := b.submit(page, path, bad.form); a.status != bad.want {
			t.Errorf("%s: got %d, want %d", bad.label, a.status, bad.want)
		}
	}
	if a := b.post(path, url.Values{"priority": {"P2"}, "reason": {priorityReason}}); a.status != http.StatusForbidden {
		t.Fatalf("without a CSRF token: got %d, want 403", a.status)
	}
	if _, still := h.openAlert(h.caseCode); !still {
		t.Fatal("a refused change acknowledged the alert")
	}

	a := b.submit(page, path, url.Values{"priority": {"P2"}, "reason": {priorityReason}})
	if a.status != http.StatusSeeOther || a.header.Get("Location") != page+"?m=case.priority.acked" {
		t.Fatalf("lower P1 to P2: got %d to %q, want 303 to %s?m=case.priority.acked\n%s", a.status, a.header.Get("Location"), page, a.body)
	}
	shown := b.get(page + "?m=case.priority.acked")
	for _, want := range []string{`class="prio P2"`, `id="corrections"`, "P1 → P2", html.EscapeString(priorityReason), "confined, distress", "Leyla Aliyeva"} {
		if !strings.Contains(shown.body, want) {
			t.Errorf("case page after the change lacks %q", want)
		}
	}
	if _, still := h.openAlert(h.caseCode); still {
		t.Error("lowering the case left its alert open")
	}
	var acked hotline.Alert
	var work hotline.CaseWork
	h.st.View(func(tx *store.Tx) error {
		acked, _ = tx.Alert(alert.ID)
		work, _ = tx.CaseWork(alert.CaseID)
		return nil
	})
	if work.State != hotline.WorkAcknowledged {
		t.Errorf("workflow after lowering: got %s, want acknowledged", work.State)
	}
	if acked.State != hotline.AlertAcknowledged || acked.AckedBy != h.officers["Leyla Aliyeva"].ID || acked.AckedVia != "console" {
		t.Errorf("alert after lowering: got state %s by %s via %s, want acknowledged by Leyla via console", acked.State, acked.AckedBy, acked.AckedVia)
	}
	entries, err := h.st.Audit(store.AuditFilter{Action: "case.priority"})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Object != h.caseCode || entries[0].Actor != h.officers["Leyla Aliyeva"].ID ||
		!strings.HasPrefix(entries[0].Detail, "P1>P2 triage=P1 acked_alert=") {
		t.Errorf("audit: got %+v, want one case.priority entry by Leyla, P1>P2, alert acknowledged", entries)
	}
	st, err := h.st.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Corrections.P1Lowered != 1 || st.P1 != 0 || st.P2 != 1 {
		t.Errorf("stats: got %+v (P1 %d, P2 %d), want one P1 lowered and the case counted as P2", st.Corrections, st.P1, st.P2)
	}

	// Raising a P3 case to P1 pages the duty officer.
	code := h.inbound("+994557000111", "salam, sağ olun", hotline.P3)
	sent := len(h.twilio.Messages())
	a = b.submit("/cases/"+code, "/cases/"+code+"/priority", url.Values{"priority": {"P1"}, "reason": {"the texts say they are moved tonight"}})
	if a.status != http.StatusSeeOther || !strings.HasSuffix(a.header.Get("Location"), "?m=case.priority.alerted") {
		t.Fatalf("raise P3 to P1: got %d to %q, want 303 with case.priority.alerted", a.status, a.header.Get("Location"))
	}
	if raised, ok := h.openAlert(code); !ok || raised.Priority != hotline.P1 || !raised.Raised {
		t.Errorf("after raising: got alert %+v (open %v), want an open, raised P1 alert", raised, ok)
	}
	if err := h.disp.RunDue(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(h.twilio.Messages()) <= sent {
		t.Errorf("raising to P1 sent no alert SMS (fake Twilio has %d messages, had %d)", len(h.twilio.Messages()), sent)
	}

	raw, err := os.ReadFile(filepath.Join(h.dir, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	for where, text := range map[string]string{"the data file": string(raw), "the logs": h.logs.String()} {
		leaktest.Check(t, where, text, leaktest.Runs(priorityReason, 12)...)
		leaktest.Check(t, where, text, "moved tonight", "confined")
	}
}
