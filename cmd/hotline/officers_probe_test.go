package main

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hotline-az/hotline/config"
	"github.com/hotline-az/hotline/crypto"
	"github.com/hotline-az/hotline/internal/leaktest"
	"github.com/hotline-az/hotline/store"
	"github.com/hotline-az/hotline/twiliotest"
)

// probeEnv is a running server whose Twilio is the stateful fake, and the
// CLI pointed at its data directory (through the admin socket).
type probeEnv struct {
	m    *Main
	fake *twiliotest.FakeTwilio
	cli  *adminEnv
	logs *leaktest.Buffer
}

func mustRunWithFakeTwilio(t *testing.T) *probeEnv {
	t.Helper()
	dir := t.TempDir()
	fake := twiliotest.NewFakeTwilio(t)
	key, err := crypto.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "master.key")
	if err := key.WriteFile(keyFile); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Addr, cfg.InternalAddr, cfg.DataDir, cfg.PublicURL, cfg.MasterKeyFile = "127.0.0.1:0", "127.0.0.1:0", dir, "https://hotline.example.az", keyFile
	cfg.Twilio = config.Twilio{AccountSID: fake.AccountSID(), AuthToken: fake.AuthToken(), PhoneNumber: "+994125550000", APIURL: fake.URL()}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	logs := &leaktest.Buffer{}
	m := &Main{Config: cfg, Logger: zerolog.New(logs), PollInterval: 20 * time.Millisecond}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	// No key in the CLI's environment: it can only go through the socket.
	return &probeEnv{m: m, fake: fake, cli: &adminEnv{dir: dir, key: key, env: map[string]string{}}, logs: logs}
}

