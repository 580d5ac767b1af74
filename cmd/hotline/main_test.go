package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/rs/zerolog"

	"github.com/hotline-az/hotline/config"
	"github.com/hotline-az/hotline/crypto"
	"github.com/hotline-az/hotline/internal/leaktest"
	"github.com/hotline-az/hotline/store"
	"github.com/hotline-az/hotline/twiliotest"
)

const (
	testToken      = "testtoken123"
	testAccountSID = "AC" + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
)

// testServer is a real server on 127.0.0.1:0 over a real data directory.
type testServer struct {
	*Main
	URL         string // the public listener: Twilio's webhooks
	InternalURL string // the internal listener: /readyz, /metrics, pprof
}

// MustRunMain starts the server with a config for dir, logging into logs.
func MustRunMain(tb testing.TB, dir string, key crypto.MasterKey, logs io.Writer) *testServer {
	tb.Helper()
	keyFile := filepath.Join(dir, "master.key")
	if _, err := os.Stat(keyFile); os.IsNotExist(err) {
		if err := key.WriteFile(keyFile); err != nil {
			tb.Fatal(err)
		}
	}
	cfg := config.Default()
	cfg.Addr = "127.0.0.1:0"
	cfg.InternalAddr = "127.0.0.1:0"
	cfg.DataDir = dir
	cfg.PublicURL = "https://hotline.example.az"
	cfg.MasterKeyFile = keyFile
	cfg.Twilio = config.Twilio{AccountSID: testAccountSID, AuthToken: testToken, PhoneNumber: "+994125550000"}
	if err := cfg.Validate(); err != nil {
		tb.Fatalf("test config invalid: %v", err)
	}
	m := &Main{Config: cfg, Logger: zerolog.New(logs)}
	if err := m.Run(context.Background()); err != nil {
		tb.Fatalf("run: %v", err)
	}
	return &testServer{Main: m, URL: "http://" + m.Addr(), InternalURL: "http://" + m.InternalAddr()}
}

