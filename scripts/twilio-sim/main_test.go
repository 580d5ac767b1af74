package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twilio/twilio-go/client"
)

const testToken = "testtoken123"

// received is one request the fake server got.
type received struct {
	Path     string
	Body     string
	Form     url.Values
	SigValid bool
	HasSig   bool
}

// fakeHotline stands in for the hotline server: it checks the signature with
// twilio-go's validator against signURL (or its own URL), records the form,
// and answers 403 to a bad signature and TwiML to a good one.
type fakeHotline struct {
	*httptest.Server
	signURL string // empty: the URL the request was sent to

	mu   sync.Mutex
	reqs []received
}

const fakeReply = `<?xml version="1.0" encoding="UTF-8"?><Response><Message>Qəbul edildi</Message></Response>`

func mustStartFakeHotline(tb testing.TB, signURL string) *fakeHotline {
	tb.Helper()
	f := &fakeHotline{signURL: signURL}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve)) // listens on 127.0.0.1
	tb.Cleanup(f.Close)
	return f
}

func (f *fakeHotline) serve(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	form, err := url.ParseQuery(string(raw))
	if err != nil {
		http.Error(w, "form", http.StatusBadRequest)
		return
	}
	signURL := f.signURL
	if signURL == "" {
		signURL = f.URL + r.URL.RequestURI()
	}
	sig := r.Header.Get("X-Twilio-Signature")
	v := client.NewRequestValidator(testToken)
	rec := received{Path: r.URL.Path, Body: string(raw), Form: form, HasSig: sig != "", SigValid: v.ValidateBody(signURL, raw, sig)}
	f.mu.Lock()
	f.reqs = append(f.reqs, rec)
	f.mu.Unlock()
	if !rec.SigValid {
		http.Error(w, "invalid signature", http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	io.WriteString(w, fakeReply)
}

func (f *fakeHotline) received() []received {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]received(nil), f.reqs...)
}

// only returns the only request received, failing the test otherwise.
func (f *fakeHotline) only(tb testing.TB) received {
	tb.Helper()
	got := f.received()
	if len(got) != 1 {
		tb.Fatalf("server got %d requests, want 1", len(got))
	}
	return got[0]
}

// clearEnv keeps the developer's real Twilio settings out of the tests.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, k := range []string{envToken, envPhone, envAccount} {
		t.Setenv(k, "")
	}
}

