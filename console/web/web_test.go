package web_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/internal/leaktest"
	"github.com/hotline-az/hotline/store"
)

var adminGets = []string{"/admin/officers", "/admin/rota", "/admin/outbox", "/admin/audit"}

func TestAdminRoutesRefuseOfficersAndAnonymous(t *testing.T) {
	h := newHarness(t)
	anon := h.browser()
	for _, p := range append(adminGets, "/queue", "/cases/"+h.caseCode) {
		a := anon.get(p)
		if a.status != http.StatusSeeOther || a.header.Get("Location") != "/login" {
			t.Errorf("anonymous GET %s: got %d to %q, want 303 to /login", p, a.status, a.header.Get("Location"))
		}
	}
	officer := h.browser()
	officer.login("Leyla Aliyeva", leylaPass, "")
	for _, p := range adminGets {
		if a := officer.get(p); a.status != http.StatusForbidden {
			t.Errorf("officer GET %s: got %d, want 403", p, a.status)
		}
	}
	adminID := h.officers["Farid Admin"].ID
	for _, p := range []string{"/admin/officers", "/admin/officers/" + adminID + "/reset-totp", "/admin/officers/" + adminID + "/revoke", "/admin/outbox/x/retry",
		"/admin/officers/" + adminID, "/admin/officers/" + adminID + "/password",
		"/admin/rota/shifts", "/admin/rota/shifts/remove", "/admin/rota/overrides", "/admin/rota/overrides/x/cancel"} {
		if a := officer.submit("/queue", p, url.Values{"name": {"X Y"}, "phone": {"+994501119999"}, "role": {"admin"}}); a.status != http.StatusForbidden {
			t.Errorf("officer POST %s: got %d, want 403", p, a.status)
		}
	}
	admin := h.browser()
	admin.login("Farid Admin", adminPass, "")
	for _, p := range adminGets {
		if a := admin.get(p); a.status != http.StatusOK {
			t.Errorf("admin GET %s: got %d, want 200", p, a.status)
		}
	}
}

func TestFormWithoutCSRFTokenIsRefused(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	b.login("Leyla Aliyeva", leylaPass, "")
	path := "/cases/" + h.caseCode + "/notes"
	if a := b.post(path, url.Values{"text": {"no token"}}); a.status != http.StatusForbidden {
		t.Fatalf("note without CSRF token: got %d, want 403", a.status)
	}
	if a := b.post(path, url.Values{"text": {"bad token"}, "csrf_token": {"AAAA"}}); a.status != http.StatusForbidden {
		t.Fatalf("note with a wrong CSRF token: got %d, want 403", a.status)
	}
	if a := b.submit("/cases/"+h.caseCode, path, url.Values{"text": {"with token"}}); a.status != http.StatusSeeOther {
		t.Fatalf("note with CSRF token: got %d, want 303\n%s", a.status, a.body)
	}
	// A login form is protected too.
	if a := h.browser().post("/login", url.Values{"name": {"Leyla Aliyeva"}, "password": {leylaPass}}); a.status != http.StatusForbidden {
		t.Fatalf("login without CSRF token: got %d, want 403", a.status)
	}
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	answers := map[string]answer{
		"login":         b.get("/login"),
		"anon redirect": b.get("/queue"),
		"not found":     b.get("/nope"),
		"stylesheet":    b.get("/static/console.css"),
		"csrf refused":  b.post("/login", url.Values{}),
	}
	b.login("Leyla Aliyeva", leylaPass, "")
	answers["queue"] = b.get("/queue")
	answers["case"] = b.get("/cases/" + h.caseCode)
	answers["forbidden"] = b.get("/admin/audit")
	for label, a := range answers {
		for k, want := range map[string]string{
			"Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; media-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
			"Cache-Control":           "no-store",
			"X-Frame-Options":         "DENY",
			"Referrer-Policy":         "no-referrer",
		} {
			if got := a.header.Get(k); got != want {
				t.Errorf("%s (%d): %s = %q, want %q", label, a.status, k, got, want)
			}
		}
	}
	if !strings.Contains(answers["queue"].body, `http-equiv="refresh"`) {
		t.Errorf("queue does not refresh itself")
	}
	if strings.Contains(answers["queue"].body, "<script") || strings.Contains(answers["case"].body, "<script") {
		t.Errorf("a page carries a script")
	}
	for _, c := range b.c.Jar.Cookies(mustURL(h.srv.URL)) {
		_ = c // the jar hides attributes; checked on Set-Cookie below
	}
}

