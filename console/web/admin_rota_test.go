package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hotline-az/hotline/store"
)

// wantAudit checks that the newest entry of action was made by the
// admin in the console, from an address tag.
func (h *harness) wantAudit(action, object string) {
	h.t.Helper()
	e, err := h.st.Audit(store.AuditFilter{Action: action})
	if err != nil || len(e) == 0 {
		h.t.Fatalf("no %s audit entry (%v)", action, err)
	}
	last := e[len(e)-1]
	if last.Actor != h.officers["Farid Admin"].ID || last.Via != "console" || last.From == "" || (object != "" && last.Object != object) {
		h.t.Fatalf("%s entry: %+v, want the admin via console on %q", action, last, object)
	}
}

func TestAdminChangesTheRota(t *testing.T) {
	h := newHarness(t)
	admin := h.browser()
	admin.login("Farid Admin", adminPass, "")
	set := func(form url.Values) answer {
		t.Helper()
		return admin.submit("/admin/rota", "/admin/rota/shifts", form)
	}
	if a := set(url.Values{"day": {"mon"}, "start": {"25:00"}, "end": {"08:00"}, "officer": {"Farid Admin"}}); a.status != http.StatusBadRequest {
		t.Fatalf("a shift at 25:00: got %d, want 400", a.status)
	}
	if a := set(url.Values{"day": {"mon"}, "start": {"08:00"}, "end": {"20:00"}, "officer": {"Nobody Here"}}); a.status/100 != 4 {
		t.Fatalf("an unknown officer: got %d, want a 4xx", a.status)
	}
	// Monday 08:00-20:00 goes to the admin, in place of Leyla's all-day shift.
	if a := set(url.Values{"day": {"mon"}, "start": {"00:00"}, "end": {"24:00"}, "officer": {"Farid Admin"}, "backup": {"Leyla Aliyeva"}}); a.status != http.StatusSeeOther {
		t.Fatalf("set shift: %d %s", a.status, a.body)
	}
	h.wantAudit("rota.shift_set", "")
	page := admin.get("/admin/rota")
	if !strings.Contains(page.body, "<th>P1</th><td>+0s: on_duty (sms, call)<br>+5m0s: backup (sms, call)<br>") {
		t.Fatalf("rota page does not show the escalation")
	}
	if !strings.Contains(page.body, "<td>mon</td><td>00:00</td><td>24:00</td><td>Farid Admin</td><td>Leyla Aliyeva</td>") {
		t.Fatalf("rota page does not show the changed shift")
	}
	if a := admin.submit("/admin/rota", "/admin/rota/shifts/remove", url.Values{"day": {"mon"}, "start": {"00:00"}}); a.status != http.StatusSeeOther {
		t.Fatalf("remove shift: %d %s", a.status, a.body)
	}
	h.wantAudit("rota.shift_removed", "")

	// An override puts the admin on duty now (the clock is Wednesday 03:00 in Baku).
	from := h.clock.Now().In(mustZone(t, "Asia/Baku")).Format("2006-01-02T15:04")
	if a := admin.submit("/admin/rota", "/admin/rota/overrides", url.Values{"officer": {"Farid Admin"}, "from": {from}, "hours": {"2"}}); a.status != http.StatusSeeOther {
		t.Fatalf("override: %d %s", a.status, a.body)
	}
	h.wantAudit("rota.override", "")
	page = admin.get("/admin/rota")
	if !strings.Contains(page.body, `<strong id="on-duty">Farid Admin</strong>`) {
		t.Fatalf("the override does not put the admin on duty")
	}
	if a := admin.submit("/admin/rota", "/admin/rota/overrides", url.Values{"officer": {"Farid Admin"}, "from": {"tomorrow"}, "hours": {"2"}}); a.status != http.StatusBadRequest {
		t.Fatalf("an unreadable from: got %d, want 400", a.status)
	}
	e, _ := h.st.Audit(store.AuditFilter{Action: "rota.override"})
	if a := admin.submit("/admin/rota", "/admin/rota/overrides/"+e[0].Object+"/cancel", nil); a.status != http.StatusSeeOther {
		t.Fatalf("cancel override: %d %s", a.status, a.body)
	}
	h.wantAudit("rota.override_cancelled", e[0].Object)
	if page = admin.get("/admin/rota"); !strings.Contains(page.body, `<strong id="on-duty">Leyla Aliyeva</strong>`) {
		t.Fatalf("after cancelling, Leyla is not on duty again")
	}
}

func TestAdminSetsAnOfficersPassword(t *testing.T) {
	h := newHarness(t)
	officer := h.browser()
	secret := officer.login("Leyla Aliyeva", leylaPass, "")
	admin := h.browser()
	admin.login("Farid Admin", adminPass, "")
	leyla := h.officers["Leyla Aliyeva"].ID
	path := "/admin/officers/" + leyla
	const set = "set by the admin for leyla"
	if a := admin.submit(path, path+"/password", url.Values{"new": {set}, "again": {set + "x"}}); a.status != http.StatusBadRequest {
		t.Fatalf("passwords that differ: got %d, want 400", a.status)
	}
	if a := admin.submit(path, path+"/password", url.Values{"new": {"short"}, "again": {"short"}}); a.status != http.StatusBadRequest {
		t.Fatalf("a short password: got %d, want 400", a.status)
	}
	if a := admin.submit(path, path+"/password", url.Values{"new": {set}, "again": {set}}); a.status != http.StatusSeeOther {
		t.Fatalf("set password: %d %s", a.status, a.body)
	}
	h.wantAudit("admin.password_set", leyla)
	if a := officer.get("/queue"); a.status != http.StatusSeeOther {
		t.Fatalf("the officer's session survived the new password: %d", a.status)
	}
	officer.login("Leyla Aliyeva", set, secret)
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
