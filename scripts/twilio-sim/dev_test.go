package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"github.com/rs/zerolog/hlog"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/config"
	"github.com/hotline-az/hotline/crypto"
	"github.com/hotline-az/hotline/dispatch"
	"github.com/hotline-az/hotline/intake"
	"github.com/hotline-az/hotline/internal/leaktest"
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

// devAlerts is the alert side of a --dev hotline without a Twilio account:
// the dispatcher printing to the dev outbox, the real SMS and status
// webhooks, a demo officer on duty all week with a demo supervisor as
// backup.
type devAlerts struct {
	srv    *httptest.Server
	st     *store.Store
	disp   *dispatch.Dispatcher
	outbox *leaktest.Buffer
}

const (
	devOfficer    = "+994500000001"
	devSupervisor = "+994500000002"
)

func mustStartDevAlerts(tb testing.TB) *devAlerts {
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
	publicURL := "http://" + srv.Listener.Addr().String()
	outbox := &leaktest.Buffer{}
	disp, err := dispatch.New(dispatch.Config{Store: st, Sender: dispatch.NewDevSink(outbox), Escalation: cfg.Escalation,
		PublicURL: publicURL, Logger: zerolog.Nop()})
	if err != nil {
		tb.Fatal(err)
	}
	err = st.Update(context.Background(), func(tx *store.Tx) error {
		o, err := tx.AddOfficer(hotline.Officer{Name: "Demo Officer", Phone: devOfficer, Role: hotline.RoleOfficer})
		if err != nil {
			return err
		}
		s, err := tx.AddOfficer(hotline.Officer{Name: "Demo Supervisor", Phone: devSupervisor, Role: hotline.RoleSupervisor})
		if err != nil {
			return err
		}
		rota := dispatch.Rota{TimeZone: "Asia/Baku"}
		for _, day := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
			rota.Shifts = append(rota.Shifts, dispatch.Shift{Day: day, Start: "00:00", End: "24:00", Officer: o.ID, Backup: s.ID, Supervisor: s.ID})
		}
		return dispatch.SaveRota(tx, rota)
	})
	if err != nil {
		tb.Fatal(err)
	}
	v, err := intake.NewVerifier(intake.VerifierConfig{
		PublicURL: publicURL, AuthTokens: []string{testToken},
		AccountSID: cfg.WebhookAccountSID(), Numbers: cfg.WebhookNumbers(),
	})
	if err != nil {
		tb.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/twilio/sms", intake.NewSMSHandler(intake.SMSConfig{Verifier: v, Store: st, Triager: triage.Default(), Officers: disp, OnInbound: disp.OnInbound}))
	alerts := &intake.AlertHandlers{Verifier: v, Alerts: disp}
	mux.HandleFunc("/twilio/status", alerts.Status)
	srv.Config.Handler = hlog.NewHandler(zerolog.Nop())(mux)
	srv.Start()
	tb.Cleanup(srv.Close)
	return &devAlerts{srv: srv, st: st, disp: disp, outbox: outbox}
}

// outboxEntry finds the sid and status callback the dev outbox printed
// for the first SMS or call (kind "SMS" or "call") to a number ending in
// the last two digits of to.
var outboxSIDLine = regexp.MustCompile(`^ +sid ((?:SM|CA)[0-9a-f]{32}), status callback (\S+)$`)

func (d *devAlerts) outboxEntry(t *testing.T, kind, to string) (sid, callback string) {
	t.Helper()
	lines := strings.Split(d.outbox.String(), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "DEV OUTBOX: "+kind+" to +994*******"+to[len(to)-2:]) && i+1 < len(lines) {
			if m := outboxSIDLine.FindStringSubmatch(lines[i+1]); m != nil {
				return m[1], m[2]
			}
		}
	}
	t.Fatalf("no %s to %s with a sid in the dev outbox:\n%s", kind, to, d.outbox.String())
	return "", ""
}