// runSim runs the command with args and returns its exit code and output.
func runSim(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

var sidPattern = regexp.MustCompile(`^SM[0-9a-f]{32}$`)

func TestSMSSendsSignedInboundWebhook(t *testing.T) {
	clearEnv(t)
	srv := mustStartFakeHotline(t, "")
	code, stdout, stderr := runSim(t, "sms", "--url", srv.URL+"/twilio/sms", "--token", testToken,
		"--from", "+994501234567", "Salam,", "pasportumu", "götürüblər")
	if code != exitOK {
		t.Fatalf("exit %d, want 0; stderr:\n%s", code, stderr)
	}
	got := srv.only(t)
	if !got.SigValid {
		t.Fatalf("twilio-go rejected the signature; form %v", got.Form)
	}
	if got.Path != "/twilio/sms" {
		t.Errorf("path %q, want /twilio/sms", got.Path)
	}
	sid := got.Form.Get("MessageSid")
	if !sidPattern.MatchString(sid) {
		t.Errorf("MessageSid %q, want SM + 32 lowercase hex digits", sid)
	}
	want := map[string]string{
		"SmsSid":        sid,
		"SmsMessageSid": sid,
		"AccountSid":    defaultAccount,
		"From":          "+994501234567",
		"To":            "+15017122661",
		"Body":          "Salam, pasportumu götürüblər",
		"NumMedia":      "0",
		"NumSegments":   "1",
		"SmsStatus":     "received",
		"ApiVersion":    "2010-04-01",
	}
	for k, v := range want {
		if g := got.Form[k]; len(g) != 1 || g[0] != v {
			t.Errorf("%s = %q, want [%q]", k, g, v)
		}
	}
	if len(got.Form) != len(want)+1 {
		t.Errorf("form has %d fields, want %d: %v", len(got.Form), len(want)+1, got.Form)
	}
	if wantOut := "HTTP 200 OK\n" + fakeReply + "\n"; stdout != wantOut {
		t.Errorf("stdout:\n%s\nwant:\n%s", stdout, wantOut)
	}
	if !strings.Contains(stderr, sid) {
		t.Errorf("stderr %q does not name the MessageSid %s", stderr, sid)
	}
}

func TestSMSDefaultsFromEnvironment(t *testing.T) {
	t.Setenv(envToken, testToken)
	t.Setenv(envPhone, "+994124000000")
	t.Setenv(envAccount, "AC0123456789abcdef0123456789abcdef")
	srv := mustStartFakeHotline(t, "")
	code, _, stderr := runSim(t, "sms", "--url", srv.URL+"/twilio/sms", "--from", "+79991234567", "hi")
	if code != exitOK {
		t.Fatalf("exit %d, want 0; stderr:\n%s", code, stderr)
	}
	got := srv.only(t)
	if !got.SigValid {
		t.Error("signature with the token from the environment was rejected")
	}
	if g := got.Form.Get("To"); g != "+994124000000" {
		t.Errorf("To %q, want %s from %s", g, "+994124000000", envPhone)
	}
	if g := got.Form.Get("AccountSid"); g != "AC0123456789abcdef0123456789abcdef" {
		t.Errorf("AccountSid %q, want the one from %s", g, envAccount)
	}
}

func TestSMSSignURL(t *testing.T) {
	clearEnv(t)
	const public = "https://hotline.example.az/twilio/sms"
	srv := mustStartFakeHotline(t, public)

	code, stdout, _ := runSim(t, "sms", "--url", srv.URL+"/twilio/sms", "--sign-url", public,
		"--token", testToken, "--from", "+994501234567", "hi")
	if code != exitOK || !srv.received()[0].SigValid {
		t.Fatalf("signed for the public URL: exit %d, stdout %q; want 0 and a valid signature", code, stdout)
	}

	// Signed for the URL it was sent to, which is not the one the server
	// validates against: the server answers 403, the command prints it and
	// exits 1.
	code, stdout, _ = runSim(t, "sms", "--url", srv.URL+"/twilio/sms",
		"--token", testToken, "--from", "+994501234567", "hi")
	if code != exitFail {
		t.Errorf("exit %d after a 403, want %d", code, exitFail)
	}
	if !strings.HasPrefix(stdout, "HTTP 403 Forbidden\n") || !strings.Contains(stdout, "invalid signature") {
		t.Errorf("stdout %q, want the 403 status line and body", stdout)
	}
}

func TestSMSReplaysGivenSid(t *testing.T) {
	clearEnv(t)
	srv := mustStartFakeHotline(t, "")
	const sid = "SM0123456789abcdef0123456789abcdef"
	for range 2 {
		if code, _, stderr := runSim(t, "sms", "--url", srv.URL+"/twilio/sms", "--token", testToken,
			"--from", "+994501234567", "--sid", sid, "same"); code != exitOK {
			t.Fatalf("exit %d; stderr:\n%s", code, stderr)
		}
	}
	for i, r := range srv.received() {
		for _, k := range []string{"MessageSid", "SmsSid", "SmsMessageSid"} {
			if g := r.Form.Get(k); g != sid {
				t.Errorf("request %d: %s %q, want %s", i, k, g, sid)
			}
		}
	}
}

func TestSMSFreshSidEachRun(t *testing.T) {
	clearEnv(t)
	srv := mustStartFakeHotline(t, "")
	for range 2 {
		runSim(t, "sms", "--url", srv.URL+"/twilio/sms", "--token", testToken, "--from", "+994501234567", "x")
	}
	got := srv.received()
	if len(got) != 2 || got[0].Form.Get("MessageSid") == got[1].Form.Get("MessageSid") {
		t.Fatalf("two runs sent MessageSids %q and %q, want two different ones",
			got[0].Form.Get("MessageSid"), got[1].Form.Get("MessageSid"))
	}
}

func TestSMSBodyFromStdin(t *testing.T) {
	clearEnv(t)
	srv := mustStartFakeHotline(t, "")
	var out, errOut bytes.Buffer
	s := &sim{
		stdin:  strings.NewReader("Помогите,\nу меня забрали паспорт\n"),
		stdout: &out, stderr: &errOut,
		getenv: func(string) string { return "" },
		client: &http.Client{Timeout: 10 * time.Second},
	}
	if code := s.run([]string{"sms", "--url", srv.URL + "/twilio/sms", "--token", testToken, "--from", "+79991234567", "-"}); code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut.String())
	}
	got := srv.only(t)
	if want := "Помогите,\nу меня забрали паспорт"; got.Form.Get("Body") != want {
		t.Errorf("Body %q, want %q", got.Form.Get("Body"), want)
	}
	if !got.SigValid {
		t.Error("signature rejected")
	}
}

