package intake_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"
	"github.com/rs/zerolog/hlog"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/dispatch"
	"github.com/hotline-az/hotline/intake"
	"github.com/hotline-az/hotline/internal/leaktest"
	"github.com/hotline-az/hotline/twiliotest"
)

// recordingAlerts stands in for dispatch and records what reached it, so
// a test can tell a refused callback (nothing reached it) from an accepted
// one. dispatch's own tests run these handlers against the real thing.
type recordingAlerts struct {
	mu    sync.Mutex
	calls []string
}

func (a *recordingAlerts) record(s string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, s)
}

func (a *recordingAlerts) Status(_ context.Context, jobID, sid, status string, code int) error {
	a.record("status " + jobID + " " + sid + " " + status)
	return nil
}

func (a *recordingAlerts) CallPrompt(jobID string) (dispatch.CallPrompt, error) {
	a.record("prompt " + jobID)
	return dispatch.CallPrompt{AlertNumber: 1, CaseCode: "K7QA3M", Priority: hotline.P1, Open: true}, nil
}

func (a *recordingAlerts) AcknowledgeByCall(_ context.Context, jobID string) (dispatch.AckResult, error) {
	a.record("ack " + jobID)
	return dispatch.AckResult{Alert: hotline.Alert{Number: 1, CaseCode: "K7QA3M"}, Changed: true}, nil
}

// TestAlertCallbacksCheckAccountAndSIDs: status callbacks and the alert
// call's requests must carry the configured account and Twilio-shaped
// SIDs; anything else is refused before dispatch sees it.
func TestAlertCallbacksCheckAccountAndSIDs(t *testing.T) {
	with := func(t *testing.T, name string, change func(url.Values)) url.Values {
		f := fixture(t, name)
		change(f)
		return f
	}
	keep := func(url.Values) {}
	tests := []struct {
		label, path string
		form        func(t *testing.T) url.Values
		wantStatus  int
		wantReason  string
	}{
		{"message delivered", "/twilio/status", func(t *testing.T) url.Values { return with(t, "message_status_delivered", keep) }, 204, ""},
		{"message undelivered", "/twilio/status", func(t *testing.T) url.Values { return with(t, "message_status_undelivered", keep) }, 204, ""},
		{"call completed", "/twilio/status", func(t *testing.T) url.Values { return with(t, "call_status_completed", keep) }, 204, ""},
		{"alert call", "/twilio/alert-call", func(t *testing.T) url.Values { return with(t, "alert_call", keep) }, 200, ""},
		{"alert call key 1", "/twilio/alert-call", func(t *testing.T) url.Values { return with(t, "alert_call_digits", keep) }, 200, ""},
		{"status of another account", "/twilio/status", func(t *testing.T) url.Values {
			return with(t, "message_status_delivered", func(f url.Values) { f.Set("AccountSid", "AC"+strings.Repeat("b", 32)) })
		}, 403, intake.ReasonWrongAccount},
		{"status without account", "/twilio/status", func(t *testing.T) url.Values {
			return with(t, "call_status_completed", func(f url.Values) { f.Del("AccountSid") })
		}, 403, intake.ReasonWrongAccount},
		{"status with a short MessageSid", "/twilio/status", func(t *testing.T) url.Values {
			return with(t, "message_status_delivered", func(f url.Values) { f.Set("MessageSid", "SM1") })
		}, 400, intake.ReasonBadSID},
		{"message status with a CallSid only", "/twilio/status", func(t *testing.T) url.Values {
			return with(t, "message_status_delivered", func(f url.Values) { f.Del("MessageSid"); f.Set("CallSid", twiliotest.NewSID("CA")) })
		}, 400, intake.ReasonBadField},
		{"call status with a message SID as CallSid", "/twilio/status", func(t *testing.T) url.Values {
			return with(t, "call_status_completed", func(f url.Values) { f.Set("CallSid", twiliotest.NewSID("SM")) })
		}, 400, intake.ReasonBadSID},
		{"unknown status", "/twilio/status", func(t *testing.T) url.Values {
			return with(t, "message_status_delivered", func(f url.Values) { f.Set("MessageStatus", "exploded") })
		}, 400, intake.ReasonBadField},
		{"alert call of another account", "/twilio/alert-call", func(t *testing.T) url.Values {
			return with(t, "alert_call_digits", func(f url.Values) { f.Set("AccountSid", "AC"+strings.Repeat("b", 32)) })
		}, 403, intake.ReasonWrongAccount},
		{"alert call without CallSid", "/twilio/alert-call", func(t *testing.T) url.Values {
			return with(t, "alert_call_digits", func(f url.Values) { f.Del("CallSid") })
		}, 400, intake.ReasonBadField},
		{"alert call with a bad CallSid", "/twilio/alert-call", func(t *testing.T) url.Values {
			return with(t, "alert_call_digits", func(f url.Values) { f.Set("CallSid", "CA"+strings.Repeat("g", 32)) })
		}, 400, intake.ReasonBadSID},
	}
	for _, tc := range tests {
		t.Run(tc.label, func(t *testing.T) {
			logs := &leaktest.Buffer{}
			v := mustVerifier(t, nil)
			alerts := &recordingAlerts{}
			h := &intake.AlertHandlers{Verifier: v, Alerts: alerts}
			mux := http.NewServeMux()
			mux.HandleFunc("POST /twilio/status", h.Status)
			mux.HandleFunc("POST /twilio/alert-call", h.AlertCall)
			target := tc.path + "?job=01J9Z3"
			req, err := twiliotest.NewSignedRequest(token, "http://127.0.0.1"+target, publicURL+target, tc.form(t))
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			hlog.NewHandler(zerolog.New(logs))(mux).ServeHTTP(rec, req)
			if rec.Code != tc.wantStatus {
				t.Fatalf("got %d %q, want %d", rec.Code, rec.Body.String(), tc.wantStatus)
			}
			if tc.wantReason == "" {
				if len(alerts.calls) == 0 {
					t.Fatal("an accepted callback did not reach dispatch")
				}
				return
			}
			if len(alerts.calls) != 0 {
				t.Fatalf("a refused callback reached dispatch: %v", alerts.calls)
			}
			if got := rejected(t, v)[tc.wantReason]; got != 1 {
				t.Fatalf("rejected{reason=%q} = %v, want 1; log: %s", tc.wantReason, got, logs.String())
			}
		})
	}
}
