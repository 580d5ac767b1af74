package dispatch_test

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"
	"github.com/rs/zerolog/hlog"
	bolt "go.etcd.io/bbolt"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/config"
	"github.com/hotline-az/hotline/dispatch"
	"github.com/hotline-az/hotline/dispatch/twilioapi"
	"github.com/hotline-az/hotline/intake"
	"github.com/hotline-az/hotline/internal/leaktest"
	"github.com/hotline-az/hotline/store"
	"github.com/hotline-az/hotline/triage"
)

// restart closes the store (the webhooks with it), lets edit change the
// file with bbolt directly, as a fault or a person with the file would,
// then opens it again and wires a new dispatcher and SMS webhook to it
// (on 127.0.0.1, as newHarness does).
func (h *harness) restart(edit func(tx *bolt.Tx) error) {
	h.t.Helper()
	h.srv.Close()
	if err := h.st.Close(); err != nil {
		h.t.Fatal(err)
	}
	if edit != nil {
		db, err := bolt.Open(filepath.Join(h.dir, store.FileName), 0o600, nil)
		if err != nil {
			h.t.Fatal(err)
		}
		err = db.Update(edit)
		db.Close()
		if err != nil {
			h.t.Fatalf("edit the data file: %v", err)
		}
	}
	log := zerolog.New(h.logs)
	st, err := store.Open(h.dir, store.MasterKeySource{Key: &h.key}, store.Options{Now: h.clock.Now, Logger: log})
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { st.Close() })
	client, err := twilioapi.New(twilioapi.Config{AccountSID: h.twilio.AccountSID(), AuthToken: h.twilio.AuthToken(), From: hotlineFrom, APIURL: h.twilio.URL()})
	if err != nil {
		h.t.Fatal(err)
	}
	disp, err := dispatch.New(dispatch.Config{Store: st, Sender: client, Escalation: h.esc, PublicURL: publicURL, Logger: log, SendTimeout: 2 * time.Second})
	if err != nil {
		h.t.Fatal(err)
	}
	verifier, err := intake.NewVerifier(intake.VerifierConfig{
		PublicURL: publicURL, AuthTokens: []string{webhookToken},
		AccountSID: h.twilio.AccountSID(), Numbers: []string{hotlineFrom},
	})
	if err != nil {
		h.t.Fatal(err)
	}
	sms := intake.NewSMSHandler(intake.SMSConfig{
		Verifier: verifier, Store: st, Triager: triage.Default(),
		Officers: disp, OnInbound: disp.OnInbound, AfterStore: disp.Wake,
	})
	r := mux.NewRouter()
	r.Handle("/twilio/sms", sms)
	h.st, h.disp = st, disp
	h.srv = httptest.NewServer(hlog.NewHandler(log)(r))
	h.t.Cleanup(h.srv.Close)
}

func (h *harness) pending(caseID string) (store.PendingAlert, bool) {
	h.t.Helper()
	var p store.PendingAlert
	var ok bool
	if err := h.st.View(func(tx *store.Tx) error {
		var err error
		p, ok, err = tx.AlertPending(caseID)
		return err
	}); err != nil {
		h.t.Fatal(err)
	}
	return p, ok
}