func TestStatusCallback(t *testing.T) {
	clearEnv(t)
	srv := mustStartFakeHotline(t, "")
	const sid = "SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	code, stdout, stderr := runSim(t, "status", "--url", srv.URL+"/twilio/status", "--token", testToken,
		"--sid", sid, "--status", "undelivered", "--error-code", "30003")
	if code != exitOK {
		t.Fatalf("exit %d; stdout %q stderr:\n%s", code, stdout, stderr)
	}
	got := srv.only(t)
	if !got.SigValid {
		t.Error("signature rejected")
	}
	want := map[string]string{
		"MessageSid": sid, "SmsSid": sid, "MessageStatus": "undelivered", "SmsStatus": "undelivered",
		"ErrorCode": "30003", "From": defaultTo, "To": defaultReporter, "AccountSid": defaultAccount, "ApiVersion": "2010-04-01",
	}
	for k, v := range want {
		if g := got.Form.Get(k); g != v {
			t.Errorf("%s = %q, want %q", k, g, v)
		}
	}
	if len(got.Form) != len(want) {
		t.Errorf("form has %d fields, want %d: %v", len(got.Form), len(want), got.Form)
	}
}

func TestRawSendsFormAsGiven(t *testing.T) {
	clearEnv(t)
	srv := mustStartFakeHotline(t, "")
	const form = "Body=hello+there&From=%2B994501234567&To=%2B15017122661"
	code, _, stderr := runSim(t, "raw", "--url", srv.URL+"/twilio/sms", "--token", testToken, "--form", form)
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	got := srv.only(t)
	if got.Body != form {
		t.Errorf("body %q, want it as given: %q", got.Body, form)
	}
	if !got.SigValid {
		t.Error("signature rejected")
	}
	if g := got.Form.Get("From"); g != "+994501234567" {
		t.Errorf("From %q, want +994501234567", g)
	}
}

func TestRawUnsigned(t *testing.T) {
	clearEnv(t)
	srv := mustStartFakeHotline(t, "")
	code, stdout, _ := runSim(t, "raw", "--url", srv.URL+"/twilio/sms", "--form", "Body=x", "--unsigned")
	if code != exitFail || !strings.HasPrefix(stdout, "HTTP 403") {
		t.Errorf("exit %d, stdout %q; want 1 and the 403", code, stdout)
	}
	if got := srv.only(t); got.HasSig {
		t.Error("--unsigned sent an X-Twilio-Signature header")
	}
}

// TestSMSTextAfterDoubleDashMayLookLikeAFlag: after "--" the words are the
// text, even one that looks like a flag; without it a flag after the text
// is refused (TestFlagErrorsNameTheFlag).
func TestSMSTextAfterDoubleDashMayLookLikeAFlag(t *testing.T) {
	clearEnv(t)
	srv := mustStartFakeHotline(t, "")
	code, _, stderr := runSim(t, "sms", "--url", srv.URL+"/twilio/sms", "--token", testToken, "--from", "+994501234567", "--", "8a", "--sid", "x")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if got := srv.only(t).Form.Get("Body"); got != "8a --sid x" {
		t.Fatalf("Body %q, want the words after --", got)
	}
}