// twilioPost sends what Twilio would to one of the hotline's callback URLs
// (public URL and query as the hotline gave them), signed.
func (e *probeEnv) twilioPost(t *testing.T, publicURL string, form url.Values) (int, string) {
	t.Helper()
	u, err := url.Parse(publicURL)
	if err != nil {
		t.Fatal(err)
	}
	form.Set("AccountSid", e.fake.AccountSID())
	req, err := twiliotest.NewSignedRequest(e.fake.AuthToken(), "http://"+e.m.Addr()+u.RequestURI(), publicURL, form)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

// TestOfficersTestReportsWhatTwilioSaid: `hotline officers test NAME`
// sends a test SMS and call through the running server and the fake
// Twilio; the officer's phone answers (SMS delivered, call answered and
// 1 pressed) and the command says so. A number Twilio refuses is reported
// with Twilio's error and exit 1. Neither opens a case or an alert.
func TestOfficersTestReportsWhatTwilioSaid(t *testing.T) {
	e := mustRunWithFakeTwilio(t)
	e.cli.mustCLI(t, "officers", "add", "--name", "Leyla Aliyeva", "--phone", "+994501110001", "--role", "officer")

	type result struct {
		code           int
		stdout, stderr string
	}
	done := make(chan result, 1)
	go func() {
		code, stdout, stderr := e.cli.cli(t, "officers", "test", "Leyla Aliyeva", "--wait", "30s")
		done <- result{code, stdout, stderr}
	}()
	// Be the officer's phone: the SMS arrives, the call is answered and 1
	// pressed, and Twilio reports each.
	var msg twiliotest.FakeMessage
	var call twiliotest.FakeCall
	waitFor(t, "the test SMS and call at Twilio", func() bool {
		ms, cs := e.fake.Messages(), e.fake.Calls()
		if len(ms) == 1 && len(cs) == 1 {
			msg, call = ms[0], cs[0]
			return true
		}
		return false
	}, func() string { return e.logs.String() })
	if msg.To != "+994501110001" || !strings.Contains(msg.Body, "test message") || call.To != "+994501110001" {
		t.Fatalf("test SMS %+v, call %+v", msg, call)
	}
	if status, body := e.twilioPost(t, msg.StatusCallback, url.Values{"MessageSid": {msg.SID}, "MessageStatus": {"delivered"}}); status != http.StatusNoContent {
		t.Fatalf("SMS status: %d %s", status, body)
	}
	status, twimlDoc := e.twilioPost(t, call.URL, url.Values{"CallSid": {call.SID}, "CallStatus": {"in-progress"}, "AnsweredBy": {"human"}})
	if status != 200 || !strings.Contains(twimlDoc, "/test_call.wav</Play>") || !strings.Contains(twimlDoc, "<Gather") {
		t.Fatalf("test call TwiML: %d %s", status, twimlDoc)
	}
	if status, doc := e.twilioPost(t, call.URL, url.Values{"CallSid": {call.SID}, "Digits": {"1"}}); status != 200 || !strings.Contains(doc, "/test_ok.wav</Play>") {
		t.Fatalf("key press: %d %s", status, doc)
	}
	if status, body := e.twilioPost(t, call.StatusCallback, url.Values{"CallSid": {call.SID}, "CallStatus": {"completed"}}); status != http.StatusNoContent {
		t.Fatalf("call status: %d %s", status, body)
	}
	r := <-done
	if r.code != 0 {
		t.Fatalf("officers test: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"Testing Leyla Aliyeva (+99450*****01)", "SMS   delivered", "call  completed, 1 pressed: the phone works", "Leyla Aliyeva can be reached."} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}

	// A number Twilio refuses (here: every create fails with 21211).
	e.fake.FailNext(2, 400, 21211)
	code, stdout, stderr := e.cli.cli(t, "officers", "test", "leyla aliyeva", "--wait", "30s")
	if code != 1 || !strings.Contains(stdout, "REFUSED by Twilio") || !strings.Contains(stdout, "21211") || !strings.Contains(stdout, "cannot be reached") {
		t.Fatalf("refused test: exit %d\n%s%s", code, stdout, stderr)
	}
	e.cli.wantCLIError(t, 1, []string{`no officer named "Nobody Here"`}, "officers", "test", "Nobody Here")

	st, _ := e.m.Store().Stats()
	if st.Cases != 0 || st.Messages != 0 || len(st.Alerts) != 0 {
		t.Fatalf("a test opened something: %+v", st)
	}
	entries, err := e.m.Store().Audit(store.AuditFilter{Action: "officer.test"})
	if err != nil || len(entries) != 2 || entries[0].Via != "cli" {
		t.Fatalf("audit: %v %+v, want two officer.test entries", err, entries)
	}
	leaktest.Check(t, "server log", e.logs.String(), leaktest.PhoneForms("+994501110001")...)
	leaktest.Check(t, "CLI output", stdout+r.stdout, leaktest.PhoneForms("+994501110001")...)
}

func TestOfficersTestNeedsTheServer(t *testing.T) {
	e := newAdminEnv(t)
	e.mustCLI(t, "officers", "add", "--name", "Leyla Aliyeva", "--phone", "+994501110001", "--role", "officer")
	e.wantCLIError(t, 1, []string{"the server is not running", "start it"}, "officers", "test", "Leyla Aliyeva")
	e.wantCLIError(t, 2, []string{"NAME"}, "officers", "test")
	st := mustOpenStore(t, e.dir, e.key)
	defer st.Close()
	if s, _ := st.Stats(); len(s.Jobs) != 0 {
		t.Fatalf("a test without the server queued jobs: %v", s.Jobs)
	}
}

// TestOfficersTestWithoutAnOutcomeExits3: when Twilio never reports how the
// test SMS and call ended (as with the plain --dev outbox), the command
// says so and exits 3, not 0: an unknown outcome is not a reachable phone.
func TestOfficersTestWithoutAnOutcomeExits3(t *testing.T) {
	e := mustRunWithFakeTwilio(t)
	e.cli.mustCLI(t, "officers", "add", "--name", "Leyla Aliyeva", "--phone", "+994501110001", "--role", "officer")
	code, stdout, stderr := e.cli.cli(t, "officers", "test", "Leyla Aliyeva", "--wait", "1s")
	if code != 3 || !strings.Contains(stdout, "had not reported how it ended") {
		t.Fatalf("no status callback: exit %d\n%s%s; want 3", code, stdout, stderr)
	}
	code, stdout, stderr = e.cli.cli(t, "officers", "test", "Leyla Aliyeva", "--wait", "1s", "--json")
	if code != 3 {
		t.Fatalf("no status callback, --json: exit %d\n%s%s; want 3", code, stdout, stderr)
	}
}
