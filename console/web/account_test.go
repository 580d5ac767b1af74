package web_test

import (
	"context"
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

func TestOfficerChangesOwnPassword(t *testing.T) {
	h := newHarness(t)
	b, other := h.browser(), h.browser()
	secret := b.login("Leyla Aliyeva", leylaPass, "")
	other.login("Leyla Aliyeva", leylaPass, secret)
	const newPass = "a brand new passphrase for leyla"
	change := func(current, next, again string) answer {
		t.Helper()
		return b.submit("/account", "/account/password", url.Values{"current": {current}, "new": {next}, "again": {again}})
	}
	if a := b.post("/account/password", url.Values{"current": {leylaPass}, "new": {newPass}, "again": {newPass}}); a.status != http.StatusForbidden {
		t.Fatalf("without a CSRF token: got %d, want 403", a.status)
	}
	for _, tc := range []struct {
		label                string
		current, next, again string
		status               int
	}{
		{"wrong current password", "not my password", newPass, newPass, http.StatusUnauthorized},
		{"too short", leylaPass, "short", "short", http.StatusBadRequest},
		{"typed differently", leylaPass, newPass, newPass + "!", http.StatusBadRequest},
		{"same as before", leylaPass, leylaPass, leylaPass, http.StatusBadRequest},
	} {
		if a := change(tc.current, tc.next, tc.again); a.status != tc.status {
			t.Errorf("%s: got %d, want %d", tc.label, a.status, tc.status)
		}
	}
	if a := change(leylaPass, newPass, newPass); a.status != http.StatusSeeOther || a.header.Get("Location") != "/account?m=account.changed" {
		t.Fatalf("change: got %d %s", a.status, a.header.Get("Location"))
	}
	if a := b.get("/queue"); a.status != http.StatusOK {
		t.Fatalf("the browser that changed the password was logged out: %d", a.status)
	}
	if a := other.get("/queue"); a.status != http.StatusSeeOther {
		t.Fatalf("another session survived the password change: %d", a.status)
	}
	if a := h.browser().try("Leyla Aliyeva", leylaPass); a.status != http.StatusUnauthorized {
		t.Fatalf("the old password still works: %d", a.status)
	}
	h.browser().login("Leyla Aliyeva", newPass, secret)

	leyla := h.officers["Leyla Aliyeva"].ID
	changed, _ := h.st.Audit(store.AuditFilter{Action: "password.changed"})
	failed, _ := h.st.Audit(store.AuditFilter{Action: "password.change_failed"})
	if len(changed) != 1 || changed[0].Actor != leyla || changed[0].Object != leyla || changed[0].Via != "console" || changed[0].From == "" {
		t.Fatalf("password.changed entries: %+v", changed)
	}
	if len(failed) != 1 || failed[0].Actor != leyla {
		t.Fatalf("password.change_failed entries: %+v", failed)
	}
	h.st.Close()
	raw, err := os.ReadFile(filepath.Join(h.dir, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	leaktest.Check(t, "data file", string(raw), newPass, leylaPass)
	leaktest.Check(t, "log", h.logs.String(), newPass, leylaPass)
}

func TestAdminEditsAnOfficer(t *testing.T) {
	h := newHarness(t)
	leyla := h.officers["Leyla Aliyeva"]
	path := "/admin/officers/" + leyla.ID
	officer := h.browser()
	officer.login("Leyla Aliyeva", leylaPass, "")
	if a := officer.get(path); a.status != http.StatusForbidden {
		t.Fatalf("officer GET %s: got %d, want 403", path, a.status)
	}
	if a := officer.submit("/queue", path, url.Values{"name": {"X Y"}, "role": {"admin"}}); a.status != http.StatusForbidden {
		t.Fatalf("officer POST %s: got %d, want 403", path, a.status)
	}
	admin := h.browser()
	admin.login("Farid Admin", adminPass, "")
	page := admin.get(path)
	if page.status != http.StatusOK || strings.Contains(page.body, leylaPhone) {
		t.Fatalf("edit page: %d, shows the whole number: %v", page.status, strings.Contains(page.body, leylaPhone))
	}
	if a := admin.post(path, url.Values{"name": {"Leyla Huseynova"}, "role": {"officer"}}); a.status != http.StatusForbidden {
		t.Fatalf("edit without a CSRF token: got %d, want 403", a.status)
	}
	if a := admin.submit(path, path, url.Values{"name": {"Farid Admin"}, "role": {"officer"}}); a.status != http.StatusConflict {
		t.Fatalf("renaming onto another officer: got %d, want 409", a.status)
	}
	if a := admin.submit(path, path, url.Values{"name": {"Leyla Aliyeva"}, "role": {"king"}}); a.status != http.StatusBadRequest {
		t.Fatalf("an unknown role: got %d, want 400", a.status)
	}
	const newPhone = "+994501110077"
	if a := admin.submit(path, path, url.Values{"name": {"Leyla Huseynova"}, "role": {"supervisor"}, "phone": {newPhone}}); a.status != http.StatusSeeOther {
		t.Fatalf("edit: got %d\n%s", a.status, a.body)
	}
	var got hotline.Officer
	h.st.View(func(tx *store.Tx) (err error) { got, err = tx.Officer(leyla.ID); return err })
	if got.Name != "Leyla Huseynova" || got.Role != hotline.RoleSupervisor || got.Phone != leylaPhone || got.PendingPhone != newPhone {
		t.Fatalf("officer after the edit: name %q role %s, phone kept %v, new number pending %v", got.Name, got.Role, got.Phone == leylaPhone, got.PendingPhone == newPhone)
	}
	if err := h.disp.RunDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	verification := false
	for _, m := range h.twilio.Messages() {
		verification = verification || m.To == newPhone
	}
	if !verification {
		t.Fatalf("no verification code went to the new number")
	}
	e, _ := h.st.Audit(store.AuditFilter{Action: "officer.update"})
	if len(e) != 1 || e[0].Actor != h.officers["Farid Admin"].ID || e[0].Object != leyla.ID || e[0].Via != "console" || e[0].From == "" ||
		e[0].Detail != "name,role=supervisor,phone pending" {
		t.Fatalf("officer.update entries: %+v", e)
	}
	// The renamed officer logs in under the new name.
	if a := h.browser().try("Leyla Huseynova", leylaPass); !passwordOK(a) {
		t.Fatalf("login under the new name: %d", a.status)
	}
}