// An alert path that fails (a rota that does not load, an officer record
// that does not open) costs the tip nothing: through the real webhook the
// tip is answered 200 and stored, the failure is logged and marked in the
// file, and once the fault is cleared the worker opens the alert and it
// is sent, even across a restart.
func TestAlertThatFailsToOpenIsRetriedUntilSent(t *testing.T) {
	var goodRota dispatch.Rota
	var leylaRecord []byte
	tests := []struct {
		label string
		tune  func(*config.Escalation)
		// breakIt and fix cause and clear the fault; wantErr is in the log.
		breakIt, fix func(h *harness)
		wantErr      string
	}{
		{"rota does not load", nil,
			func(h *harness) {
				err := h.st.Update(context.Background(), func(tx *store.Tx) error {
					var err error
					if goodRota, err = dispatch.LoadRota(tx); err != nil {
						return err
					}
					return tx.PutSetting("rota", []byte(`{"time_zone":"Asia/Baku","shifts":[`))
				})
				if err != nil {
					h.t.Fatal(err)
				}
			},
			func(h *harness) {
				if err := h.st.Update(context.Background(), func(tx *store.Tx) error { return dispatch.SaveRota(tx, goodRota) }); err != nil {
					h.t.Fatal(err)
				}
			},
			"stored rota"},
		{"officer record does not open",
			func(e *config.Escalation) { e.P1.Steps[0].Target = "officer:Leyla Aliyeva" },
			func(h *harness) {
				id := []byte(h.officers[leylaPhone].ID)
				h.restart(func(tx *bolt.Tx) error {
					b := tx.Bucket([]byte("officers"))
					leylaRecord = append([]byte(nil), b.Get(id)...)
					i := bytes.Index(leylaRecord, []byte(`"sealed":"`)) + len(`"sealed":"`) + 60
					damaged := append([]byte(nil), leylaRecord...)
					damaged[i] ^= 'A' ^ 'B' // one base64 letter of the sealed name and number
					return b.Put(id, damaged)
				})
			},
			func(h *harness) {
				id := []byte(h.officers[leylaPhone].ID)
				h.restart(func(tx *bolt.Tx) error { return tx.Bucket([]byte("officers")).Put(id, leylaRecord) })
			},
			"officers record"},
	}
	for _, tc := range tests {
		t.Run(tc.label, func(t *testing.T) {
			h := newHarness(t, tc.tune)
			tc.breakIt(h)
			reply := h.sms(reporter, p1Tip) // fails the test unless 200
			if !strings.Contains(reply, "Müraciət nömrəsi") {
				t.Fatalf("reporter reply: %q", reply)
			}
			st, err := h.st.Stats()
			if err != nil || st.Messages != 1 || st.AlertsPending != 1 || len(h.alerts()) != 0 {
				t.Fatalf("after the tip: %+v %v, %d alerts; want the tip stored, its alert pending, no alert", st, err, len(h.alerts()))
			}
			cases, _ := h.st.ListCases()
			caseID := cases[0].ID
			if logs := h.logs.String(); !strings.Contains(logs, "could not open the alert") || !strings.Contains(logs, tc.wantErr) {
				t.Fatalf("log does not say the alert failed (%q): %s", tc.wantErr, logs)
			}
			if got := h.st.AlertFailures(); got != 1 {
				t.Fatalf("alert failures counted: %d, want 1", got)
			}

			// The worker retries while the fault lasts, with backoff.
			h.runDue()
			p, ok := h.pending(caseID)
			if !ok || p.Tries != 1 || !p.NextTryAt.After(h.clock.Now()) || !strings.Contains(p.LastError, tc.wantErr) {
				t.Fatalf("after a failed retry: %+v %v", p, ok)
			}
			h.wantSent("while broken", map[string]int{}, map[string]int{})
			h.clock.Add(time.Minute)
			h.runDue()
			if p, _ := h.pending(caseID); p.Tries != 2 {
				t.Fatalf("second retry: tries %d, want 2", p.Tries)
			}

			// The mark is in the file: a restart keeps it.
			h.restart(nil)
			tc.fix(h)
			h.clock.Add(time.Minute)
			h.runDue()
			if _, ok := h.pending(caseID); ok {
				t.Fatal("the mark is still there after the alert opened")
			}
			alerts := h.alerts()
			if len(alerts) != 1 || alerts[0].CaseID != caseID || alerts[0].Priority != hotline.P1 || alerts[0].State != hotline.AlertOpen || alerts[0].Raised {
				t.Fatalf("alerts after the fix: %+v", alerts)
			}
			h.runDue()
			h.wantSent("after the fix", map[string]int{leylaPhone: 1}, map[string]int{leylaPhone: 1})
			if st, _ := h.st.Stats(); st.AlertsPending != 0 {
				t.Fatalf("pending alerts after the fix: %d", st.AlertsPending)
			}
			needles := append(leaktest.PhoneForms(reporter), leaktest.PhoneForms(leylaPhone)...)
			leaktest.Check(t, "log", h.logs.String(), append(needles, leaktest.Runs(p1Tip, 8)...)...)
		})
	}
}

// A later tip whose alert opens clears the earlier mark: the worker does
// not open a second alert for the same case.
func TestLaterAlertClearsPendingMark(t *testing.T) {
	h := newHarness(t, nil)
	var rota dispatch.Rota
	h.st.Update(context.Background(), func(tx *store.Tx) error {
		rota, _ = dispatch.LoadRota(tx)
		return tx.PutSetting("rota", []byte("not json"))
	})
	h.sms(reporter, "Müdir pasportumu saxlayıb") // P2, alert fails
	h.st.Update(context.Background(), func(tx *store.Tx) error { return dispatch.SaveRota(tx, rota) })
	h.sms(reporter, p1Tip) // P1: raises the case, its alert opens in the tip's transaction
	alerts := h.alerts()
	if len(alerts) != 1 || alerts[0].Priority != hotline.P1 {
		t.Fatalf("alerts: %+v", alerts)
	}
	if _, ok := h.pending(alerts[0].CaseID); ok {
		t.Fatal("the P2 tip's mark survived the P1 alert")
	}
	h.clock.Add(time.Minute)
	h.runDue()
	if n := len(h.alerts()); n != 1 {
		t.Fatalf("got %d alerts, want the one P1 alert", n)
	}
}

// An alert record changed outside hotline stops only itself: the worker
// reports it and still sends the other alert.
func TestTamperedAlertDoesNotHoldUpOthers(t *testing.T) {
	h := newHarness(t, nil)
	h.sms(reporter, p1Tip)
	h.sms("+994557654322", "Помогите, нас держат на складе и не отпускают")
	var first hotline.Alert
	for _, a := range h.alerts() {
		if a.Number == 1 {
			first = a
		}
	}
	h.restart(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("alerts"))
		v := b.Get([]byte(first.ID))
		return b.Put([]byte(first.ID), bytes.Replace(v, []byte(`"state":"open"`), []byte(`"state":"acknowledged"`), 1))
	})
	h.runDue() // the tampered alert's jobs fail (logged); the other's are sent
	h.wantSent("the other alert", map[string]int{leylaPhone: 1}, map[string]int{leylaPhone: 1})
	if logs := h.logs.String(); !strings.Contains(logs, "outbox job") || !strings.Contains(logs, "does not match its integrity tag") {
		t.Fatalf("the tampered alert's jobs were not reported: %s", logs)
	}
	h.clock.Add(5 * time.Minute)
	err := h.disp.RunDue(context.Background())
	if !errors.Is(err, store.ErrTampered) || !strings.Contains(err.Error(), first.ID) {
		t.Fatalf("RunDue: got %v, want the tampered alert named", err)
	}
	h.wantSent("the other alert escalated", map[string]int{leylaPhone: 1, rashadPhone: 1}, map[string]int{leylaPhone: 1, rashadPhone: 1})
}
