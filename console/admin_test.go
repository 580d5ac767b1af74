package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/console"
	"github.com/hotline-az/hotline/crypto"
	"github.com/hotline-az/hotline/internal/leaktest"
	"github.com/hotline-az/hotline/store"
)

var baku = mustZone("Asia/Baku")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// tuesdayNight is inside the example rota's tue 20:00-08:00 shift.
var tuesdayNight = time.Date(2026, 11, 24, 21, 0, 0, 0, baku)

// fakeClock is an injectable clock that tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// env is an admin service on a real store, in-process or over a real
// unix socket.
type env struct {
	svc   console.AdminService
	admin *console.Admin
	st    *store.Store
	clock *fakeClock
	dir   string
	logs  *leaktest.Buffer // the socket handler's log
}

// MustOpenStore opens a store in dir, closed when the test ends.
func MustOpenStore(tb testing.TB, dir string, clock *fakeClock) *store.Store {
	tb.Helper()
	key, err := crypto.GenerateMasterKey()
	if err != nil {
		tb.Fatal(err)
	}
	st, err := store.Open(dir, store.MasterKeySource{Key: &key}, store.Options{Now: clock.Now, Logger: zerolog.Nop()})
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// serveAdmin serves a on an admin socket in dir until the test ends.
func serveAdmin(tb testing.TB, dir string, a *console.Admin, logs *leaktest.Buffer) string {
	tb.Helper()
	path := filepath.Join(dir, console.AdminSocketName)
	ln, err := console.ListenAdminSocket(path)
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	srv := &http.Server{Handler: console.NewAdminHandler(a, zerolog.New(logs)), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	tb.Cleanup(func() { srv.Close() })
	return path
}

func setup(tb testing.TB, mode string) *env {
	tb.Helper()
	e := &env{clock: &fakeClock{t: tuesdayNight}, dir: tb.TempDir(), logs: &leaktest.Buffer{}}
	e.st = MustOpenStore(tb, e.dir, e.clock)
	e.admin = console.NewAdmin(e.st, nil, baku)
	switch mode {
	case "direct":
		e.svc = e.admin
	case "socket":
		path := serveAdmin(tb, e.dir, e.admin, e.logs)
		c, err := console.DialAdmin(path)
		if err != nil {
			tb.Fatalf("dial: %v", err)
		}
		tb.Cleanup(func() { c.Close() })
		e.svc = c
	default:
		tb.Fatalf("unknown mode %q", mode)
	}
	return e
}

// both runs f in-process and over the socket.
func both(t *testing.T, f func(t *testing.T, e *env)) {
	for _, mode := range []string{"direct", "socket"} {
		t.Run(mode, func(t *testing.T) { f(t, setup(t, mode)) })
	}
}

var exampleOfficers = []struct{ name, phone, role string }{
	{"Leyla Aliyeva", "+994501110001", "officer"},
	{"Rashad Mammadov", "+994501110002", "officer"},
	{"Aysel Huseynova", "+994501110003", "officer"},
	{"Elvin Guliyev", "+994501110004", "officer"},
	{"Nigar Hasanova", "+994501110005", "officer"},
	{"Farid Ismayilov", "+994501110006", "supervisor"},
	{"Gunel Abbasova", "+994501110007", "supervisor"},
}

func addOfficers(tb testing.TB, svc console.AdminService, skip ...string) {
	tb.Helper()
	for _, o := range exampleOfficers {
		if contains(skip, o.name) {
			continue
		}
		if _, err := svc.AddOfficer(context.Background(), o.name, o.phone, o.role); err != nil {
			tb.Fatalf("add %s: %v", o.name, err)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func exampleRota(tb testing.TB) []byte {
	tb.Helper()
	b, err := os.ReadFile("../dispatch/testdata/rota-example.toml")
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func importExample(tb testing.TB, svc console.AdminService) console.RotaView {
	tb.Helper()
	v, err := svc.RotaImport(context.Background(), "rota-example.toml", bytes.NewReader(exampleRota(tb)))
	if err != nil {
		tb.Fatalf("import: %v", err)
	}
	return v
}

// wantErr checks that err is a *hotline.Error with code whose message
// contains every want.
func wantErr(tb testing.TB, err error, code string, want ...string) {
	tb.Helper()
	var he *hotline.Error
	if !errors.As(err, &he) {
		tb.Fatalf("got error %v (%T), want *hotline.Error %s", err, err, code)
	}
	if he.Code != code {
		tb.Errorf("error code: got %s, want %s (message %q)", he.Code, code, he.Message)
	}
	for _, w := range want {
		if !strings.Contains(he.Message, w) {
			tb.Errorf("error message %q does not contain %q", he.Message, w)
		}
	}
}

func TestAddAndListOfficers(t *testing.T) {
	both(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		o, err := e.svc.AddOfficer(ctx, "  Leyla   Aliyeva ", "+994501110001", "Officer")
		if err != nil {
			t.Fatal(err)
		}
		if o.Name != "Leyla Aliyeva" || o.Role != hotline.RoleOfficer || o.Phone != "+99450*****01" || o.ID == "" {
			t.Errorf("added: got %+v, want Leyla Aliyeva, officer, +99450*****01", o)
		}

		_, err = e.svc.AddOfficer(ctx, "leyla aliyeva", "+994501119999", "officer")
		wantErr(t, err, hotline.ECONFLICT, "--name", "already exists")
		// The same number written nationally.
		_, err = e.svc.AddOfficer(ctx, "Rashad Mammadov", "050 111 00 01", "officer")
		wantErr(t, err, hotline.ECONFLICT, "--phone", "another officer")
		_, err = e.svc.AddOfficer(ctx, "Rashad Mammadov", "12ab", "officer")
		wantErr(t, err, hotline.EINVALID, "--phone:")
		_, err = e.svc.AddOfficer(ctx, "Rashad Mammadov", "+994501110002", "boss")
		wantErr(t, err, hotline.EINVALID, "--role: must be officer, supervisor or admin")
		_, err = e.svc.AddOfficer(ctx, "", "", "")
		wantErr(t, err, hotline.EINVALID, "--name: is required", "--phone:", "--role: is required")

		if _, err := e.svc.AddOfficer(ctx, "Farid Ismayilov", "0501110006", "supervisor"); err != nil {
			t.Fatal(err)
		}
		list, err := e.svc.ListOfficers(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].Name != "Farid Ismayilov" || list[0].Phone != "+99450*****06" || list[1].Phone != "+99450*****01" {
			t.Errorf("list: got %+v, want Farid then Leyla, masked", list)
		}
		full, err := e.svc.ListOfficers(ctx, true)
		if err != nil {
			t.Fatal(err)
		}
		if full[0].Phone != "+994501110006" || full[0].Role != hotline.RoleSupervisor {
			t.Errorf("list with phones: got %+v, want +994501110006 (national number normalised), supervisor", full[0])
		}
	})
}

func TestRemoveOfficer(t *testing.T) {
	both(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		addOfficers(t, e.svc)
		if _, err := e.svc.AddOfficer(ctx, "Zaur Karimov", "+994501110008", "officer"); err != nil {
			t.Fatal(err)
		}
		importExample(t, e.svc)

		wantErr(t, e.svc.RemoveOfficer(ctx, "Nobody Here"), hotline.ENOTFOUND, `--name: no officer named "Nobody Here"`)
		wantErr(t, e.svc.RemoveOfficer(ctx, ""), hotline.EINVALID, "--name: is required")
		err := e.svc.RemoveOfficer(ctx, "leyla aliyeva")
		wantErr(t, err, hotline.ECONFLICT, "Leyla Aliyeva is still in the rota", "officer of shift mon 08:00-20:00", "backup of shift tue 08:00-20:00")

		// In an override only.
		if _, err := e.svc.RotaOverride(ctx, "Zaur Karimov", "", e.clock.Now(), e.clock.Now().Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		wantErr(t, e.svc.RemoveOfficer(ctx, "Zaur Karimov"), hotline.ECONFLICT, "officer of override", "until 2026-11-24 23:00")
		e.clock.Add(3 * time.Hour)
		if err := e.svc.RemoveOfficer(ctx, "Zaur Karimov"); err != nil {
			t.Fatalf("remove once the override ended: %v", err)
		}
		v, err := e.svc.RotaShow(ctx, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Overrides) != 0 {
			t.Errorf("the ended override was kept: %+v", v.Overrides)
		}
		list, _ := e.svc.ListOfficers(ctx, false)
		for _, o := range list {
			if o.Name == "Zaur Karimov" {
				t.Error("removed officer still listed")
			}
		}
		// The name and number are free again.
		if _, err := e.svc.AddOfficer(ctx, "Zaur Karimov", "+994501110008", "officer"); err != nil {
			t.Errorf("re-add after remove: %v", err)
		}
	})
}

func TestRotaImportAndShow(t *testing.T) {
	both(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		addOfficers(t, e.svc, "Elvin Guliyev", "Gunel Abbasova")
		_, err := e.svc.RotaImport(ctx, "/etc/hotline/rota-example.toml", bytes.NewReader(exampleRota(t)))
		wantErr(t, err, hotline.ENOTFOUND, "rota-example.toml: 2 names are not registered officers",
			`"Elvin Guliyev" (shift 2 backup, shift 4 officer,`, `"Gunel Abbasova" (shift 10 supervisor,`)
		if strings.Contains(err.Error(), "/etc/hotline") {
			t.Errorf("error names the directory of the file: %v", err)
		}

		addOfficers(t, e.svc, "Leyla Aliyeva", "Rashad Mammadov", "Aysel Huseynova", "Nigar Hasanova", "Farid Ismayilov")
		v := importExample(t, e.svc)
		if len(v.Shifts) != 14 || len(v.Gaps) != 0 || v.TimeZone != "Asia/Baku" {
			t.Fatalf("imported: %d shifts, gaps %v, zone %s; want 14, none, Asia/Baku", len(v.Shifts), v.Gaps, v.TimeZone)
		}
		if s := v.Shifts[0]; s.Day != "mon" || s.Start != "08:00" || s.Officer != "Leyla Aliyeva" || s.Supervisor != "Farid Ismayilov" {
			t.Errorf("first shift: got %+v", s)
		}

		for _, at := range []time.Time{tuesdayNight, {}} {
			v, err := e.svc.RotaShow(ctx, at)
			if err != nil {
				t.Fatal(err)
			}
			want := console.DutyView{Officer: "Elvin Guliyev", Backup: "Rashad Mammadov", Supervisor: "Farid Ismayilov", Source: "shift tue 20:00-08:00"}
			got := v.OnDuty
			got.Until = nil
			if !reflect.DeepEqual(got, want) {
				t.Errorf("on duty at %v: got %+v, want %+v", at, got, want)
			}
			if until := v.OnDuty.Until; until == nil || !until.Equal(time.Date(2026, 11, 25, 8, 0, 0, 0, baku)) {
				t.Errorf("until: got %v, want wed 08:00", until)
			}
			if !v.At.Equal(tuesdayNight) || !strings.Contains(v.Text, "Rota in Asia/Baku") || !strings.Contains(v.Text, "Elvin Guliyev") {
				t.Errorf("view: at %v, text %q", v.At, v.Text)
			}
		}

		// A broken file changes nothing and says where.
		bad := strings.Replace(string(exampleRota(t)), `day = "tue"
start = "20:00"`, `day = "tue"
start = "19:00"`, 1)
		_, err = e.svc.RotaImport(ctx, "rota.toml", strings.NewReader(bad))
		wantErr(t, err, hotline.EINVALID, "rota.toml", "overlaps shift 3 (tue 08:00-20:00) on tue 19:00-20:00")
		_, err = e.svc.RotaImport(ctx, "rota.toml", strings.NewReader("[[shift]\nday="))
		wantErr(t, err, hotline.EINVALID, "rota.toml:")
		v, _ = e.svc.RotaShow(ctx, time.Time{})
		if v.OnDuty.Officer != "Elvin Guliyev" {
			t.Errorf("a rejected import changed the rota: %+v", v.OnDuty)
		}
	})
}

func TestRotaSet(t *testing.T) {
	both(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		addOfficers(t, e.svc)
		v, err := e.svc.RotaShow(ctx, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Shifts) != 0 || len(v.Gaps) != 1 || v.OnDuty.Officer != "" {
			t.Errorf("empty rota: got %+v", v)
		}

		night := console.ShiftSpec{Day: "Tuesday", Start: "20:00", End: "08:00", Officer: "Leyla Aliyeva", Backup: "Rashad Mammadov", Supervisor: "Farid Ismayilov"}
		v, err = e.svc.RotaSet(ctx, night)
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Shifts) != 1 || v.Shifts[0].Day != "tue" || v.OnDuty.Officer != "Leyla Aliyeva" || v.OnDuty.Backup != "Rashad Mammadov" {
			t.Fatalf("after set: got %+v", v)
		}
		// The same day and start replaces the shift.
		night.Officer, night.End = "elvin guliyev", "07:00"
		if v, err = e.svc.RotaSet(ctx, night); err != nil {
			t.Fatal(err)
		}
		if len(v.Shifts) != 1 || v.Shifts[0].End != "07:00" || v.OnDuty.Officer != "Elvin Guliyev" {
			t.Fatalf("after replacing: got %+v", v.Shifts)
		}

		_, err = e.svc.RotaSet(ctx, console.ShiftSpec{Day: "tue", Start: "22:00", End: "23:00", Officer: "Aysel Huseynova"})
		wantErr(t, err, hotline.EINVALID, "shift 2 (tue 22:00-23:00): overlaps shift 1 (tue 20:00-07:00) on tue 22:00-23:00")
		_, err = e.svc.RotaSet(ctx, console.ShiftSpec{Day: "wed", Start: "06:00", End: "07:30", Officer: "Aysel Huseynova"})
		wantErr(t, err, hotline.EINVALID, "overlaps shift 1 (tue 20:00-07:00) on wed 06:00-07:00")
		_, err = e.svc.RotaSet(ctx, console.ShiftSpec{Day: "wed", Start: "08:00", End: "08:00", Officer: "Aysel Huseynova"})
		wantErr(t, err, hotline.EINVALID, "--end: starts and ends at 08:00: the shift is empty")
		_, err = e.svc.RotaSet(ctx, console.ShiftSpec{Day: "funday", Start: "8am", End: "25:00", Officer: "Aysel Huseynova"})
		wantErr(t, err, hotline.EINVALID, `--day: day "funday"`, "--start:", "--end:")
		_, err = e.svc.RotaSet(ctx, console.ShiftSpec{Day: "wed", Start: "08:00", End: "20:00", Officer: "Nobody", Backup: "Somebody"})
		wantErr(t, err, hotline.ENOTFOUND, `--officer: no officer named "Nobody"`, `--backup: no officer named "Somebody"`)
		_, err = e.svc.RotaSet(ctx, console.ShiftSpec{Day: "wed", Start: "08:00", End: "20:00"})
		wantErr(t, err, hotline.EINVALID, "--officer: is required")
		_, err = e.svc.RotaSet(ctx, console.ShiftSpec{Day: "wed", Start: "08:00", End: "20:00", Officer: "Aysel Huseynova", Backup: "aysel huseynova"})
		wantErr(t, err, hotline.EINVALID, "--backup: is the same person as --officer")

		v, _ = e.svc.RotaShow(ctx, time.Time{})
		if len(v.Shifts) != 1 {
			t.Errorf("rejected sets changed the rota: %+v", v.Shifts)
		}
	})
}

func TestRotaOverride(t *testing.T) {
	both(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		addOfficers(t, e.svc)
		importExample(t, e.svc)
		now := e.clock.Now()

		o, err := e.svc.RotaOverride(ctx, "leyla aliyeva", "", now, now.Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if o.Officer != "Leyla Aliyeva" || o.Backup != "" || o.ID == "" || !o.To.Equal(now.Add(24*time.Hour)) {
			t.Errorf("override: got %+v", o)
		}
		v, err := e.svc.RotaShow(ctx, now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if v.OnDuty.Officer != "Leyla Aliyeva" || v.OnDuty.Backup != "Rashad Mammadov" || !strings.HasPrefix(v.OnDuty.Source, "override "+o.ID) {
			t.Errorf("on duty during the override: got %+v", v.OnDuty)
		}
		if len(v.Overrides) != 1 || !strings.Contains(v.Text, "Overrides") {
			t.Errorf("view lists overrides %+v, text %q", v.Overrides, v.Text)
		}
		// A later override with a backup wins.
		if _, err := e.svc.RotaOverride(ctx, "Nigar Hasanova", "Aysel Huseynova", now, now.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		v, _ = e.svc.RotaShow(ctx, now.Add(time.Hour))
		if v.OnDuty.Officer != "Nigar Hasanova" || v.OnDuty.Backup != "Aysel Huseynova" {
			t.Errorf("on duty during the second override: got %+v", v.OnDuty)
		}

		_, err = e.svc.RotaOverride(ctx, "Nobody", "Leyla Aliyeva", now, now.Add(time.Hour))
		wantErr(t, err, hotline.ENOTFOUND, `--officer: no officer named "Nobody"`)
		_, err = e.svc.RotaOverride(ctx, "Leyla Aliyeva", "Leyla Aliyeva", now, now.Add(time.Hour))
		wantErr(t, err, hotline.EINVALID, "--backup: is the same person as --officer")
		_, err = e.svc.RotaOverride(ctx, "Leyla Aliyeva", "", now, now.Add(-time.Hour))
		wantErr(t, err, hotline.EINVALID, "--until: must be after --from")
		_, err = e.svc.RotaOverride(ctx, "Leyla Aliyeva", "", now, now.Add(40*24*time.Hour))
		wantErr(t, err, hotline.EINVALID, "at most 31 days")
		_, err = e.svc.RotaOverride(ctx, "Leyla Aliyeva", "", now.Add(-3*time.Hour), now.Add(-time.Hour))
		wantErr(t, err, hotline.EINVALID, "over already")
		_, err = e.svc.RotaOverride(ctx, "", "", now, now.Add(time.Hour))
		wantErr(t, err, hotline.EINVALID, "--officer: is required")
		_, err = e.svc.RotaOverride(ctx, "Leyla Aliyeva", "", time.Time{}, now.Add(time.Hour))
		wantErr(t, err, hotline.EINVALID, "--from: is required")
	})
}

// putAlert stores an alert acknowledged by an officer, with two attempts.
func putAlert(tb testing.TB, st *store.Store, officerID string) hotline.Alert {
	tb.Helper()
	var a hotline.Alert
	err := st.Update(context.Background(), func(tx *store.Tx) error {
		now := tx.Now()
		a = hotline.Alert{
			CaseID: "case1", CaseCode: "K7P2QX", Priority: hotline.P1, Channel: hotline.ChannelSMS, Lang: hotline.LangAz,
			State: hotline.AlertOpen, OpenedAt: now, RoundStart: now, Step: 1,
		}
		if err := tx.PutAlert(&a); err != nil {
			return err
		}
		sms := hotline.Job{Kind: hotline.JobAlertSMS, AlertID: a.ID, OfficerID: officerID, State: hotline.JobDelivered, Tries: 1, Delivery: "delivered"}
		call := hotline.Job{Kind: hotline.JobAlertCall, AlertID: a.ID, OfficerID: officerID, State: hotline.JobDead, Tries: 6, ErrorCode: 13224, LastError: "call failed: 13224"}
		if err := tx.PutJob(&sms); err != nil {
			return err
		}
		if err := tx.PutJob(&call); err != nil {
			return err
		}
		a.State, a.AckedBy, a.AckedAt, a.AckedVia = hotline.AlertAcknowledged, officerID, now.Add(time.Minute), "sms"
		return tx.PutAlert(&a)
	})
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

func TestAlerts(t *testing.T) {
	both(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		list, err := e.svc.Alerts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if list == nil || len(list) != 0 {
			t.Fatalf("no alerts: got %#v, want an empty list", list)
		}
		leyla, err := e.svc.AddOfficer(ctx, "Leyla Aliyeva", "+994501110001", "officer")
		if err != nil {
			t.Fatal(err)
		}
		a := putAlert(t, e.st, leyla.ID)
		list, err = e.svc.Alerts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 {
			t.Fatalf("got %d alerts, want 1", len(list))
		}
		v := list[0]
		if v.ID != a.ID || v.Code != "1" || v.Number != 1 || v.CaseCode != "K7P2QX" || v.Priority != hotline.P1 ||
			v.State != hotline.AlertAcknowledged || v.Step != 1 || v.AckedBy != "Leyla Aliyeva" || v.AckedVia != "sms" ||
			v.AckedAt == nil || !v.AckedAt.Equal(tuesdayNight.Add(time.Minute)) || v.NextAt != nil {
			t.Errorf("alert view: got %+v", v)
		}
		if len(v.Attempts) != 2 {
			t.Fatalf("attempts: got %+v, want 2", v.Attempts)
		}
		sms, call := v.Attempts[0], v.Attempts[1]
		if sms.Kind != "sms" || sms.Officer != "Leyla Aliyeva" || sms.State != hotline.JobDelivered || sms.Delivery != "delivered" || sms.Tries != 1 {
			t.Errorf("sms attempt: got %+v", sms)
		}
		if call.Kind != "call" || call.State != hotline.JobDead || call.ErrorCode != 13224 || call.LastError == "" || call.Tries != 6 {
			t.Errorf("call attempt: got %+v", call)
		}
		raw, _ := json.Marshal(list)
		for _, key := range []string{`"code":"1"`, `"case_code":"K7P2QX"`, `"acked_by":"Leyla Aliyeva"`, `"attempts":[`, `"delivery":"delivered"`} {
			if !bytes.Contains(raw, []byte(key)) {
				t.Errorf("JSON %s lacks %s", raw, key)
			}
		}
		if bytes.Contains(raw, []byte("+99450")) {
			t.Errorf("alert JSON holds a phone number: %s", raw)
		}
	})
}

func TestAdminSocket(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, console.AdminSocketName)
	ln, err := console.ListenAdminSocket(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode: got %v, want a socket with 0600", fi.Mode())
	}
	if ln.Addr().String() != path {
		t.Errorf("addr: got %s, want %s", ln.Addr(), path)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("data dir holds %d entries, want only the socket", len(entries))
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	if c, err := console.DialAdmin(path); err != nil {
		t.Errorf("dial: %v", err)
	} else {
		c.Close()
	}
	if _, err := console.ListenAdminSocket(path); err == nil || !strings.Contains(err.Error(), "already listening") {
		t.Errorf("second listener: got %v, want already listening", err)
	}
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Errorf("socket file left after Close: %v", err)
	}
	if _, err := console.DialAdmin(path); err == nil {
		t.Error("dial after close succeeded")
	}

	// A socket left by a server that died is replaced.
	stale, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	stale.SetUnlinkOnClose(false)
	stale.Close()
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("no stale socket to test with: %v", err)
	}
	ln2, err := console.ListenAdminSocket(path)
	if err != nil {
		t.Fatalf("listen over a stale socket: %v", err)
	}
	ln2.Close()

	// Some other file is never removed.
	if err := os.WriteFile(path, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := console.ListenAdminSocket(path); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Errorf("listen over a file: got %v, want not a socket", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "keep" {
		t.Error("the file was replaced")
	}
}
