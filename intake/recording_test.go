package intake_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"github.com/rs/zerolog/hlog"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/intake"
	"github.com/hotline-az/hotline/internal/leaktest"
	"github.com/hotline-az/hotline/store"
	"github.com/hotline-az/hotline/triage"
	"github.com/hotline-az/hotline/twiliotest"
)

const recordingURL = publicURL + "/twilio/recording"

// callCases is the voice menu's call index as the handler sees it.
type callCases map[string]string

func (c callCases) CaseIDForCall(callSID string) (string, bool, error) {
	id, ok := c[callSID]
	return id, ok, nil
}

type recordingEnv struct {
	*env
	calls callCases
	woken int
}

func newRecordingEnv(tb testing.TB) *recordingEnv {
	tb.Helper()
	e := newEnv(tb)
	re := &recordingEnv{env: e, calls: callCases{}}
	h := intake.NewRecordingHandler(intake.RecordingConfig{
		Verifier: e.verifier, Store: e.store, Calls: re.calls, AfterStore: func() { re.woken++ },
	})
	e.handler = hlog.NewHandler(zerolog.New(e.logs))(h)
	return re
}

func (e *recordingEnv) jobs(tb testing.TB) []hotline.Job {
	tb.Helper()
	var jobs []hotline.Job
	if err := e.store.View(func(tx *store.Tx) error {
		var err error
		jobs, err = tx.Jobs("")
		return err
	}); err != nil {
		tb.Fatal(err)
	}
	return jobs
}

// signedRecording is a callback to /twilio/recording signed for signURL.
func signedRecording(tb testing.TB, tok, signURL string, form url.Values) *http.Request {
	tb.Helper()
	req, err := twiliotest.NewSignedRequest(tok, "http://127.0.0.1/twilio/recording", signURL, form)
	if err != nil {
		tb.Fatal(err)
	}
	return req
}

func recordingForm(tb testing.TB) url.Values {
	f := fixture(tb, "recording_status")
	f.Set("RecordingSid", twiliotest.NewSID("RE"))
	f.Set("CallSid", twiliotest.NewSID("CA"))
	return f
}

func TestRecordingCallback(t *testing.T) {
	change := func(key, value string) func(url.Values) {
		return func(f url.Values) {
			if value == "" {
				f.Del(key)
			} else {
				f.Set(key, value)
			}
		}
	}
	tests := []struct {
		label      string
		change     func(url.Values)
		signWith   string
		wantStatus int
		wantBody   string
		wantJobs   int
	}{
		{"completed recording", nil, token, 200, "", 1},
		{"fixture as Twilio sends it", func(f url.Values) {
			for k, v := range fixture(t, "recording_status") {
				f[k] = v
			}
		}, token, 200, "", 1},
		{"bad signature", nil, "nottoken999", 403, "invalid X-Twilio-Signature", 0},
		{"another account", change("AccountSid", "AC"+strings.Repeat("9", 32)), token, 403, "AccountSid", 0},
		{"missing RecordingSid", change("RecordingSid", ""), token, 400, "RecordingSid is required", 0},
		{"RecordingSid of a call", change("RecordingSid", twiliotest.NewSID("CA")), token, 400, "RecordingSid is not RE", 0},
		{"RecordingSid too short", change("RecordingSid", "RE123"), token, 400, "RecordingSid is not RE", 0},
		{"RecordingSid with a path", change("RecordingSid", "RE"+strings.Repeat("a", 30)+"/x"), token, 400, "RecordingSid is not RE", 0},
		{"missing CallSid", change("CallSid", ""), token, 400, "CallSid is required", 0},
		{"CallSid of a message", change("CallSid", twiliotest.NewSID("SM")), token, 400, "CallSid is not CA", 0},
		{"duration not a number", change("RecordingDuration", "ten"), token, 400, "RecordingDuration", 0},
		{"duration beyond four hours", change("RecordingDuration", "99999"), token, 400, "RecordingDuration", 0},
		{"absent recording has no audio", change("RecordingStatus", "absent"), token, 200, "", 0},
		{"unknown status", change("RecordingStatus", "exploded"), token, 400, "RecordingStatus", 0},
	}
	for _, tc := range tests {
		t.Run(tc.label, func(t *testing.T) {
			e := newRecordingEnv(t)
			f := recordingForm(t)
			if tc.change != nil {
				tc.change(f)
			}
			status, body := e.post(t, signedRecording(t, tc.signWith, recordingURL, f))
			if status != tc.wantStatus || !strings.Contains(body, tc.wantBody) {
				t.Fatalf("got %d %q, want %d containing %q", status, body, tc.wantStatus, tc.wantBody)
			}
			jobs := e.jobs(t)
			if len(jobs) != tc.wantJobs {
				t.Fatalf("jobs queued: got %d, want %d", len(jobs), tc.wantJobs)
			}
			for _, j := range jobs {
				if j.Kind != hotline.JobFetchRecording || j.State != hotline.JobPending || !j.HasSID {
					t.Errorf("job %+v, want a pending fetch_recording job with its SID", j)
				}
			}
			if tc.wantStatus != 200 && e.woken != 0 {
				t.Errorf("worker woken %d times for a refused callback", e.woken)
			}
			leaktest.Check(t, "log", e.logs.String(), f.Get("RecordingSid"), f.Get("CallSid"))
		})
	}
}

