package main

import (
	"bytes"
	"context"
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
	"github.com/hotline-az/hotline/twiliotest"
)

// runWithFakeTwilio starts the server with its REST client pointed at a
// fake Twilio and erase_at_twilio on (the default).
func runWithFakeTwilio(t *testing.T, dir string, fake *twiliotest.FakeTwilio, logs *leaktest.Buffer) *testServer {
	t.Helper()
	key, err := crypto.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "master.key")
	if err := key.WriteFile(keyFile); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Addr, cfg.InternalAddr, cfg.DataDir = "127.0.0.1:0", "127.0.0.1:0", dir
	cfg.PublicURL, cfg.MasterKeyFile = "https://hotline.example.az", keyFile
	cfg.Twilio.AccountSID, cfg.Twilio.AuthToken, cfg.Twilio.PhoneNumber = testAccountSID, testToken, "+994125550000"
	cfg.Twilio.APIURL = fake.URL()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	m := &Main{Config: cfg, Logger: zerolog.New(logs), PollInterval: 20 * time.Millisecond}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	return &testServer{Main: m, URL: "http://" + m.Addr(), InternalURL: "http://" + m.InternalAddr()}
}

// The whole path on a real server: an SMS tip's body is blanked at
// Twilio; a voicemail is fetched, sealed, deleted at Twilio, and an admin
// writes it back out with cases audio, over the socket and with the
// server stopped, each time audited.
func TestVoicemailAndRedactionEndToEnd(t *testing.T) {
	dir := t.TempDir()
	logs := &leaktest.Buffer{}
	fake := twiliotest.StartFakeTwilio(testAccountSID, testToken)
	t.Cleanup(fake.Close)
	srv := runWithFakeTwilio(t, dir, fake, logs)
	defer func() { srv.Close() }()

	const from, body = "+994501234567", "Bizi Xırdalanda anbarda saxlayırlar"
	smsSID := fake.AddMessage(twiliotest.FakeMessage{To: "+994125550000", From: from, Body: body})
	if status, _ := srv.sendSMS(t, smsSID, from, body); status != 200 {
		t.Fatalf("SMS: HTTP %d", status)
	}
	waitFor(t, "the SMS body to be redacted at Twilio", func() bool { return fake.Redactions() == 1 })

	audio := twiliotest.NewWAV(12, 7)
	recSID, callSID := twiliotest.NewSID("RE"), twiliotest.NewSID("CA")
	fake.AddRecording(recSID, audio)
	form := url.Values{"AccountSid": {testAccountSID}, "CallSid": {callSID}, "RecordingSid": {recSID},
		"RecordingStatus": {"completed"}, "RecordingDuration": {"12"}}
	req, err := twiliotest.NewSignedRequest(testToken, srv.URL+"/twilio/recording", "https://hotline.example.az/twilio/recording", form)
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
	waitFor(t, "the recording to be deleted at Twilio", func() bool { return !fake.HasRecording(recSID) })

	cases, err := srv.Store().ListCases()
	if err != nil {
		t.Fatal(err)
	}
	var code string
	for _, c := range cases {
		if c.Channel == hotline.ChannelVoice {
			code = c.Code
		}
	}
	if code == "" {
		t.Fatalf("no voice case among %+v", cases)
	}
	out := filepath.Join(t.TempDir(), "voicemail.wav")
	exit, stdout, stderr := runCLI(t, "cases", "audio", code, "--out", out, "--data", dir)
	if exit != 0 || !strings.Contains(stdout, "Wrote recording 1 of case "+code) {
		t.Fatalf("cases audio over the socket: exit %d, %q %q", exit, stdout, stderr)
	}
	if got, _ := os.ReadFile(out); !bytes.Equal(got, audio) {
		t.Fatalf("written audio: %d bytes, want the %d Twilio had", len(got), len(audio))
	}
	if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o600 {
		t.Errorf("audio file mode %v, want 0600", fi.Mode().Perm())
	}
	if exit, _, stderr := runCLI(t, "cases", "audio", code, "--out", out, "--data", dir); exit != 2 || !strings.Contains(stderr, "--out") {
		t.Errorf("an existing --out: exit %d %q, want 2 naming --out", exit, stderr)
	}
	if exit, _, stderr := runCLI(t, "cases", "audio", code, "--out", out+"2", "--recording", "2", "--data", dir); exit == 0 || !strings.Contains(stderr, "--recording") {
		t.Errorf("a recording the case lacks: exit %d %q, want an error naming --recording", exit, stderr)
	}
	if exit, stdout, _ := runCLI(t, "cases", "show", code, "--data", dir); exit != 0 || !strings.Contains(stdout, "deleted at Twilio") {
		t.Errorf("cases show: exit %d, %q, want the voicemail listed", exit, stdout)
	}

	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	out2 := filepath.Join(t.TempDir(), "again.wav")
	var stdout2, stderr2 bytes.Buffer
	keyEnv := func(k string) string {
		if k == "HOTLINE_MASTER_KEY_FILE" {
			return filepath.Join(dir, "master.key")
		}
		return ""
	}
	if exit := run(context.Background(), []string{"cases", "audio", code, "--out", out2, "--data", dir}, strings.NewReader(""), &stdout2, &stderr2, keyEnv); exit != 0 {
		t.Fatalf("cases audio with the server stopped: exit %d %q", exit, stderr2.String())
	}
	if got, _ := os.ReadFile(out2); !bytes.Equal(got, audio) {
		t.Fatal("audio written with the server stopped differs")
	}
	var auditOut, auditErr bytes.Buffer
	exit = run(context.Background(), []string{"audit", "list", "--json", "--data", dir}, strings.NewReader(""), &auditOut, &auditErr, keyEnv)
	if n := strings.Count(auditOut.String(), `"case.audio"`); exit != 0 || n != 2 {
		t.Errorf("audit log: %d case.audio entries, want 2 (exit %d %s)", n, exit, auditErr.String())
	}
	raw, err := os.ReadFile(filepath.Join(dir, "hotline.db"))
	if err != nil {
		t.Fatal(err)
	}
	leaktest.CheckNoRun(t, "data file", raw, audio, 64)
	leaktest.Check(t, "log", logs.String(), append(leaktest.PhoneForms(from), recSID, callSID, smsSID, body)...)
}