func TestSessionCookieAttributes(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	a := b.submit("/login", "/login", url.Values{"name": {"Leyla Aliyeva"}, "password": {leylaPass}})
	found := false
	for _, c := range a.header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "hotline_session=") {
			found = true
			for _, attr := range []string{"HttpOnly", "SameSite=Strict", "Path=/"} {
				if !strings.Contains(c, attr) {
					t.Errorf("session cookie %q lacks %s", c, attr)
				}
			}
		}
	}
	if !found {
		t.Fatalf("no session cookie set: %v", a.header.Values("Set-Cookie"))
	}
}

func mustURL(s string) *url.URL { u, _ := url.Parse(s); return u }

func TestSessionExpires(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	secret := b.login("Leyla Aliyeva", leylaPass, "")
	if a := b.get("/queue"); a.status != http.StatusOK {
		t.Fatalf("queue after login: %d", a.status)
	}
	h.clock.Add(29 * time.Minute)
	if a := b.get("/queue"); a.status != http.StatusOK {
		t.Fatalf("queue after 29 idle minutes: got %d, want 200", a.status)
	}
	h.clock.Add(31 * time.Minute)
	if a := b.get("/queue"); a.status != http.StatusSeeOther {
		t.Fatalf("queue after 31 idle minutes: got %d, want 303 to login", a.status)
	}

	// Absolute timeout: active every 20 minutes, still out after 12 hours.
	b.login("Leyla Aliyeva", leylaPass, secret)
	for elapsed := time.Duration(0); elapsed < 12*time.Hour-20*time.Minute; elapsed += 20 * time.Minute {
		h.clock.Add(20 * time.Minute)
		if a := b.get("/queue"); a.status != http.StatusOK {
			t.Fatalf("active session ended after %v: %d", elapsed+20*time.Minute, a.status)
		}
	}
	h.clock.Add(21 * time.Minute)
	if a := b.get("/queue"); a.status != http.StatusSeeOther {
		t.Fatalf("session older than 12h: got %d, want 303", a.status)
	}

	// Logout revokes server-side: the old cookie no longer works.
	b.login("Leyla Aliyeva", leylaPass, secret)
	cookies := b.c.Jar.Cookies(mustURL(h.srv.URL))
	if a := b.submit("/queue", "/logout", nil); a.status != http.StatusSeeOther {
		t.Fatalf("logout: %d", a.status)
	}
	replay := h.browser()
	replay.c.Jar.SetCookies(mustURL(h.srv.URL), cookies)
	if a := replay.get("/queue"); a.status != http.StatusSeeOther {
		t.Fatalf("a logged-out session still works: %d", a.status)
	}
}

func TestQueueShowsNoTipTextAndP1First(t *testing.T) {
	h := newHarness(t)
	h.clock.Add(time.Minute)
	p3 := h.inbound("+994551112233", "Salam, hotline haqqında sual", hotline.P3)
	b := h.browser()
	b.login("Leyla Aliyeva", leylaPass, "")
	q := b.get("/queue")
	leaktest.Check(t, "queue HTML", q.body, leaktest.Runs(tipText, 12)...)
	leaktest.Check(t, "queue HTML", q.body, leaktest.PhoneForms(reporterPhone)...)
	leaktest.Check(t, "queue HTML", q.body, "sual", "zirzəmi")
	i, j := strings.Index(q.body, h.caseCode), strings.Index(q.body, p3)
	if i < 0 || j < 0 || i > j {
		t.Fatalf("P1 case %s should come before P3 case %s (at %d, %d)", h.caseCode, p3, i, j)
	}
}

func TestOpeningACaseIsAudited(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	b.login("Leyla Aliyeva", leylaPass, "")
	a := b.get("/cases/" + h.caseCode)
	if a.status != http.StatusOK || !strings.Contains(a.body, tipText) {
		t.Fatalf("case page: %d, tip shown: %v", a.status, strings.Contains(a.body, tipText))
	}
	entries, err := h.st.Audit(store.AuditFilter{Action: "case.open"})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Object != h.caseCode || entries[0].Actor != h.officers["Leyla Aliyeva"].ID || entries[0].Via != "console" || entries[0].From == "" {
		t.Fatalf("case.open entries: %+v", entries)
	}
	if strings.Contains(entries[0].From, "127.0.0.1") {
		t.Fatalf("audit holds the client address in clear: %q", entries[0].From)
	}
	if n, problems, err := h.st.VerifyAudit(); err != nil || len(problems) > 0 || n == 0 {
		t.Fatalf("audit chain: %d entries, problems %v, err %v", n, problems, err)
	}
}

