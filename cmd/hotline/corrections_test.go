package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/console"
	"github.com/hotline-az/hotline/internal/leaktest"
	"github.com/hotline-az/hotline/store"
)

// labelledLine is a line of triage/testdata, read as strictly as the
// triage tests read theirs.
type labelledLine struct {
	Text     string           `json:"text"`
	Lang     hotline.Lang     `json:"lang"`
	Priority hotline.Priority `json:"priority"`
	Category hotline.Category `json:"category"`
}

// decryptLabelled opens an export with id and parses every line.
func decryptLabelled(t *testing.T, path string, id age.Identity) ([]labelledLine, []byte) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := age.Decrypt(f, id)
	if err != nil {
		t.Fatalf("decrypt %s: %v", path, err)
	}
	plain, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	var out []labelledLine
	sc := bufio.NewScanner(bytes.NewReader(plain))
	for n := 1; sc.Scan(); n++ {
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		var l labelledLine
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("line %d is not a triage/testdata line: %v", n, err)
		}
		if l.Text == "" || l.Priority.Rank() == 0 || !l.Lang.Valid() || l.Category == "" {
			t.Fatalf("line %d: bad label %+v", n, l)
		}
		out = append(out, l)
	}
	return out, plain
}

// TestCorrectionsThroughTheCLI runs a real server, lets real triage read
// two tips, corrects both with 'hotline cases set-priority' over the admin
// socket, counts them with 'hotline stats', exports them encrypted with
// 'hotline triage corrections', and decrypts the file as triage data.
func TestCorrectionsThroughTheCLI(t *testing.T) {
	logs := &leaktest.Buffer{}
	dir := t.TempDir()
	e := newAdminEnv(t)
	e.dir = dir
	srv := MustRunMain(t, dir, e.key, logs)
	t.Cleanup(func() { srv.Close() })
	e.env = map[string]string{} // over the socket the CLI needs no key

	const (
		urgent     = "Kömək edin, bizi zirzəmidə saxlayırlar, qapı bağlıdır"
		harmless   = "Salam, sizin iş saatlarınız nədir?"
		lowerWhy   = "Reporter is a landlord; the door is his own storage room"
		raiseWhy   = "Second call said the boss takes them to another site tonight"
		leylaName  = "Leyla Aliyeva"
		recordings = "SM"
	)
	e.mustCLI(t, "officers", "add", "--name", leylaName, "--phone", "+994501110001", "--role", "officer")
	for i, text := range []string{urgent, harmless} {
		if code, _ := srv.sendSMS(t, recordings+strings.Repeat(string(rune('1'+i)), 32), "+99455765432"+string(rune('1'+i)), text); code != 200 {
			t.Fatalf("SMS %d: %d", i, code)
		}
	}
	var cases []console.CaseView
	if err := json.Unmarshal([]byte(e.mustCLI(t, "cases", "list", "--json")), &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) != 2 || cases[0].Priority != hotline.P1 || cases[1].Priority != hotline.P3 {
		t.Fatalf("triage of the two tips: got %+v, want one P1 and one P3", cases)
	}
	p1, p3 := cases[0].Code, cases[1].Code

	e.wantCLIError(t, 2, []string{"--reason is required"}, "cases", "set-priority", p1, "P2")
	e.wantCLIError(t, 2, []string{"PRIORITY: must be P1, P2 or P3"}, "cases", "set-priority", p1, "P4", "--reason", lowerWhy)
	e.wantCLIError(t, 2, []string{"--as: case " + p1 + " has open alert 1"}, "cases", "set-priority", p1, "P2", "--reason", lowerWhy)
	e.wantCLIError(t, 1, []string{`--as: no officer named "Nobody"`}, "cases", "set-priority", p1, "P2", "--reason", lowerWhy, "--as", "Nobody")
	e.wantCLIError(t, 1, []string{"CODE: no case AAAAAA"}, "cases", "set-priority", "AAAAAA", "P2", "--reason", lowerWhy)
	e.wantCLIError(t, 1, []string{"is already P3"}, "cases", "set-priority", p3, "p3", "--reason", raiseWhy)

	out := e.mustCLI(t, "cases", "set-priority", p1, "P2", "--reason", lowerWhy, "--as", leylaName)
	if want := "Case " + p1 + " is now P2 (was P1; triage said P1).\nAlert 1 is acknowledged as Leyla Aliyeva: its escalation stopped.\n"; out != want {
		t.Errorf("set-priority P1 to P2 said %q, want %q", out, want)
	}
	out = e.mustCLI(t, "cases", "set-priority", strings.ToLower(p3), "p1", "--reason", raiseWhy)
	if want := "Case " + p3 + " is now P1 (was P3; triage said P3).\nAlert 2 is open at P1: the duty officer is being paged.\n"; out != want {
		t.Errorf("set-priority P3 to P1 said %q, want %q", out, want)
	}
	show := e.mustCLI(t, "cases", "show", p1)
	if !strings.Contains(show, "status open, acknowledged") || !strings.Contains(show, "Priority changes:\n") || !strings.Contains(show, "P1 -> P2 by Leyla Aliyeva (triage said P1: ") || !strings.Contains(show, "    "+lowerWhy+"\n") {
		t.Errorf("cases show lacks the priority change:\n%s", show)
	}
	if show := e.mustCLI(t, "cases", "show", p3); !strings.Contains(show, "P3 -> P1 by an admin (cli) (triage said P3") {
		t.Errorf("cases show of the raised case:\n%s", show)
	}
	var alerts []console.AlertView
	if err := json.Unmarshal([]byte(e.mustCLI(t, "alerts", "list", "--json")), &alerts); err != nil {
		t.Fatal(err)
	}
	states := map[int]hotline.AlertState{}
	for _, a := range alerts {
		states[a.Number] = a.State
	}
	if states[1] != hotline.AlertAcknowledged || states[2] != hotline.AlertOpen {
		t.Errorf("alerts after the corrections: got %v, want 1 acknowledged and 2 open", states)
	}

	var st store.Stats
	if err := json.Unmarshal([]byte(e.mustCLI(t, "stats")), &st); err != nil {
		t.Fatal(err)
	}
	if c := st.Corrections; c.Total != 2 || c.P1Lowered != 1 || c.P3Raised != 1 || c.ByChange["P1_to_P2"] != 1 || c.ByChange["P3_to_P1"] != 1 {
		t.Errorf("stats corrections: got %+v, want one P1>P2 and one P3>P1", c)
	}

	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	export := filepath.Join(t.TempDir(), "corrections.jsonl.age")
	e.wantCLIError(t, 2, []string{"no backup recipient"}, "triage", "corrections", "--export", export)
	e.wantCLIError(t, 2, []string{"--export is required"}, "triage", "corrections", "--recipient", id.Recipient().String())
	out = e.mustCLI(t, "triage", "corrections", "--export", export, "--recipient", id.Recipient().String())
	if want := "Wrote 2 labelled tips to " + export + ", encrypted to 1 recipient(s): 1 lowered and 1 raised from what triage said.\n"; out != want {
		t.Errorf("export said %q, want %q", out, want)
	}
	e.wantCLIError(t, 2, []string{"exists; give a new file name"}, "triage", "corrections", "--export", export, "--recipient", id.Recipient().String())
	raw, err := os.ReadFile(export)
	if err != nil {
		t.Fatal(err)
	}
	leaktest.Check(t, "the encrypted export", string(raw), leaktest.Runs(urgent, 10)...)

	lines, plain := decryptLabelled(t, export, id)
	want := []labelledLine{
		{Text: urgent, Lang: hotline.LangAz, Priority: hotline.P2, Category: cases[0].Category},
		{Text: harmless, Lang: hotline.LangAz, Priority: hotline.P1, Category: hotline.CategoryNone},
	}
	if len(lines) != len(want) || lines[0] != want[0] || lines[1] != want[1] {
		t.Fatalf("export: got %+v, want %+v", lines, want)
	}
	// The triage tool reads the file as it reads its own test data.
	var triaged bytes.Buffer
	if code := run(context.Background(), []string{"triage", "--jsonl"}, bytes.NewReader(plain), &triaged, io.Discard, func(string) string { return "" }); code != 0 || strings.Count(triaged.String(), "\n") != 2 {
		t.Fatalf("hotline triage --jsonl on the export: exit %d\n%s", code, triaged.String())
	}

	audit := e.mustCLI(t, "audit", "list")
	for _, want := range []string{"case.priority", "P1>P2 triage=P1 acked_alert=1", "P3>P1 triage=P3 opened_alert=2", "triage.corrections_export", "tips=2"} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit list lacks %q:\n%s", want, audit)
		}
	}

	// Stopped, the commands open the file with the key.
	srv.Close()
	e.env = map[string]string{"HOTLINE_MASTER_KEY_FILE": filepath.Join(dir, "master.key")}
	again := filepath.Join(t.TempDir(), "again.jsonl.age")
	e.mustCLI(t, "triage", "corrections", "--export", again, "--recipient", id.Recipient().String())
	if got, _ := decryptLabelled(t, again, id); len(got) != 2 {
		t.Errorf("export from the stopped file: got %d lines, want 2", len(got))
	}
	data, err := os.ReadFile(filepath.Join(dir, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	for where, text := range map[string]string{"the data file": string(data), "the server log": logs.String()} {
		leaktest.Check(t, where, text, leaktest.Runs(lowerWhy, 12)...)
		leaktest.Check(t, where, text, leaktest.Runs(raiseWhy, 12)...)
		leaktest.Check(t, where, text, leaktest.Runs(urgent, 12)...)
	}
}