func (s *testServer) sendSMS(tb testing.TB, sid, from, body string) (int, string) {
	tb.Helper()
	form := url.Values{
		"MessageSid": {sid}, "SmsSid": {sid}, "AccountSid": {testAccountSID},
		"From": {from}, "To": {"+994125550000"}, "Body": {body}, "NumMedia": {"0"},
	}
	req, err := twiliotest.NewSignedRequest(testToken, s.URL+"/twilio/sms", "https://hotline.example.az/twilio/sms", form)
	if err != nil {
		tb.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func runCLI(tb testing.TB, args ...string) (int, string, string) {
	tb.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &stdout, &stderr, func(string) string { return "" })
	return code, stdout.String(), stderr.String()
}

func TestEndToEndSMSRestartStats(t *testing.T) {
	dir := t.TempDir()
	key, _ := crypto.GenerateMasterKey()
	srv := MustRunMain(t, dir, key, io.Discard)

	for _, u := range []string{srv.URL + "/healthz", srv.InternalURL + "/readyz"} {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: got %d %q, want 200", u, resp.StatusCode, body)
		}
	}
	status, reply := srv.sendSMS(t, "SM"+strings.Repeat("1", 32), "+994501234567", "Kömək edin, bizi zirzəmidə saxlayırlar")
	if status != 200 || !strings.Contains(reply, "Müraciət nömrəsi") {
		t.Fatalf("first SMS: got %d %q", status, reply)
	}
	if status, _ := srv.sendSMS(t, "SM"+strings.Repeat("2", 32), "0501234567", "Pomogite, nas derzhat"); status != 200 {
		t.Fatalf("second SMS: got %d", status)
	}
	if status, _ := srv.sendSMS(t, "SM"+strings.Repeat("3", 32), "+994559876543", "Is the hotline free?"); status != 200 {
		t.Fatalf("third SMS: got %d", status)
	}

	forged, _ := twiliotest.NewSignedRequest("nottoken999", srv.URL+"/twilio/sms", "https://hotline.example.az/twilio/sms", url.Values{"AccountSid": {testAccountSID}, "Body": {"x"}})
	if resp, err := http.DefaultClient.Do(forged); err != nil || resp.StatusCode != 403 {
		t.Fatalf("forged SMS: got %v %v, want 403", resp, err)
	} else {
		resp.Body.Close()
	}

	resp, err := http.Get(srv.InternalURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metricsText, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`hotline_cases{priority="P1"} 1`, `hotline_http_requests_total{route="/twilio/sms",status="200"} 3`, `hotline_messages 3`,
		`hotline_webhooks_rejected_total{reason="signature_invalid"} 1`} {
		if !strings.Contains(string(metricsText), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(string(metricsText), "501234567") {
		t.Error("/metrics contains a phone number")
	}

	// While the server holds the file, stats asks it over the admin socket.
	code, stdout, stderr := runCLI(t, "stats", "--json", "--data", dir)
	var live store.Stats
	if code != 0 || json.Unmarshal([]byte(stdout), &live) != nil || live.Messages != 3 {
		t.Fatalf("stats while serving: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}

	srv = MustRunMain(t, dir, key, io.Discard)
	status, again := srv.sendSMS(t, "SM"+strings.Repeat("1", 32), "+994501234567", "Kömək edin, bizi zirzəmidə saxlayırlar")
	if status != 200 || again != reply {
		t.Fatalf("retry after restart: got %d %q, want the first reply %q", status, again, reply)
	}
	srv.Close()

	code, stdout, stderr = runCLI(t, "stats", "--json", "--data", dir)
	if code != 0 {
		t.Fatalf("stats: exit %d: %s", code, stderr)
	}
	var st store.Stats
	if err := json.Unmarshal([]byte(stdout), &st); err != nil {
		t.Fatalf("stats output is not JSON: %v\n%s", err, stdout)
	}
	// 0501234567 is the same Azerbaijani number as +994501234567.
	if st.Cases != 2 || st.Messages != 3 || st.ByChannel["sms"].Messages != 3 || st.P1 != 1 || st.P3 != 1 {
		t.Fatalf("stats: got %+v, want 2 cases (1 P1, 1 P3), 3 messages", st)
	}
}

func TestNoIdentifyingDataInFileOrLogs(t *testing.T) {
	dir := t.TempDir()
	key, _ := crypto.GenerateMasterKey()
	logs := &leaktest.Buffer{}
	srv := MustRunMain(t, dir, key, logs)
	const sid = "SMfeedfacefeedfacefeedfacefeedface"
	body := "Qonşunun 14 yaşlı qızını pulla ərə verirlər, Gəncə küçəsi 12"
	if status, reply := srv.sendSMS(t, sid, "+994501234567", body); status != 200 {
		t.Fatalf("got %d %q", status, reply)
	}
	// A rejected request must not leak either.
	srv.sendSMS(t, sid+"x", "+994501234567", strings.Repeat("y", 70<<10))
	// Nor a hot backup: neither the age file nor the snapshot inside it,
	// as the holder of the age identity sees it.
	id, _ := age.GenerateX25519Identity()
	backupFile := filepath.Join(t.TempDir(), "hotline.age")
	if code, _, stderr := runCLI(t, "backup", "--data", dir, "--out", backupFile, "--recipient", id.Recipient().String()); code != 0 {
		t.Fatalf("backup: exit %d: %s", code, stderr)
	}
	srv.Close()

	raw, err := os.ReadFile(filepath.Join(dir, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	backupRaw, err := os.ReadFile(backupFile)
	if err != nil {
		t.Fatal(err)
	}
	plainBackup, err := age.Decrypt(bytes.NewReader(backupRaw), id)
	if err != nil {
		t.Fatal(err)
	}
	snapshot, err := io.ReadAll(plainBackup)
	if err != nil || len(snapshot) < 4096 {
		t.Fatalf("decrypted backup: %d bytes, %v", len(snapshot), err)
	}
	// The listen address is ours, not a client's: leave that line out of
	// the search for 127.0.0.1 (the test client's address).
	var clientLogs []string
	for _, line := range strings.Split(logs.String(), "\n") {
		if !strings.Contains(line, `"message":"listening"`) {
			clientLogs = append(clientLogs, line)
		}
	}
	sources := map[string]string{
		"bbolt file": string(raw), "log": strings.Join(clientLogs, "\n"),
		"backup file": string(backupRaw), "decrypted backup": string(snapshot),
	}
	if !strings.Contains(logs.String(), "sms tip stored") {
		t.Fatalf("log capture is empty or incomplete: %q", logs.String())
	}
	needles := append(leaktest.PhoneForms("+994501234567"), sid)
	needles = append(needles, leaktest.Runs(body, 8)...)
	for name, content := range sources {
		leaktest.Check(t, name, content, needles...)
	}
	leaktest.Check(t, "log", sources["log"], "127.0.0.1")
}

func TestServeRejectsBadConfigNamingEveryField(t *testing.T) {
	var stdout, stderr bytes.Buffer
	env := map[string]string{
		"HOTLINE_DATA_DIR":   t.TempDir(),
		"HOTLINE_PUBLIC_URL": "ftp://x",
		"HOTLINE_MASTER_KEY": "short",
		"TWILIO_ACCOUNT_SID": "nope",
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	code := run(ctx, []string{"serve"}, nil, &stdout, &stderr, func(k string) string { return env[k] })
	if code != 2 {
		t.Fatalf("exit code: got %d, want 2", code)
	}
	for _, want := range []string{"public_url (HOTLINE_PUBLIC_URL)", "twilio.account_sid (TWILIO_ACCOUNT_SID)", "twilio.auth_token (TWILIO_AUTH_TOKEN)", "twilio.phone_number"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr %q does not name %s", stderr.String(), want)
		}
	}
	if _, err := os.Stat(filepath.Join(env["HOTLINE_DATA_DIR"], store.FileName)); err == nil {
		t.Error("a data file was created despite invalid configuration")
	}
}

func TestUsageErrors(t *testing.T) {
	if code, _, stderr := runCLI(t, "frobnicate"); code != 2 || !strings.Contains(stderr, `unknown command "frobnicate"`) {
		t.Fatalf("unknown command: got %d %q", code, stderr)
	}
	if code, _, stderr := runCLI(t, "stats"); code != 2 || !strings.Contains(stderr, "--data") {
		t.Fatalf("stats without --data: got %d %q", code, stderr)
	}
	if code, _, stderr := runCLI(t, "serve", "--bogus"); code != 2 || !strings.Contains(stderr, "bogus") {
		t.Fatalf("bad flag: got %d %q", code, stderr)
	}
}

// TestForgedFloodIsNotLoggedPerRequest: refused webhooks are counted, but
// neither the access log nor intake's rejection log writes a line for
// each, so a flood cannot fill the disk through the log.
func TestForgedFloodIsNotLoggedPerRequest(t *testing.T) {
	logs := &leaktest.Buffer{}
	key, _ := crypto.GenerateMasterKey()
	srv := MustRunMain(t, t.TempDir(), key, logs)
	defer srv.Close()
	const n = 300
	start := time.Now()
	for i := range n {
		form := url.Values{"MessageSid": {fmt.Sprintf("SM%032x", i)}, "AccountSid": {testAccountSID}, "Body": {"x"}}
		req, _ := twiliotest.NewSignedRequest("nottoken999", srv.URL+"/twilio/sms", "https://hotline.example.az/twilio/sms", form)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 403 {
			t.Fatalf("forged request %d: got %d, want 403", i, resp.StatusCode)
		}
	}
	seconds := int(time.Since(start)/time.Second) + 1
	lines := strings.Count(logs.String(), `"status":403`)
	if lines == 0 || lines > seconds {
		t.Fatalf("%d forged requests in %d s wrote %d log lines with status 403, want 1 to %d:\n%s", n, seconds, lines, seconds, logs.String())
	}
}