// postSigned posts a signed Twilio webhook to path and returns its status.
func (s *testServer) postSigned(tb testing.TB, path string, form url.Values) int {
	tb.Helper()
	form.Set("AccountSid", testAccountSID)
	req, err := twiliotest.NewSignedRequest(testToken, s.URL+path, "https://hotline.example.az"+path, form)
	if err != nil {
		tb.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestVoicemailJoinsItsCallsCase(t *testing.T) {
	dir := t.TempDir()
	logs := &leaktest.Buffer{}
	fake := twiliotest.StartFakeTwilio(testAccountSID, testToken)
	t.Cleanup(fake.Close)
	srv := runWithFakeTwilio(t, dir, fake, logs)
	defer srv.Close()

	const caller = "+994551112233"
	callSID := twiliotest.NewSID("CA")
	call := url.Values{"CallSid": {callSID}, "From": {caller}, "To": {"+994125550000"}, "CallStatus": {"in-progress"}, "Direction": {"inbound"}}
	if status := srv.postSigned(t, "/twilio/voice", call); status != 200 {
		t.Fatalf("inbound call: HTTP %d", status)
	}
	recSID := twiliotest.NewSID("RE")
	audio := twiliotest.NewWAV(5, 3)
	fake.AddRecording(recSID, audio)
	rec := url.Values{"CallSid": {callSID}, "RecordingSid": {recSID}, "RecordingStatus": {"completed"}, "RecordingDuration": {"5"}}
	if status := srv.postSigned(t, "/twilio/recording", rec); status != 200 {
		t.Fatalf("recording callback: HTTP %d", status)
	}
	waitFor(t, "the recording to be stored and deleted at Twilio", func() bool { return !fake.HasRecording(recSID) })

	cases, err := srv.Store().ListCases()
	if err != nil {
		t.Fatal(err)
	}
	var voice []string
	for _, c := range cases {
		if c.Channel == hotline.ChannelVoice {
			voice = append(voice, c.Code)
		}
	}
	// One case: the call's. A recording that did not find its call would
	// open a second, orphan case.
	if len(voice) != 1 {
		t.Fatalf("voice cases %v, want exactly the call's one", voice)
	}
	v, err := srv.Store().CaseForCall(callSID)
	if err != nil || v.CaseCode != voice[0] {
		t.Fatalf("CaseForCall = %+v, %v; want the case %s", v, err, voice[0])
	}
	out := filepath.Join(t.TempDir(), "voicemail.wav")
	if exit, stdout, stderr := runCLI(t, "cases", "audio", voice[0], "--out", out, "--data", dir); exit != 0 {
		t.Fatalf("cases audio %s: exit %d %q %q", voice[0], exit, stdout, stderr)
	}
	if got, _ := os.ReadFile(out); !bytes.Equal(got, audio) {
		t.Fatalf("the call's case holds %d bytes of audio, want the %d Twilio had", len(got), len(audio))
	}
	leaktest.Check(t, "log", logs.String(), append(leaktest.PhoneForms(caller), recSID, callSID)...)
}
