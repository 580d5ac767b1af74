package main

import (
	"context"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"
	"github.com/rs/zerolog/hlog"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/config"
	"github.com/hotline-az/hotline/crypto"
	"github.com/hotline-az/hotline/dispatch"
	"github.com/hotline-az/hotline/intake"
	"github.com/hotline-az/hotline/store"
)

func TestCallAndDigitsAreSignedAsTwilioSignsThem(t *testing.T) {
	clearEnv(t)
	srv := mustStartFakeHotline(t, "")
	code, _, stderr := runSim(t, "call", "--url", srv.URL+"/twilio/voice", "--token", testToken, "--from", "+994501234567")
	if code != exitOK {
		t.Fatalf("call: exit %d, stderr %q", code, stderr)
	}
	got := srv.only(t)
	sid := got.Form.Get("CallSid")
	if !got.SigValid || !callSIDPattern.MatchString(sid) || got.Form.Get("To") != defaultTo || got.Form.Get("From") != "+994501234567" ||
		got.Form.Get("CallStatus") != "ringing" || got.Form.Get("AccountSid") != defaultAccount || !strings.Contains(stderr, sid) {
		t.Fatalf("call sent %v (signature valid: %v), stderr %q", got.Form, got.SigValid, stderr)
	}
	// A URL with a query (a <Gather action>) is signed with it.
	code, _, stderr = runSim(t, "digits", "--url", srv.URL+"/twilio/voice/menu?step=menu&x=1", "--token", testToken, "--sid", sid, "9")
	if code != exitOK {
		t.Fatalf("digits: exit %d, stderr %q", code, stderr)
	}
	d := srv.received()[1]
	if !d.SigValid || d.Form.Get("Digits") != "9" || d.Form.Get("CallSid") != sid || d.Form.Get("To") != defaultTo {
		t.Fatalf("digits sent %v (signature valid: %v)", d.Form, d.SigValid)
	}
	// The officer's leg comes from the hotline number; no keys, no Digits.
	runSim(t, "digits", "--leg", "officer", "--url", srv.URL+"/twilio/voice/whisper?call=ab&attempt=0", "--token", testToken, "--sid", sid)
	o := srv.received()[2]
	if !o.SigValid || o.Form.Get("From") != defaultTo || o.Form.Has("Digits") || o.Form.Get("Direction") != "outbound-dial" {
		t.Fatalf("officer leg sent %v", o.Form)
	}
}

func TestVoiceUsageErrors(t *testing.T) {
	clearEnv(t)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"digits", "--url", "http://127.0.0.1:1/x", "--token", "t", "1"}, "--sid"},
		{[]string{"digits", "--url", "http://127.0.0.1:1/x", "--token", "t", "--sid", "CA0123456789abcdef0123456789abcdef", "1a"}, "KEYS"},
		{[]string{"digits", "--url", "http://127.0.0.1:1/x", "--token", "t", "--sid", "CA0123456789abcdef0123456789abcdef", "--leg", "both"}, "--leg"},
		{[]string{"digits", "--url", "http://127.0.0.1:1/x", "--token", "t", "--sid", "CA0123456789abcdef0123456789abcdef", "--dial-status", "maybe"}, "--dial-status"},
		{[]string{"call", "--url", "http://127.0.0.1:1/x", "--token", "t", "--from", "+994501234567", "--status", "exploded"}, "--status"},
		{[]string{"call", "--url", "http://127.0.0.1:1/x", "--token", "t", "--from", "+994501234567", "--sid", "CA1"}, "--sid"},
		{[]string{"call", "--url", "http://127.0.0.1:1/x", "--token", "t"}, "--from"},
	} {
		code, _, stderr := runSim(t, tt.args...)
		if code != exitUsage || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 naming %s", tt.args, code, stderr, tt.want)
		}
	}
}

type oneOfficer struct{}

func (oneOfficer) AcceptedVoiceCall(context.Context, string, string) (bool, error) { return false, nil }

func (oneOfficer) VoiceTargets() ([]dispatch.VoiceTarget, error) {
	return []dispatch.VoiceTarget{{OfficerID: "o1", Role: "on duty", Phone: "+994500000001"}}, nil
}

var (
	gatherAction = regexp.MustCompile(`<Gather action="([^"]+)"`)
	numberURL    = regexp.MustCompile(`<Number method="POST" url="([^"]+)"`)
)

// TestWalkThroughAgainstTheVoiceLine is the README's walk-through on the
// real voice handlers of a --dev hotline: a caller rings, chooses
// English, presses 9; the officer's leg hears the whisper and presses 1;
// the case is P1 and says who took the call.
func TestWalkThroughAgainstTheVoiceLine(t *testing.T) {
	clearEnv(t)
	key, err := crypto.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(t.TempDir(), store.MasterKeySource{Key: &key}, store.Options{Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg := config.Default()
	cfg.Dev = true
	srv := httptest.NewUnstartedServer(nil)
	public := "http://" + srv.Listener.Addr().String()
	v, err := intake.NewVerifier(intake.VerifierConfig{PublicURL: public, AuthTokens: []string{testToken}, AccountSID: cfg.WebhookAccountSID(), Numbers: cfg.WebhookNumbers()})
	if err != nil {
		t.Fatal(err)
	}
	prompts, err := intake.NewPrompts()
	if err != nil {
		t.Fatal(err)
	}
	voice, err := intake.NewVoiceHandlers(intake.VoiceConfig{Verifier: v, Store: st, Voice: cfg.Voice, Officers: oneOfficer{}, Prompts: prompts})
	if err != nil {
		t.Fatal(err)
	}
	r := mux.NewRouter()
	r.HandleFunc("/twilio/voice", voice.Incoming)
	r.HandleFunc("/twilio/voice/menu", voice.Menu)
	r.HandleFunc("/twilio/voice/whisper", voice.Whisper)
	r.HandleFunc("/twilio/voice/dial", voice.Dial)
	srv.Config.Handler = hlog.NewHandler(zerolog.Nop())(r)
	srv.Start()
	defer srv.Close()

	step := func(args ...string) string {
		t.Helper()
		code, stdout, stderr := runSim(t, append([]string{args[0], "--token", testToken}, args[1:]...)...)
		if code != exitOK {
			t.Fatalf("%v: exit %d\n%s%s", args, code, stdout, stderr)
		}
		return strings.ReplaceAll(stdout, "&amp;", "&")
	}
	const sid = "CA5e3c0b7a2d9f41e6b8c7a1d2e3f4a5b6"
	out := step("call", "--url", public+"/twilio/voice", "--from", "+994501234567", "--sid", sid)
	out = step("digits", "--url", gatherAction.FindStringSubmatch(out)[1], "--sid", sid, "3")
	out = step("digits", "--url", gatherAction.FindStringSubmatch(out)[1], "--sid", sid, "9")
	m := numberURL.FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, `callerId="+15017122661"`) {
		t.Fatalf("after 9: %s", out)
	}
	step("digits", "--leg", "officer", "--url", m[1], "--sid", "CA0fe1d2c3b4a59687f0e1d2c3b4a59687", "1")
	c, err := st.CaseForCall(sid)
	if err != nil {
		t.Fatal(err)
	}
	kase, err := st.CaseByCode(c.CaseCode)
	if err != nil || kase.Priority != hotline.P1 || c.Attempts[0].Outcome != "accepted" {
		t.Fatalf("case %+v call %+v (%v)", kase, c, err)
	}
}
