package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/config"
	"github.com/hotline-az/hotline/console"
	"github.com/hotline-az/hotline/crypto"
	"github.com/hotline-az/hotline/dispatch"
	"github.com/hotline-az/hotline/internal/leaktest"
	"github.com/hotline-az/hotline/store"
)

var adminOfficers = []struct{ name, phone, role string }{
	{"Leyla Aliyeva", "+994501110001", "officer"},
	{"Rashad Mammadov", "+994501110002", "officer"},
	{"Aysel Huseynova", "+994501110003", "officer"},
	{"Elvin Guliyev", "+994501110004", "officer"},
	{"Nigar Hasanova", "+994501110005", "officer"},
	{"Farid Ismayilov", "+994501110006", "supervisor"},
	{"Gunel Abbasova", "+994501110007", "supervisor"},
}

// adminEnv is a data directory with a master key file, and the
// environment the CLI sees.
type adminEnv struct {
	dir string
	key crypto.MasterKey
	env map[string]string
}

// newAdminEnv creates a data directory with a data file, as a first
// `hotline serve` would.
func newAdminEnv(tb testing.TB) *adminEnv {
	tb.Helper()
	dir := tb.TempDir()
	key, err := crypto.GenerateMasterKey()
	if err != nil {
		tb.Fatal(err)
	}
	keyFile := filepath.Join(tb.TempDir(), "master.key")
	if err := key.WriteFile(keyFile); err != nil {
		tb.Fatal(err)
	}
	st := mustOpenStore(tb, dir, key)
	st.Close()
	return &adminEnv{dir: dir, key: key, env: map[string]string{"HOTLINE_MASTER_KEY_FILE": keyFile}}
}

func mustOpenStore(tb testing.TB, dir string, key crypto.MasterKey) *store.Store {
	tb.Helper()
	st, err := store.Open(dir, store.MasterKeySource{Key: &key}, store.Options{Logger: zerolog.Nop()})
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	return st
}

// cli runs `hotline args...` with --data, returning exit code and output.
func (e *adminEnv) cli(tb testing.TB, args ...string) (int, string, string) {
	tb.Helper()
	var stdout, stderr bytes.Buffer
	args = append(args, "--data", e.dir)
	code := run(context.Background(), args, strings.NewReader(""), &stdout, &stderr, func(k string) string { return e.env[k] })
	return code, stdout.String(), stderr.String()
}

