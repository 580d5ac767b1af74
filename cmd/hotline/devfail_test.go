package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/config"
	"github.com/hotline-az/hotline/crypto"
	"github.com/hotline-az/hotline/internal/leaktest"
	"github.com/hotline-az/hotline/store"
	"github.com/hotline-az/hotline/twiliotest"
)

// mustRunDev starts serve --dev as runServe wires it (no Twilio account,
// the demo officers), on free ports, with the dev outbox in outbox.
func mustRunDev(t *testing.T, outbox io.Writer, tune func(*Main)) *Main {
	t.Helper()
	dir := t.TempDir()
	key, err := crypto.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "dev-master.key")
	if err := key.WriteFile(keyFile); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Dev = true
	cfg.Addr, cfg.InternalAddr, cfg.DataDir = "127.0.0.1:0", "127.0.0.1:0", dir
	cfg.MasterKeyFile = keyFile
	cfg.Twilio.AuthToken = testToken
	// Signatures are checked against the public URL, which is not the
	// address the dev sink posts its reports to.
	cfg.PublicURL = "https://hotline.example.az"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	m := &Main{Config: cfg, Logger: zerolog.New(io.Discard), Stdout: outbox, PollInterval: 20 * time.Millisecond, DevRingTime: 50 * time.Millisecond}
	tune(m)
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func devTip(t *testing.T, m *Main, body string) {
	t.Helper()
	sid := twiliotest.NewSID("SM")
	form := url.Values{"MessageSid": {sid}, "AccountSid": {config.DevAccountSID}, "From": {"+994557654321"},
		"To": {config.DevPhoneNumber}, "Body": {body}}
	req, err := twiliotest.NewSignedRequest(testToken, "http://"+m.Addr()+"/twilio/sms", "https://hotline.example.az/twilio/sms", form)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("tip: HTTP %d", resp.StatusCode)
	}
}

// waitFor polls until cond holds; the worker runs in real time here, so
// the deadline only bounds a broken run.
func waitFor(t *testing.T, what string, cond func() bool, show ...func() string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	var shown strings.Builder
	for _, f := range show {
		shown.WriteString(f())
	}
	t.Fatalf("%s did not happen:\n%s", what, shown.String())
}

// TestDevFailAndUnansweredMoveTheAlertOn: serve --dev --dev-fail NUMBER
// makes the on-duty demo officer's SMS come back undelivered and their
// call fail, reported to the status webhook as Twilio would; the alert
// goes on to the backup at once, not after five minutes. With
// --dev-unanswered the SMS is delivered but the call rings out, and the
// alert moves on too.
func TestDevFailAndUnansweredMoveTheAlertOn(t *testing.T) {
	for _, tc := range []struct {
		name       string
		tune       func(*Main)
		wantFailed []string // job kind/delivery
	}{
		{"dev-fail", func(m *Main) { m.DevFail = []string{devOfficerPhone} }, []string{"alert_sms/undelivered", "alert_call/failed"}},
		{"dev-unanswered", func(m *Main) { m.DevUnanswered = true }, []string{"alert_call/no-answer"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			outbox := &leaktest.Buffer{}
			m := mustRunDev(t, outbox, tc.tune)
			devTip(t, m, "Kömək edin, bizi zirzəmidə saxlayırlar")
			// The demo supervisor is the backup: paged only once the
			// on-duty officer's delivery failed.
			waitFor(t, "the backup paged", func() bool {
				return strings.Contains(outbox.String(), "DEV OUTBOX: SMS to +994*******02")
			}, outbox.String)
			var failed []string
			m.Store().View(func(tx *store.Tx) error {
				jobs, _ := tx.Jobs("")
				for _, j := range jobs {
					if j.State == hotline.JobFailed {
						failed = append(failed, string(j.Kind)+"/"+j.Delivery)
					}
				}
				return nil
			})
			for _, want := range tc.wantFailed {
				if !strings.Contains(strings.Join(failed, " "), want) {
					t.Errorf("failed jobs %v, want %s among them\noutbox:\n%s", failed, want, outbox.String())
				}
			}
			if tc.name == "dev-fail" && !strings.Contains(outbox.String(), "DEV OUTBOX: reported undelivered (error 30003, --dev-fail) for SM") {
				t.Errorf("the outbox does not say what it reported:\n%s", outbox.String())
			}
			leaktest.Check(t, "dev outbox", outbox.String(), leaktest.PhoneForms(devOfficerPhone)...)
		})
	}
}

func TestDevFailNeedsDev(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr strings.Builder
	code := run(context.Background(), []string{"serve", "--data", dir, "--dev-fail", "+994500000001"}, nil, &stdout, &stderr, func(string) string { return "" })
	if code != 2 || !strings.Contains(stderr.String(), "--dev-fail and --dev-unanswered need --dev") {
		t.Fatalf("--dev-fail without --dev: exit %d, stderr %q", code, stderr.String())
	}
	code = run(context.Background(), []string{"serve", "--dev", "--data", dir, "--dev-fail", "12ab"}, nil, &stdout, &stderr, func(string) string { return "" })
	if code != 2 || !strings.Contains(stderr.String(), "dev-fail") {
		t.Fatalf("--dev-fail 12ab: exit %d, stderr %q", code, stderr.String())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("a refused serve wrote %d files", len(entries))
	}
}

// TestDevRecordingStaysQueuedAndSaysWhy: in --dev (no Twilio account, no
// media worker) a voicemail callback is queued but never downloads, and
// cases audio says so instead of only "not downloaded yet".
func TestDevRecordingStaysQueuedAndSaysWhy(t *testing.T) {
	m := mustRunDev(t, io.Discard, func(*Main) {})
	form := url.Values{"AccountSid": {config.DevAccountSID}, "CallSid": {twiliotest.NewSID("CA")}, "RecordingSid": {twiliotest.NewSID("RE")},
		"RecordingStatus": {"completed"}, "RecordingDuration": {"7"}}
	req, err := twiliotest.NewSignedRequest(testToken, "http://"+m.Addr()+"/twilio/recording", "https://hotline.example.az/twilio/recording", form)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("recording callback: HTTP %d", resp.StatusCode)
	}
	cases, err := m.Store().ListCases()
	if err != nil || len(cases) != 1 {
		t.Fatalf("cases %v, %v; want the recording's one", cases, err)
	}
	code, stdout, stderr := runCLI(t, "cases", "audio", cases[0].Code, "--out", filepath.Join(t.TempDir(), "v.wav"), "--data", m.Config.DataDir)
	if code == 0 || !strings.Contains(stderr, "not downloaded yet") || !strings.Contains(stderr, "in --dev nothing downloads recordings") {
		t.Fatalf("cases audio in --dev: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}