// TestStatusAgainstTheDevOutbox: the README's walk-through. A P1 tip
// pages the demo officer through the dev outbox; twilio-sim status with
// the sid and callback it printed reports the SMS undelivered and the
// call unanswered, and the alert moves on to the backup at once instead
// of after five minutes.
func TestStatusAgainstTheDevOutbox(t *testing.T) {
	clearEnv(t)
	d := mustStartDevAlerts(t)
	ctx := context.Background()
	if code, stdout, stderr := runSim(t, "sms", "--url", d.srv.URL+"/twilio/sms", "--token", testToken, "--from", "+994501234567", "Kömək edin, bizi zirzəmidə saxlayırlar"); code != exitOK {
		t.Fatalf("tip: exit %d %q %q", code, stdout, stderr)
	}
	if err := d.disp.RunDue(ctx); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(d.outbox.String(), "to +994*******02") {
		t.Fatalf("the backup was paged before any failure:\n%s", d.outbox.String())
	}
	sid, callback := d.outboxEntry(t, "SMS", devOfficer)
	// A call sid is not a message: its statuses are checked as a call's.
	if code, _, stderr := runSim(t, "status", "--url", callback, "--token", testToken, "--sid", sid, "--to", devOfficer, "--status", "no-answer"); code != exitUsage || !strings.Contains(stderr, "--status") {
		t.Fatalf("a call status for a message: exit %d, stderr %q; want 2 naming --status", code, stderr)
	}
	if code, stdout, stderr := runSim(t, "status", "--url", callback, "--token", testToken, "--sid", sid, "--to", devOfficer, "--status", "undelivered", "--error-code", "30003"); code != exitOK || !strings.HasPrefix(stdout, "HTTP 204") {
		t.Fatalf("SMS undelivered: exit %d, stdout %q, stderr %q; want 204", code, stdout, stderr)
	}
	callSID, callCallback := d.outboxEntry(t, "call", devOfficer)
	if code, stdout, stderr := runSim(t, "status", "--url", callCallback, "--token", testToken, "--sid", callSID, "--to", devOfficer, "--status", "no-answer"); code != exitOK || !strings.HasPrefix(stdout, "HTTP 204") {
		t.Fatalf("call unanswered: exit %d, stdout %q, stderr %q; want 204", code, stdout, stderr)
	}
	if err := d.disp.RunDue(ctx); err != nil {
		t.Fatal(err)
	}
	d.outboxEntry(t, "SMS", devSupervisor)
	d.outboxEntry(t, "call", devSupervisor)
	// Another message's sid on this job's callback is refused.
	if code, stdout, _ := runSim(t, "status", "--url", callback, "--token", testToken, "--sid", "SM0123456789abcdef0123456789abcdef", "--to", devOfficer, "--status", "delivered"); code != exitFail || !strings.HasPrefix(stdout, "HTTP 403") {
		t.Fatalf("another sid: exit %d, stdout %q; want 403", code, stdout)
	}
}

// TestRecordingQueuedByTheRealHandler: twilio-sim recording is accepted by
// the hotline's own recording callback handler (signature, SIDs, status),
// which queues the voicemail (here in a case of its own: no call is known);
// the same RecordingSid again is a duplicate, not a second case.
func TestRecordingQueuedByTheRealHandler(t *testing.T) {
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
	v, err := intake.NewVerifier(intake.VerifierConfig{
		PublicURL: "http://" + srv.Listener.Addr().String(), AuthTokens: []string{testToken},
		AccountSID: cfg.WebhookAccountSID(), Numbers: cfg.WebhookNumbers(),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = hlog.NewHandler(zerolog.Nop())(intake.NewRecordingHandler(intake.RecordingConfig{Verifier: v, Store: st}))
	srv.Start()
	defer srv.Close()
	args := []string{"recording", "--url", srv.URL + "/twilio/recording", "--token", testToken,
		"--call", "CA0123456789abcdef0123456789abcdef", "--sid", "RE0123456789abcdef0123456789abcdef", "--duration", "42"}
	for i := 0; i < 2; i++ {
		code, stdout, stderr := runSim(t, args...)
		if code != exitOK || !strings.HasPrefix(stdout, "HTTP 200 OK\n") || !strings.Contains(stderr, "RecordingSid RE0123456789abcdef0123456789abcdef") {
			t.Fatalf("send %d: exit %d, stdout %q, stderr %q; want 200", i+1, code, stdout, stderr)
		}
	}
	if s, _ := st.Stats(); s.Cases != 1 {
		t.Fatalf("%d cases, want the recording's one (the replay a duplicate)", s.Cases)
	}
	code, stdout, _ := runSim(t, append(args[:len(args)-4:len(args)-4], "--token", "wrong", "--call", "CA0123456789abcdef0123456789abcdef")...)
	if code != exitFail || !strings.HasPrefix(stdout, "HTTP 403") {
		t.Fatalf("wrong token: exit %d, stdout %q; want 403", code, stdout)
	}
}