func TestFlagErrorsNameTheFlag(t *testing.T) {
	clearEnv(t)
	srv := mustStartFakeHotline(t, "")
	u := srv.URL + "/twilio/sms"
	tests := []struct {
		name string
		args []string
		want []string // all must appear in stderr
	}{
		{"no url", []string{"sms", "--token", "t", "--from", "+994501234567", "x"}, []string{"--url", "required"}},
		{"bad url", []string{"sms", "--url", "127.0.0.1:8080", "--token", "t", "--from", "+994501234567", "x"}, []string{"--url"}},
		{"bad sign url", []string{"sms", "--url", u, "--sign-url", "/twilio/sms", "--token", "t", "--from", "+994501234567", "x"}, []string{"--sign-url"}},
		{"no token", []string{"sms", "--url", u, "--from", "+994501234567", "x"}, []string{"--token", envToken}},
		{"no from", []string{"sms", "--url", u, "--token", "t", "x"}, []string{"--from", "required"}},
		{"from not E.164", []string{"sms", "--url", u, "--token", "t", "--from", "0501234567", "x"}, []string{"--from", "E.164"}},
		{"to not E.164", []string{"sms", "--url", u, "--token", "t", "--from", "+994501234567", "--to", "12", "x"}, []string{"--to"}},
		{"bad sid", []string{"sms", "--url", u, "--token", "t", "--from", "+994501234567", "--sid", "SM12", "x"}, []string{"--sid"}},
		{"bad account", []string{"sms", "--url", u, "--token", "t", "--from", "+994501234567", "--account", "AC1", "x"}, []string{"--account"}},
		{"no text", []string{"sms", "--url", u, "--token", "t", "--from", "+994501234567"}, []string{"text", "-"}},
		{"unknown flag", []string{"sms", "--bogus", "1"}, []string{"-bogus"}},
		{"flag without value", []string{"sms", "--url"}, []string{"-url"}},
		{"status no sid", []string{"status", "--url", u, "--token", "t", "--status", "sent"}, []string{"--sid", "required"}},
		{"status no status", []string{"status", "--url", u, "--token", "t", "--sid", "SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}, []string{"--status", "required"}},
		{"status unknown", []string{"status", "--url", u, "--token", "t", "--sid", "SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "--status", "lost"}, []string{"--status", "lost"}},
		{"status error code", []string{"status", "--url", u, "--token", "t", "--sid", "SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "--status", "failed", "--error-code", "x"}, []string{"--error-code"}},
		{"raw no form", []string{"raw", "--url", u, "--token", "t"}, []string{"--form", "required"}},
		{"raw bad form", []string{"raw", "--url", u, "--token", "t", "--form", "a=%zz"}, []string{"--form"}},
		{"unknown command", []string{"nope"}, []string{"nope", "sms"}},
		{"flag after text", []string{"sms", "--url", u, "--token", "t", "--from", "+994501234567", "8a", "--sid", "SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}, []string{"--sid after the message text", "before the text"}},
		{"flag= after text", []string{"sms", "--url", u, "--token", "t", "--from", "+994501234567", "8a", "--to=+994125550000"}, []string{"--to after the message text"}},
		{"recording no call", []string{"recording", "--url", u, "--token", "t"}, []string{"--call", "required"}},
		{"recording bad sid", []string{"recording", "--url", u, "--token", "t", "--call", "CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "--sid", "RE1"}, []string{"--sid", "RecordingSid"}},
		{"recording negative duration", []string{"recording", "--url", u, "--token", "t", "--call", "CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "--duration", "-3"}, []string{"--duration"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runSim(t, tt.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not contain %q:\n%s", w, stderr)
				}
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
		})
	}
	if n := len(srv.received()); n != 0 {
		t.Errorf("bad command lines sent %d requests, want 0", n)
	}
}

func TestEnvErrorsNameTheVariable(t *testing.T) {
	clearEnv(t)
	t.Setenv(envPhone, "not-a-number")
	code, _, stderr := runSim(t, "sms", "--url", "http://127.0.0.1:1/", "--token", "t", "--from", "+994501234567", "x")
	if code != exitUsage || !strings.Contains(stderr, envPhone) || !strings.Contains(stderr, "--to") {
		t.Errorf("exit %d, stderr %q; want %d naming %s and --to", code, stderr, exitUsage, envPhone)
	}
}

func TestUnreachableServerExits1(t *testing.T) {
	clearEnv(t)
	srv := mustStartFakeHotline(t, "")
	u := srv.URL
	srv.Close()
	code, _, stderr := runSim(t, "sms", "--url", u, "--token", "t", "--from", "+994501234567", "x")
	if code != exitFail || !strings.Contains(stderr, "POST") {
		t.Errorf("exit %d, stderr %q; want %d and the failed POST", code, stderr, exitFail)
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"sms", "-h"}, {"status", "--help"}, {"raw", "-h"}} {
		code, stdout, stderr := runSim(t, args...)
		if code != exitOK {
			t.Errorf("%v: exit %d, want 0", args, code)
		}
		if help := stdout + stderr; !strings.Contains(help, "Examples:") || !strings.Contains(help, "-url") {
			t.Errorf("%v: help without examples or flags:\n%s", args, help)
		}
	}
}

func TestNumSegments(t *testing.T) {
	tests := []struct {
		body string
		want int
	}{
		{"", 1},
		{"Hello there", 1},
		{strings.Repeat("a", 160), 1},
		{strings.Repeat("a", 161), 2},
		{strings.Repeat("a", 306), 2},
		{strings.Repeat("a", 307), 3},
		{strings.Repeat("€", 80), 1},  // extension characters take two septets
		{strings.Repeat("€", 81), 2},  //
		{strings.Repeat("ə", 70), 1},  // Azerbaijani schwa is not GSM-7
		{strings.Repeat("ə", 71), 2},  //
		{strings.Repeat("я", 134), 2}, // Cyrillic: 67 per part
		{strings.Repeat("я", 135), 3}, //
		{"Salam " + strings.Repeat("🙏", 35), 2},
	}
	for _, tt := range tests {
		if got := numSegments(tt.body); got != tt.want {
			t.Errorf("numSegments(%d runes starting %q) = %d, want %d", len([]rune(tt.body)), string([]rune(tt.body)[:min(3, len([]rune(tt.body)))]), got, tt.want)
		}
	}
}
