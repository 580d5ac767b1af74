package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/console"
	"github.com/hotline-az/hotline/store"
)

// cliState is the case's state as `hotline cases list` shows it.
func (h *harness) cliState(code string) (hotline.CaseStatus, hotline.WorkState) {
	h.t.Helper()
	list, err := console.NewAdmin(h.st, h.disp, time.UTC).Cases(context.Background(), false)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, c := range list {
		if c.Code == code {
			return c.Status, c.State
		}
	}
	h.t.Fatalf("case %s not in hotline cases list", code)
	return "", ""
}

func TestClosedCaseCanBeReopened(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	b.login("Leyla Aliyeva", leylaPass, "")
	casePath := "/cases/" + h.caseCode
	if a := b.submit(casePath, casePath+"/reopen", nil); a.status != http.StatusConflict {
		t.Fatalf("reopening a new case: got %d, want 409", a.status)
	}
	const reason = "Referred to the regional police"
	if a := b.submit(casePath, casePath+"/state", map[string][]string{"state": {"closed"}, "reason": {reason}}); a.status != http.StatusSeeOther {
		t.Fatalf("close: %d", a.status)
	}
	if q := b.get("/queue"); strings.Contains(q.body, h.caseCode) {
		t.Fatalf("a closed case is in the queue")
	}
	if page := b.get(casePath); !strings.Contains(page.body, `id="reopen"`) {
		t.Fatalf("a closed case has no reopen button")
	}
	if a := b.submit(casePath, casePath+"/reopen", nil); a.status != http.StatusSeeOther {
		t.Fatalf("reopen: %d %s", a.status, a.body)
	}
	page := b.get(casePath)
	for _, want := range []string{`id="case-state">icrada<`, "yenidən açılıb: icrada"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("reopened case page lacks %q", want)
		}
	}
	if strings.Contains(page.body, `id="reopen"`) || strings.Contains(page.body, reason) {
		t.Errorf("a reopened case still offers reopening or shows the close reason")
	}
	if q := b.get("/queue"); !strings.Contains(q.body, h.caseCode) {
		t.Fatalf("the reopened case is not back in the queue")
	}
	if status, state := h.cliState(h.caseCode); status != hotline.CaseOpen || state != hotline.WorkInProgress {
		t.Fatalf("hotline cases shows %s/%s, want open/in_progress", status, state)
	}
	e, _ := h.st.Audit(store.AuditFilter{Action: "case.reopen"})
	if len(e) != 1 || e[0].Object != h.caseCode || e[0].Actor != h.officers["Leyla Aliyeva"].ID {
		t.Fatalf("case.reopen entries: %+v", e)
	}
	if a := b.submit(casePath, casePath+"/reopen", nil); a.status != http.StatusConflict {
		t.Fatalf("reopening twice: got %d, want 409", a.status)
	}
	d, err := console.NewAdmin(h.st, h.disp, time.UTC).ShowCase(context.Background(), h.caseCode)
	if err != nil || len(d.History) == 0 || !d.History[len(d.History)-1].Reopened || d.State != hotline.WorkInProgress || d.Reason != "" {
		t.Fatalf("hotline cases show after reopening: state %s, history %+v, reason shown %v (%v)", d.State, d.History, d.Reason != "", err)
	}
	// It can be closed again, with a new reason.
	if a := b.submit(casePath, casePath+"/state", map[string][]string{"state": {"closed"}, "reason": {"Victims safe"}}); a.status != http.StatusSeeOther {
		t.Fatalf("close again: %d", a.status)
	}
}

// An alert acknowledged by SMS: the console's queue and case page and
// `hotline cases` show the same state, and the acknowledgement is in the
// case's audit trail an admin sees in the console.
func TestSMSAckShowsTheSameStateEverywhereAndIsAudited(t *testing.T) {
	h := newHarness(t)
	if reply, _, err := h.disp.Handle(context.Background(), leylaPhone, "a"); err != nil || !strings.Contains(reply, "acknowledged") {
		t.Fatalf("SMS ack: %q %v", reply, err)
	}
	b := h.browser()
	b.login("Leyla Aliyeva", leylaPass, "")
	if q := b.get("/queue"); !strings.Contains(q.body, "<td>qəbul edilib</td>") || !strings.Contains(q.body, "<td>#1 qəbul edilib</td>") {
		t.Fatalf("queue does not show the case and its alert acknowledged, in Azerbaijani:\n%s", q.body)
	}
	if _, state := h.cliState(h.caseCode); state != hotline.WorkAcknowledged {
		t.Fatalf("hotline cases shows %s, want acknowledged", state)
	}
	admin := h.browser()
	admin.login("Farid Admin", adminPass, "")
	page := admin.get("/cases/" + h.caseCode)
	if !strings.Contains(page.body, `id="case-state">qəbul edilib<`) || !strings.Contains(page.body, "</strong> P1 · qəbul edilib ·") || !strings.Contains(page.body, `href="/admin/audit?object=`+h.caseCode+`"`) {
		t.Fatalf("case page: state or audit trail link missing")
	}
	trail := admin.get("/admin/audit?object=" + h.caseCode)
	if trail.status != http.StatusOK || !strings.Contains(trail.body, "<td>alert.acknowledged</td><td>"+h.caseCode+"</td><td>alert=1</td><td>sms</td>") {
		t.Fatalf("the case's audit trail lacks the SMS ack:\n%s", trail.body)
	}
}