// A recording joins its call's case; Twilio retrying the callback queues
// nothing more; a call the voice menu does not know still keeps its
// recording, in a voice case of its own.
func TestRecordingJoinsCallCaseOnce(t *testing.T) {
	e := newRecordingEnv(t)
	res, err := e.store.RecordInboundSMS(context.Background(), store.InboundSMS{
		MessageSID: twiliotest.NewSID("SM"), From: "+994501234567", Body: "salam", Triage: triage.Default().Triage("salam"),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := recordingForm(t)
	e.calls[f.Get("CallSid")] = res.Case.ID
	for i := range 2 {
		if status, body := e.post(t, signedRecording(t, token, recordingURL, f)); status != 200 {
			t.Fatalf("delivery %d: got %d %q", i+1, status, body)
		}
	}
	if jobs := e.jobs(t); len(jobs) != 1 || jobs[0].CaseID != res.Case.ID {
		t.Fatalf("after a retried callback: jobs %+v, want one for case %s", jobs, res.Case.ID)
	}
	if e.woken != 1 {
		t.Errorf("worker woken %d times, want 1", e.woken)
	}
	var recs []hotline.Recording
	e.store.View(func(tx *store.Tx) error { recs, err = tx.CaseRecordings(res.Case.ID); return err })
	if err != nil || len(recs) != 1 || recs[0].State != hotline.RecordingQueued || recs[0].Duration != 14 {
		t.Fatalf("case recordings %+v (%v), want one queued of 14 s", recs, err)
	}

	orphan := recordingForm(t)
	if status, _ := e.post(t, signedRecording(t, token, recordingURL, orphan)); status != 200 {
		t.Fatalf("recording of an unknown call: got %d, want 200", status)
	}
	cases, _ := e.store.ListCases()
	if len(cases) != 2 || cases[0].Channel != hotline.ChannelVoice {
		t.Fatalf("cases %+v, want the SMS case and a new voice case", cases)
	}
}

// A signed callback for the recording path is refused on the SMS path's
// URL: signatures bind the path.
func TestRecordingCallbackSignedForAnotherPath(t *testing.T) {
	e := newRecordingEnv(t)
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, signedRecording(t, token, publicURL+"/twilio/sms", recordingForm(t)))
	if rec.Code != http.StatusForbidden {
		t.Fatalf("got %d, want 403", rec.Code)
	}
}

var fuzzRecordingSIDs = regexp.MustCompile(`^RE[0-9a-f]{32}$`)

// FuzzRecordingCallback feeds arbitrary form bodies to the recording
// callback, signed when they parse, unsigned, or with an arbitrary
// header. It must never panic, answer only 200/400/403/413, queue a job
// only on 200, and answer 200 with a job only to a validly signed form
// of the account with Twilio-shaped RecordingSid and CallSid. Seeds are in
// testdata/fuzz/FuzzRecordingCallback.
func FuzzRecordingCallback(f *testing.F) {
	f.Add("AccountSid=AC0123456789abcdef0123456789abcdef&CallSid=CA0123456789abcdef0123456789abcdef&RecordingSid=RE0123456789abcdef0123456789abcdef&RecordingStatus=completed&RecordingDuration=14", uint8(fuzzSigned), "")
	f.Add("AccountSid=AC0123456789abcdef0123456789abcdef&CallSid=CA1&RecordingSid=RE1", uint8(fuzzSigned), "")
	f.Add("RecordingSid=%zz", uint8(fuzzUnsigned), "")
	f.Add("AccountSid=AC0123456789abcdef0123456789abcdef&RecordingSid=RE0123456789abcdef0123456789abcdef", uint8(fuzzArbitrary), "AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	e := newRecordingEnv(f)
	f.Fuzz(func(t *testing.T, body string, mode uint8, header string) {
		before := len(e.jobs(t))
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/twilio/recording", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		form, parseErr := url.ParseQuery(body)
		switch mode % 3 {
		case fuzzSigned:
			if parseErr == nil {
				req.Header.Set("X-Twilio-Signature", twiliotest.Signature(token, recordingURL, form))
			}
		case fuzzArbitrary:
			req.Header.Set("X-Twilio-Signature", header)
		}
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, req)
		switch rec.Code {
		case 200, 400, 403, 413:
		default:
			t.Fatalf("status %d for body %q", rec.Code, body)
		}
		after := len(e.jobs(t))
		if rec.Code != 200 && after != before {
			t.Fatalf("status %d but a job was queued", rec.Code)
		}
		if after > before {
			switch {
			case after != before+1:
				t.Fatalf("jobs went from %d to %d", before, after)
			case parseErr != nil, form.Get("AccountSid") != accountSID:
				t.Fatalf("queued for a body that does not parse or another account: %q", body)
			case !fuzzRecordingSIDs.MatchString(strings.TrimSpace(form.Get("RecordingSid"))) || !callSIDs.MatchString(strings.TrimSpace(form.Get("CallSid"))):
				t.Fatalf("queued for SIDs not shaped like Twilio's: %q", body)
			}
		}
	})
}

var callSIDs = regexp.MustCompile(`^CA[0-9a-f]{32}$`)