// mustCLI runs a command that must succeed.
func (e *adminEnv) mustCLI(tb testing.TB, args ...string) string {
	tb.Helper()
	code, stdout, stderr := e.cli(tb, args...)
	if code != 0 {
		tb.Fatalf("hotline %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, stdout, stderr)
	}
	return stdout + stderr
}

// wantCLIError runs a command that must fail with code, and checks that
// stderr contains every want.
func (e *adminEnv) wantCLIError(tb testing.TB, code int, want []string, args ...string) {
	tb.Helper()
	got, stdout, stderr := e.cli(tb, args...)
	if got != code {
		tb.Errorf("hotline %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), got, code, stdout, stderr)
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			tb.Errorf("hotline %s: stderr %q does not contain %q", strings.Join(args, " "), stderr, w)
		}
	}
}

// adminScenario drives every admin command. withStore gives the open
// store for a moment (to plant an alert); output collects everything the
// CLI printed, to search for phone numbers.
func adminScenario(t *testing.T, e *adminEnv, withStore func(func(*store.Store))) (output string) {
	var out strings.Builder
	record := func(s string) string { out.WriteString(s); return s }

	for _, o := range adminOfficers {
		got := record(e.mustCLI(t, "officers", "add", "--name", o.name, "--phone", o.phone, "--role", o.role))
		if !strings.Contains(got, "Added "+o.name) || !strings.Contains(got, o.phone[:6]+"*****"+o.phone[11:]) {
			t.Errorf("officers add: got %q", got)
		}
	}
	e.wantCLIError(t, 2, []string{"hotline officers add: --phone: phone number"}, "officers", "add", "--name", "Zaur Karimov", "--phone", "12ab", "--role", "officer")
	e.wantCLIError(t, 1, []string{"--name: an officer named"}, "officers", "add", "--name", "leyla aliyeva", "--phone", "+994501119999", "--role", "officer")
	e.wantCLIError(t, 2, []string{"--name, --phone are required"}, "officers", "add", "--role", "officer")

	list := record(e.mustCLI(t, "officers", "list"))
	if !strings.Contains(list, "Leyla Aliyeva") || !strings.Contains(list, "+99450*****01") || !strings.Contains(list, "supervisor") {
		t.Errorf("officers list: got %q", list)
	}
	var officers []console.OfficerView
	if err := json.Unmarshal([]byte(record(e.mustCLI(t, "officers", "list", "--json"))), &officers); err != nil || len(officers) != len(adminOfficers) {
		t.Errorf("officers list --json: %v, %d officers", err, len(officers))
	}
	if full := e.mustCLI(t, "officers", "list", "--show-phones"); !strings.Contains(full, "+994501110001") {
		t.Errorf("officers list --show-phones: got %q", full)
	}

	rotaFile := "../../dispatch/testdata/rota-example.toml"
	got := record(e.mustCLI(t, "rota", "import", rotaFile))
	if !strings.Contains(got, "Imported 14 shifts from rota-example.toml") || strings.Contains(got, "warning") {
		t.Errorf("rota import: got %q", got)
	}
	got = record(e.mustCLI(t, "rota", "show", "--at", "2026-11-24 21:00"))
	for _, want := range []string{"Rota in Asia/Baku", "At 2026-11-24 21:00 +04 (Asia/Baku)", "on duty:    Elvin Guliyev", "backup:     Rashad Mammadov", "supervisor: Farid Ismayilov", "shift tue 20:00-08:00, until 2026-11-25 08:00 +04"} {
		if !strings.Contains(got, want) {
			t.Errorf("rota show --at: %q lacks %q", got, want)
		}
	}
	var view console.RotaView
	if err := json.Unmarshal([]byte(e.mustCLI(t, "rota", "show", "--at", "2026-11-29T10:00:00+04:00", "--json")), &view); err != nil {
		t.Fatal(err)
	}
	if view.OnDuty.Officer != "Leyla Aliyeva" || view.OnDuty.Supervisor != "Gunel Abbasova" || len(view.Shifts) != 14 {
		t.Errorf("rota show --json on a Sunday morning: got %+v", view.OnDuty)
	}
	e.wantCLIError(t, 2, []string{"--at:", "is not a time"}, "rota", "show", "--at", "tomorrowish")

	got = record(e.mustCLI(t, "rota", "override", "--officer", "Nigar Hasanova", "--from", "now", "--hours", "24"))
	if !strings.Contains(got, "Nigar Hasanova is on duty from") || !strings.Contains(got, "backup: the shift's") {
		t.Errorf("rota override: got %q", got)
	}
	if err := json.Unmarshal([]byte(e.mustCLI(t, "rota", "show", "--json")), &view); err != nil {
		t.Fatal(err)
	}
	if view.OnDuty.Officer != "Nigar Hasanova" || !strings.HasPrefix(view.OnDuty.Source, "override ") || len(view.Overrides) != 1 {
		t.Errorf("rota show during the override: got %+v", view.OnDuty)
	}
	e.wantCLIError(t, 1, []string{`--officer: no officer named "Nobody"`}, "rota", "override", "--officer", "Nobody", "--from", "now", "--hours", "2")
	e.wantCLIError(t, 2, []string{"--hours or --until, not both"}, "rota", "override", "--officer", "Nigar Hasanova", "--from", "now", "--hours", "2", "--until", "2030-01-01 00:00")
	e.wantCLIError(t, 2, []string{"--until: must be after --from"}, "rota", "override", "--officer", "Nigar Hasanova", "--from", "2030-01-02 00:00", "--until", "2030-01-01 00:00")

	// Changing a shift keeps what is not given; none empties the backup.
	got = record(e.mustCLI(t, "rota", "set", "--day", "sat", "--start", "08:00", "--end", "20:00", "--officer", "Aysel Huseynova", "--backup", "none", "--supervisor", "Gunel Abbasova"))
	if !strings.Contains(got, "sat  08:00-20:00  Aysel Huseynova  -") {
		t.Errorf("rota set: got %q", got)
	}
	e.wantCLIError(t, 2, []string{"overlaps shift"}, "rota", "set", "--day", "sat", "--start", "09:00", "--end", "10:00", "--officer", "Aysel Huseynova")
	e.wantCLIError(t, 2, []string{"--end: starts and ends at 09:00: the shift is empty"}, "rota", "set", "--day", "sat", "--start", "09:00", "--end", "09:00", "--officer", "Aysel Huseynova")
	e.wantCLIError(t, 1, []string{`--officer: no officer named "Nobody"`}, "rota", "set", "--day", "sat", "--start", "08:00", "--end", "20:00", "--officer", "Nobody")

	bad := filepath.Join(t.TempDir(), "rota.toml")
	os.WriteFile(bad, []byte("[[shift]]\nday = \"mon\"\nstart = \"08:00\"\nend = \"20:00\"\nofficer = \"Nobody\"\nbackup = \"Somebody\"\n"), 0o600)
	e.wantCLIError(t, 1, []string{"rota.toml: 2 names are not registered officers", `"Nobody" (shift 1 officer)`, `"Somebody" (shift 1 backup)`}, "rota", "import", bad)

	e.wantCLIError(t, 1, []string{"Leyla Aliyeva is still in the rota", "officer of shift mon 08:00-20:00"}, "officers", "remove", "--name", "Leyla Aliyeva")
	e.mustCLI(t, "officers", "add", "--name", "Zaur Karimov", "--phone", "0501110008", "--role", "admin")
	if got := e.mustCLI(t, "officers", "remove", "--name", "zaur karimov"); !strings.Contains(got, "Removed zaur karimov") {
		t.Errorf("officers remove: got %q", got)
	}
	e.wantCLIError(t, 1, []string{`--name: no officer named "Zaur Karimov"`}, "officers", "remove", "--name", "Zaur Karimov")

	// An alert to list.
	if got := e.mustCLI(t, "alerts", "list"); !strings.Contains(got, "No alerts.") {
		t.Errorf("alerts list with none: got %q", got)
	}
	leyla := officers[0]
	for _, o := range officers {
		if o.Name == "Leyla Aliyeva" {
			leyla = o
		}
	}
	withStore(func(st *store.Store) {
		err := st.Update(context.Background(), func(tx *store.Tx) error {
			now := tx.Now()
			a := hotline.Alert{CaseID: "c1", CaseCode: "K7P2QX", Priority: hotline.P1, Channel: hotline.ChannelSMS,
				State: hotline.AlertOpen, OpenedAt: now, RoundStart: now, Step: 1, NextAt: now.Add(5 * time.Minute)}
			if err := tx.PutAlert(&a); err != nil {
				return err
			}
			return tx.PutJob(&hotline.Job{Kind: hotline.JobAlertSMS, AlertID: a.ID, OfficerID: leyla.ID, State: hotline.JobSent, Tries: 1, Delivery: "sent"})
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	var alerts []map[string]any
	raw := record(e.mustCLI(t, "alerts", "list", "--json"))
	if err := json.Unmarshal([]byte(raw), &alerts); err != nil || len(alerts) != 1 {
		t.Fatalf("alerts list --json: %v, %s", err, raw)
	}
	a := alerts[0]
	for k, want := range map[string]any{"code": "1", "number": 1.0, "case_code": "K7P2QX", "priority": "P1", "state": "open", "step": 1.0, "acked_by": ""} {
		if a[k] != want {
			t.Errorf("alert %s: got %v, want %v", k, a[k], want)
		}
	}
	attempts, _ := a["attempts"].([]any)
	if len(attempts) != 1 || attempts[0].(map[string]any)["officer"] != "Leyla Aliyeva" || attempts[0].(map[string]any)["kind"] != "sms" {
		t.Errorf("alert attempts: got %v", a["attempts"])
	}
	table := record(e.mustCLI(t, "alerts", "list"))
	for _, want := range []string{"CODE", "K7P2QX", "open", "sms Leyla Aliyeva sent"} {
		if !strings.Contains(table, want) {
			t.Errorf("alerts list: %q lacks %q", table, want)
		}
	}

	// Acting on it from the command line.
	e.wantCLIError(t, 2, []string{"--as"}, "alerts", "ack", "1")
	e.wantCLIError(t, 1, []string{"no alert 9"}, "alerts", "reopen", "9")
	e.wantCLIError(t, 1, []string{"only an acknowledged or closed alert can be reopened"}, "alerts", "reopen", "1")
	if got := record(e.mustCLI(t, "alerts", "ack", "1", "--as", "Leyla Aliyeva")); !strings.Contains(got, "is acknowledged") {
		t.Errorf("alerts ack: got %q", got)
	}
	e.wantCLIError(t, 2, []string{"--yes"}, "alerts", "close", "1", "--as", "Leyla Aliyeva")
	if got := record(e.mustCLI(t, "alerts", "close", "1", "--as", "Leyla Aliyeva", "--yes")); !strings.Contains(got, "is closed") {
		t.Errorf("alerts close: got %q", got)
	}
	if got := record(e.mustCLI(t, "alerts", "reopen", "1")); !strings.Contains(got, "is open; next step") {
		t.Errorf("alerts reopen: got %q", got)
	}
	if got := record(e.mustCLI(t, "alerts", "show", "1")); !strings.Contains(got, "Alert 1: P1 case K7P2QX, open") || !strings.Contains(got, "next escalation step") {
		t.Errorf("alerts show: got %q", got)
	}
	if got := record(e.mustCLI(t, "alerts", "escalate", "1")); !strings.Contains(got, "is open") {
		t.Errorf("alerts escalate: got %q", got)
	}
	// Each action is in the audit log, through the socket or not, like
	// the console's: who, what, the case and the alert number.
	var entries []map[string]any
	if err := json.Unmarshal([]byte(e.mustCLI(t, "audit", "list", "--json")), &entries); err != nil {
		t.Fatal(err)
	}
	var audited []string
	for _, en := range entries {
		if strings.HasPrefix(en["action"].(string), "alert.") {
			// The step reached depends on who the rota has on duty now.
			detail, _, _ := strings.Cut(en["detail"].(string), " step=")
			audited = append(audited, fmt.Sprintf("%s %v %s %v %s", en["action"], en["actor_name"], en["object"], detail, en["via"]))
		}
	}
	want := []string{
		"alert.acknowledged Leyla Aliyeva K7P2QX alert=1 cli",
		"alert.closed Leyla Aliyeva K7P2QX alert=1 cli",
		"alert.reopened <nil> K7P2QX alert=1 round=0 cli",
		"alert.escalated <nil> K7P2QX alert=1 round=0 cli",
	}
	if strings.Join(audited, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit entries of the alert actions:\n%s\nwant\n%s", strings.Join(audited, "\n"), strings.Join(want, "\n"))
	}
	return out.String()
}

// assertNoPhones fails if any officer's full number is in s.
func assertNoPhones(t *testing.T, where, s string) {
	t.Helper()
	for _, o := range adminOfficers {
		for _, needle := range []string{o.phone, o.phone[1:], o.phone[4:], "0" + o.phone[4:]} {
			if strings.Contains(s, needle) {
				t.Errorf("%s contains the number %s", where, needle)
			}
		}
	}
}

func TestAdminCommandsServerStopped(t *testing.T) {
	e := newAdminEnv(t)
	out := adminScenario(t, e, func(f func(*store.Store)) {
		st := mustOpenStore(t, e.dir, e.key)
		defer st.Close()
		f(st)
	})
	assertNoPhones(t, "CLI output", out)
}

func TestAdminCommandsServerRunning(t *testing.T) {
	e := newAdminEnv(t)
	st := mustOpenStore(t, e.dir, e.key)
	defer st.Close()
	logs := &leaktest.Buffer{}
	ln, err := console.ListenAdminSocket(filepath.Join(e.dir, console.AdminSocketName))
	if err != nil {
		t.Fatal(err)
	}
	disp, err := dispatch.New(dispatch.Config{Store: st, Sender: dispatch.NewDevSink(io.Discard), Escalation: config.DefaultEscalation(), Logger: zerolog.New(logs)})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: console.NewAdminHandler(console.NewAdmin(st, disp, nil), zerolog.New(logs))}
	go srv.Serve(ln)
	defer srv.Close()
	// Without a key the CLI can only have gone through the socket.
	e.env = map[string]string{}

	out := adminScenario(t, e, func(f func(*store.Store)) { f(st) })
	assertNoPhones(t, "CLI output", out)
	if !strings.Contains(logs.String(), `"route":"/officers"`) {
		t.Fatalf("the server logged no admin requests: %q", logs.String())
	}
	assertNoPhones(t, "server log", logs.String())
	for _, o := range adminOfficers {
		if strings.Contains(logs.String(), o.name) {
			t.Errorf("server log contains the name %s", o.name)
		}
	}
}

func TestAdminCommandsFileLockedWithoutSocket(t *testing.T) {
	e := newAdminEnv(t)
	st := mustOpenStore(t, e.dir, e.key)
	defer st.Close()
	e.wantCLIError(t, 1, []string{"in use by another process", "nothing answers on " + filepath.Join(e.dir, "admin.sock")}, "officers", "list")
}

func TestAdminCommandsUsage(t *testing.T) {
	e := newAdminEnv(t)
	if code, _, stderr := runCLI(t, "officers", "list"); code != 2 || !strings.Contains(stderr, "--data is required") {
		t.Errorf("without --data: exit %d, stderr %q", code, stderr)
	}
	e.env = map[string]string{}
	e.wantCLIError(t, 2, []string{"needs the master key", "HOTLINE_MASTER_KEY"}, "officers", "list")
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"alerts", "list", "--data", t.TempDir()}, nil, &stdout, &stderr, func(string) string { return "" }); code != 1 || !strings.Contains(stderr.String(), "no hotline data file") {
		t.Errorf("empty data dir: exit %d, stderr %q", code, stderr.String())
	}
	e.wantCLIError(t, 2, []string{`unknown command "frob"`}, "rota", "frob")
	e.wantCLIError(t, 2, []string{"--day, --start are required"}, "rota", "set", "--officer", "X")
	e.wantCLIError(t, 2, []string{"give the rota FILE"}, "rota", "import")
	e.wantCLIError(t, 2, []string{"--hours"}, "rota", "override", "--officer", "X", "--from", "now", "--hours", "-3")
	for _, args := range [][]string{{"officers", "add", "-h"}, {"rota", "override", "--help"}, {"alerts", "list", "-h"}, {"rota", "-h"}} {
		code, stdout, stderr := runCLI(t, args...)
		if code != 0 || !strings.Contains(stdout+stderr, "Usage: hotline") {
			t.Errorf("%v: exit %d, output %q", args, code, stdout+stderr)
		}
	}
	// A dev data directory opens with its own key file.
	dev := t.TempDir()
	key, _ := crypto.GenerateMasterKey()
	if err := key.WriteFile(filepath.Join(dev, "dev-master.key")); err != nil {
		t.Fatal(err)
	}
	mustOpenStore(t, dev, key).Close()
	stdout.Reset()
	stderr.Reset()
	if code := run(context.Background(), []string{"officers", "list", "--data", dev}, nil, &stdout, &stderr, func(string) string { return "" }); code != 0 {
		t.Errorf("dev data dir: exit %d: %s", code, stderr.String())
	}
}
