package main

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"github.com/rs/zerolog/hlog"

	"github.com/hotline-az/hotline/config"
	"github.com/hotline-az/hotline/crypto"
	"github.com/hotline-az/hotline/intake"
	"github.com/hotline-az/hotline/store"
	"github.com/hotline-az/hotline/triage"
)

// mustStartDevHotline runs the real SMS webhook configured as `hotline
// serve --dev` configures it without a Twilio account, checking
// signatures against publicURL (empty: its own address).
func mustStartDevHotline(tb testing.TB, publicURL string) (*httptest.Server, *store.Store) {
	tb.Helper()
	key, err := crypto.GenerateMasterKey()
	if err != nil {
		tb.Fatal(err)
	}
	st, err := store.Open(tb.TempDir(), store.MasterKeySource{Key: &key}, store.Options{Logger: zerolog.Nop()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	cfg := config.Default()
	cfg.Dev = true
	srv := httptest.NewUnstartedServer(nil)
	if publicURL == "" {
		publicURL = "http://" + srv.Listener.Addr().String()
	}
	v, err := intake.NewVerifier(intake.VerifierConfig{
		PublicURL: publicURL, AuthTokens: []string{testToken},
		AccountSID: cfg.WebhookAccountSID(), Numbers: cfg.WebhookNumbers(),
	})
	if err != nil {
		tb.Fatal(err)
	}
	sms := intake.NewSMSHandler(intake.SMSConfig{Verifier: v, Store: st, Triager: triage.Default()})
	srv.Config.Handler = hlog.NewHandler(zerolog.Nop())(sms)
	srv.Start()
	tb.Cleanup(srv.Close)
	return srv, st
}

// TestDefaultsAcceptedByDevHotline: what twilio-sim sends by default (its
// account, its To, a fresh MessageSid) is what a --dev hotline without a
// Twilio account accepts, and a different account or number is refused.
func TestDefaultsAcceptedByDevHotline(t *testing.T) {
	clearEnv(t)
	srv, st := mustStartDevHotline(t, "")
	u := srv.URL + "/twilio/sms"
	code, stdout, stderr := runSim(t, "sms", "--url", u, "--token", testToken, "--from", "+994501234567", "salam")
	if code != exitOK || !strings.HasPrefix(stdout, "HTTP 200 OK\n") {
		t.Fatalf("defaults: exit %d, stdout %q, stderr %q; want 200", code, stdout, stderr)
	}
	code, stdout, _ = runSim(t, "sms", "--url", u, "--token", testToken, "--from", "+994501234567",
		"--account", "AC0123456789abcdef0123456789abcdef", "salam")
	if code != exitFail || !strings.HasPrefix(stdout, "HTTP 403") {
		t.Errorf("another account: exit %d, stdout %q; want 403", code, stdout)
	}
	code, stdout, _ = runSim(t, "sms", "--url", u, "--token", testToken, "--from", "+994501234567", "--to", "+994125550000", "salam")
	if code != exitFail || !strings.HasPrefix(stdout, "HTTP 403") {
		t.Errorf("another number: exit %d, stdout %q; want 403", code, stdout)
	}
	if s, _ := st.Stats(); s.Messages != 1 {
		t.Fatalf("stored %d messages, want the one with the defaults", s.Messages)
	}
}

// TestSignURLForPublicURL: a hotline behind a proxy checks signatures
// against its public_url; --sign-url with that public_url (or the full
// webhook URL under it) gets through, signing for the posted URL does not.
func TestSignURLForPublicURL(t *testing.T) {
	clearEnv(t)
	const public = "https://hotline.example.az"
	srv, st := mustStartDevHotline(t, public)
	u := srv.URL + "/twilio/sms"
	for _, sign := range []string{public, public + "/twilio/sms"} {
		code, stdout, stderr := runSim(t, "sms", "--url", u, "--sign-url", sign, "--token", testToken, "--from", "+994501234567", "salam")
		if code != exitOK {
			t.Errorf("--sign-url %s: exit %d, stdout %q, stderr %q; want 200", sign, code, stdout, stderr)
		}
	}
	code, stdout, _ := runSim(t, "sms", "--url", u, "--token", testToken, "--from", "+994501234567", "salam")
	if code != exitFail || !strings.HasPrefix(stdout, "HTTP 403") {
		t.Errorf("without --sign-url: exit %d, stdout %q; want 403", code, stdout)
	}
	if s, _ := st.Stats(); s.Messages != 2 {
		t.Fatalf("stored %d messages, want 2", s.Messages)
	}
}
