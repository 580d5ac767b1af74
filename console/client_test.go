package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/console"
)

func mustJSON(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// TestClientMatchesAdmin asks the same store in-process and over the
// socket: the answers and the errors must be the same.
func TestClientMatchesAdmin(t *testing.T) {
	e := setup(t, "socket")
	ctx := context.Background()
	addOfficers(t, e.svc)
	importExample(t, e.svc)
	now := e.clock.Now()
	if _, err := e.svc.RotaOverride(ctx, "Leyla Aliyeva", "Aysel Huseynova", now, now.Add(5*time.Hour)); err != nil {
		t.Fatal(err)
	}
	list, _ := e.admin.ListOfficers(ctx, false)
	putAlert(t, e.st, list[0].ID)

	admin, client := console.AdminService(e.admin), e.svc
	reads := map[string]func(s console.AdminService) (any, error){
		"officers":        func(s console.AdminService) (any, error) { return s.ListOfficers(ctx, false) },
		"officers+phones": func(s console.AdminService) (any, error) { return s.ListOfficers(ctx, true) },
		"zone":            func(s console.AdminService) (any, error) { return s.RotaZone(ctx) },
		"show now":        func(s console.AdminService) (any, error) { return s.RotaShow(ctx, time.Time{}) },
		"show later":      func(s console.AdminService) (any, error) { return s.RotaShow(ctx, now.Add(30*time.Hour)) },
		"alerts":          func(s console.AdminService) (any, error) { return s.Alerts(ctx) },
	}
	for name, read := range reads {
		want, err := read(admin)
		if err != nil {
			t.Fatalf("%s in-process: %v", name, err)
		}
		got, err := read(client)
		if err != nil {
			t.Fatalf("%s over the socket: %v", name, err)
		}
		if g, w := mustJSON(t, got), mustJSON(t, want); g != w {
			t.Errorf("%s:\nsocket:     %s\nin-process: %s", name, g, w)
		}
	}

	fails := map[string]func(s console.AdminService) error{
		"bad phone": func(s console.AdminService) error { _, err := s.AddOfficer(ctx, "X Y", "nope", "officer"); return err },
		"duplicate": func(s console.AdminService) error {
			_, err := s.AddOfficer(ctx, "Leyla Aliyeva", "+994501119999", "officer")
			return err
		},
		"remove unknown": func(s console.AdminService) error { return s.RemoveOfficer(ctx, "Nobody") },
		"remove in rota": func(s console.AdminService) error { return s.RemoveOfficer(ctx, "Leyla Aliyeva") },
		"set overlap": func(s console.AdminService) error {
			_, err := s.RotaSet(ctx, console.ShiftSpec{Day: "mon", Start: "10:00", End: "12:00", Officer: "Nigar Hasanova"})
			return err
		},
		"set unknown": func(s console.AdminService) error {
			_, err := s.RotaSet(ctx, console.ShiftSpec{Day: "mon", Start: "10:00", End: "12:00", Officer: "Nobody"})
			return err
		},
		"override unknown": func(s console.AdminService) error {
			_, err := s.RotaOverride(ctx, "Nobody", "", now, now.Add(time.Hour))
			return err
		},
		"import unknown": func(s console.AdminService) error {
			_, err := s.RotaImport(ctx, "r.toml", strings.NewReader("[[shift]]\nday=\"mon\"\nstart=\"08:00\"\nend=\"20:00\"\nofficer=\"Nobody\"\n"))
			return err
		},
		"import garbage": func(s console.AdminService) error {
			_, err := s.RotaImport(ctx, "r.toml", strings.NewReader("not toml ["))
			return err
		},
	}
	for name, fail := range fails {
		want, got := fail(admin), fail(client)
		var wantHE, gotHE *hotline.Error
		if !errors.As(want, &wantHE) || !errors.As(got, &gotHE) {
			t.Errorf("%s: in-process %v (%T), socket %v (%T): want *hotline.Error from both", name, want, want, got, got)
			continue
		}
		if !reflect.DeepEqual(gotHE, wantHE) {
			t.Errorf("%s:\nsocket:     %#v\nin-process: %#v", name, gotHE, wantHE)
		}
	}

	// Nothing identifying reached the log, but the requests did.
	logs := e.logs.String()
	if !strings.Contains(logs, `"route":"/rota/shifts"`) || !strings.Contains(logs, `"error_code":"conflict"`) {
		t.Fatalf("log capture incomplete: %s", logs)
	}
	for _, o := range exampleOfficers {
		for _, needle := range []string{o.name, strings.Fields(o.name)[1], o.phone, o.phone[1:], o.phone[4:]} {
			if strings.Contains(logs, needle) {
				t.Errorf("log contains %q", needle)
			}
		}
	}
	for _, needle := range []string{"Nobody", "nope", "K7P2QX"} {
		if strings.Contains(logs, needle) {
			t.Errorf("log contains %q", needle)
		}
	}
}

func TestAdminHandlerRejectsBadRequests(t *testing.T) {
	e := setup(t, "direct")
	path := serveAdmin(t, t.TempDir(), e.admin, e.logs)
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", path)
	}}}
	tests := []struct {
		label, method, path, body string
		status                    int
		code                      string
	}{
		{"unknown field", "POST", "/officers", `{"name":"A","phone":"+994501110001","role":"officer","pin":1}`, 400, hotline.EINVALID},
		{"not JSON", "POST", "/rota/shifts", `day=mon`, 400, hotline.EINVALID},
		{"too big", "POST", "/officers", `{"name":"` + strings.Repeat("a", 70<<10) + `"}`, 413, hotline.ETOOLARGE},
		{"bad at", "GET", "/rota?at=tomorrow", ``, 400, hotline.EINVALID},
		{"no route", "GET", "/no-such-route", ``, 404, hotline.ENOTFOUND},
		{"wrong method", "PUT", "/officers", ``, 405, hotline.EINVALID},
		{"ok", "GET", "/alerts", ``, 200, ""},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, "http://admin"+tt.path, bytes.NewBufferString(tt.body))
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tt.label, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("%s: status %d, want %d (%s)", tt.label, resp.StatusCode, tt.status, b)
		}
		if tt.code == "" {
			continue
		}
		var eb struct {
			Error struct{ Code, Message string }
		}
		if err := json.Unmarshal(b, &eb); err != nil || eb.Error.Code != tt.code || eb.Error.Message == "" {
			t.Errorf("%s: body %s, want error code %s", tt.label, b, tt.code)
		}
	}
}