// TestAcknowledgeReplyCloseAndNothingLeaks runs an officer's whole loop
// and then reads the raw data file and the log for anything in clear.
func TestAcknowledgeReplyCloseAndNothingLeaks(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	secret := b.login("Leyla Aliyeva", leylaPass, "")
	casePath := "/cases/" + h.caseCode

	if a := b.submit(casePath, casePath+"/ack", nil); a.status != http.StatusSeeOther {
		t.Fatalf("ack: %d %s", a.status, a.body)
	}
	var alert hotline.Alert
	h.st.View(func(tx *store.Tx) error {
		alerts, _ := tx.Alerts()
		alert = alerts[0]
		return nil
	})
	if alert.State != hotline.AlertAcknowledged || alert.AckedVia != "console" || alert.AckedBy != h.officers["Leyla Aliyeva"].ID {
		t.Fatalf("alert after console ack: %+v", alert)
	}

	const reply = "Salam. Biz sizə kömək edəcəyik. Təhlükəsiz olanda yazın."
	const note = "Called the regional unit, patrol on the way to the basement"
	const reason = "Referred to the regional police, victims safe"
	if a := b.submit(casePath, casePath+"/reply", url.Values{"body": {reply}}); a.status != http.StatusSeeOther {
		t.Fatalf("reply: %d %s", a.status, a.body)
	}
	if err := h.disp.RunDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	var sent bool
	for _, m := range h.twilio.Messages() {
		if m.To == reporterPhone && m.Body == reply && m.From == hotlineFrom {
			sent = true
		}
	}
	if !sent {
		t.Fatalf("reply did not reach the reporter from the hotline number: %+v", h.twilio.Messages())
	}
	page := b.get(casePath)
	if !strings.Contains(page.body, reply) || !strings.Contains(page.body, "sent") {
		t.Fatalf("timeline does not show the reply with its delivery state")
	}
	leaktest.Check(t, "case page", page.body, leaktest.PhoneForms(reporterPhone)...)

	if a := b.submit(casePath, casePath+"/notes", url.Values{"text": {note}}); a.status != http.StatusSeeOther {
		t.Fatalf("note: %d", a.status)
	}
	if a := b.submit(casePath, casePath+"/state", url.Values{"state": {"closed"}}); a.status != http.StatusBadRequest {
		t.Fatalf("close without a reason: got %d, want 400", a.status)
	}
	if a := b.submit(casePath, casePath+"/state", url.Values{"state": {"closed"}, "reason": {reason}}); a.status != http.StatusSeeOther {
		t.Fatalf("close: %d %s", a.status, a.body)
	}
	page = b.get(casePath)
	for _, want := range []string{note, reason, `id="case-state">` + "bağlanıb"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("case page lacks %q", want)
		}
	}
	c, err := h.st.CaseByCode(h.caseCode)
	if err != nil || c.Status != hotline.CaseClosed {
		t.Fatalf("case status after close: %v %v", c.Status, err)
	}
	// A late reply needs the warning ticked.
	h.clock.Add(25 * time.Hour)
	b.login("Leyla Aliyeva", leylaPass, secret)
	if a := b.submit(casePath, casePath+"/reply", url.Values{"body": {"late one"}}); a.status != http.StatusConflict || !strings.Contains(a.body, `id="late-warning"`) {
		t.Fatalf("late reply without confirmation: got %d, want 409 with the warning", a.status)
	}
	if a := b.submit(casePath, casePath+"/reply", url.Values{"body": {"late one"}, "confirm_late": {"yes"}}); a.status != http.StatusSeeOther {
		t.Fatalf("late reply with confirmation: got %d", a.status)
	}
	for _, action := range []string{"login", "case.open", "case.ack", "case.reply", "case.note", "case.state", "totp.enrolled"} {
		if e, _ := h.st.Audit(store.AuditFilter{Action: action}); len(e) == 0 {
			t.Errorf("no %s audit entry", action)
		}
	}

	h.st.Close()
	raw, err := os.ReadFile(filepath.Join(h.dir, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	needles := []string{leylaPass, adminPass, secret, reply, note, reason, "late one", "Leyla Aliyeva", "127.0.0.1"}
	needles = append(needles, leaktest.PhoneForms(reporterPhone)...)
	needles = append(needles, leaktest.PhoneForms(leylaPhone)...)
	needles = append(needles, leaktest.Runs(tipText, 12)...)
	leaktest.Check(t, "data file", string(raw), needles...)
	leaktest.Check(t, "log", h.logs.String(), needles...)
	leaktest.Check(t, "log", h.logs.String(), h.caseCode+"/")
}
