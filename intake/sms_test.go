package intake_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/rs/zerolog/hlog"

	"github.com/hotline-az/hotline/crypto"
	"github.com/hotline-az/hotline/intake"
	"github.com/hotline-az/hotline/internal/leaktest"
	"github.com/hotline-az/hotline/store"
	"github.com/hotline-az/hotline/triage"
	"github.com/hotline-az/hotline/twiliotest"
)

const (
	publicURL  = "https://hotline.example.az"
	token      = "testtoken123"
	oldToken   = "oldtoken456"
	accountSID = "AC0123456789abcdef0123456789abcdef" // the fixtures' account
	hotlineNum = "+994125550000"                      // the fixtures' To
	otherNum   = "+994125550009"                      // a second number of the account
)

// mustVerifier is the verifier of the fixtures' account and numbers, on
// clock now (nil: time.Now).
func mustVerifier(tb testing.TB, now func() time.Time) *intake.Verifier {
	tb.Helper()
	v, err := intake.NewVerifier(intake.VerifierConfig{
		PublicURL: publicURL, AuthTokens: []string{token, oldToken},
		AccountSID: accountSID, Numbers: []string{hotlineNum, otherNum}, Now: now,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

type env struct {
	store    *store.Store
	handler  http.Handler
	verifier *intake.Verifier
	clock    *clock
	logs     *leaktest.Buffer
	dir      string
}

// clock is a settable time for the rejection log's rate limit.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	dir := tb.TempDir()
	key, err := crypto.GenerateMasterKey()
	if err != nil {
		tb.Fatal(err)
	}
	logs := &leaktest.Buffer{}
	log := zerolog.New(logs)
	st, err := store.Open(dir, store.MasterKeySource{Key: &key}, store.Options{Logger: log})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	clk := &clock{t: time.Date(2026, 11, 24, 23, 0, 0, 0, time.UTC)}
	v := mustVerifier(tb, clk.Now)
	h := intake.NewSMSHandler(intake.SMSConfig{
		Verifier: v,
		Store:    st,
		Triager:  triage.Default(),
	})
	return &env{store: st, handler: hlog.NewHandler(log)(h), verifier: v, clock: clk, logs: logs, dir: dir}
}

func (e *env) post(tb testing.TB, req *http.Request) (int, string) {
	tb.Helper()
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

func signed(tb testing.TB, tok, signURL string, form url.Values) *http.Request {
	tb.Helper()
	req, err := twiliotest.NewSignedRequest(tok, "http://127.0.0.1/twilio/sms", signURL, form)
	if err != nil {
		tb.Fatal(err)
	}
	return req
}

func withBody(tb testing.TB, body, sid string) url.Values {
	f := fixture(tb, "sms_inbound")
	f.Set("Body", body)
	f.Set("From", "+994501234567")
	f.Set("MessageSid", sid)
	return f
}

func TestSMSWebhook(t *testing.T) {
	smsURL := publicURL + "/twilio/sms"
	tests := []struct {
		label      string
		req        func(t *testing.T) *http.Request
		wantStatus int
		wantBody   []string // substrings of the answer
		wantStored int      // messages in the store afterwards
	}{
		{"valid fixture", func(t *testing.T) *http.Request { return signed(t, token, smsURL, fixture(t, "sms_inbound")) },
			200, []string{"<Response><Message>Your message was received. Reference: "}, 1},
		{"old auth token during rotation", func(t *testing.T) *http.Request {
			return signed(t, oldToken, smsURL, withBody(t, "hello", twiliotest.NewSID("SM")))
		}, 200, []string{"<Message>"}, 1},
		{"missing signature", func(t *testing.T) *http.Request {
			r := signed(t, token, smsURL, fixture(t, "sms_inbound"))
			r.Header.Del("X-Twilio-Signature")
			return r
		}, 403, []string{"Forbidden"}, 0},
		{"wrong signature", func(t *testing.T) *http.Request { return signed(t, "nottoken999", smsURL, fixture(t, "sms_inbound")) }, 403, nil, 0},
		{"signed for another URL", func(t *testing.T) *http.Request {
			return signed(t, token, "https://evil.example.com/twilio/sms", fixture(t, "sms_inbound"))
		}, 403, nil, 0},
		{"body changed after signing", func(t *testing.T) *http.Request {
			f := fixture(t, "sms_inbound")
			r := signed(t, token, smsURL, f)
			f.Set("Body", "tampered")
			r.Body = io.NopCloser(strings.NewReader(f.Encode()))
			return r
		}, 403, nil, 0},
		{"64 KiB + 1 body", func(t *testing.T) *http.Request {
			r := signed(t, token, smsURL, fixture(t, "sms_inbound"))
			r.Body = io.NopCloser(strings.NewReader(strings.Repeat("a", intake.MaxBodyBytes+1)))
			return r
		}, 413, nil, 0},
		{"malformed form", func(t *testing.T) *http.Request {
			r := signed(t, token, smsURL, fixture(t, "sms_inbound"))
			// From this hotline's account: a form without it is refused
			// as wrong_account before it is parsed.
			r.Body = io.NopCloser(strings.NewReader("AccountSid=" + accountSID + "&Body=%zz&From=%"))
			return r
		}, 400, nil, 0},
		{"missing MessageSid", func(t *testing.T) *http.Request {
			f := fixture(t, "sms_inbound")
			f.Del("MessageSid")
			return signed(t, token, smsURL, f)
		}, 400, []string{"MessageSid is required"}, 0},
		{"missing From", func(t *testing.T) *http.Request {
			f := fixture(t, "sms_inbound")
			f.Del("From")
			return signed(t, token, smsURL, f)
		}, 400, []string{"From is required"}, 0},
		{"missing To", func(t *testing.T) *http.Request {
			f := fixture(t, "sms_inbound")
			f.Del("To")
			return signed(t, token, smsURL, f)
		}, 400, []string{"To is required"}, 0},
		{"Azerbaijani body gets an Azerbaijani reply", func(t *testing.T) *http.Request {
			return signed(t, token, smsURL, withBody(t, "Kömək edin, bizi zirzəmidə saxlayırlar", twiliotest.NewSID("SM")))
		}, 200, []string{"Mesajınız alındı. Müraciət nömrəsi: "}, 1},
		{"Russian body gets a Russian reply", func(t *testing.T) *http.Request {
			return signed(t, token, smsURL, withBody(t, "Помогите, нас держат на складе", twiliotest.NewSID("SM")))
		}, 200, []string{"Ваше сообщение получено"}, 1},
		{"emoji and a 2,000-character body are kept whole", func(t *testing.T) *http.Request {
			return signed(t, token, smsURL, withBody(t, "🙏🆘 help "+strings.Repeat("x", 2000), twiliotest.NewSID("SM")))
		}, 200, []string{"<Message>"}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.label, func(t *testing.T) {
			e := newEnv(t)
			status, body := e.post(t, tc.req(t))
			if status != tc.wantStatus {
				t.Fatalf("status: got %d, want %d (body %q)", status, tc.wantStatus, body)
			}
			for _, want := range tc.wantBody {
				if !strings.Contains(body, want) {
					t.Errorf("body: got %q, want it to contain %q", body, want)
				}
			}
			st, err := e.store.Stats()
			if err != nil {
				t.Fatal(err)
			}
			if st.Messages != tc.wantStored {
				t.Fatalf("stored messages: got %d, want %d", st.Messages, tc.wantStored)
			}
		})
	}
}

func TestRetriedMessageSidGetsSameReplyAndWritesNothing(t *testing.T) {
	e := newEnv(t)
	form := withBody(t, "Müdir pasportumu saxlayıb", twiliotest.NewSID("SM"))
	status1, body1 := e.post(t, signed(t, token, publicURL+"/twilio/sms", form))
	status2, body2 := e.post(t, signed(t, token, publicURL+"/twilio/sms", form))
	if status1 != 200 || status2 != 200 || body1 != body2 {
		t.Fatalf("retry: got %d %q then %d %q, want the same 200 answer", status1, body1, status2, body2)
	}
	st, _ := e.store.Stats()
	if st.Messages != 1 || st.Cases != 1 {
		t.Fatalf("after a retry: got %d messages, %d cases, want 1 and 1", st.Messages, st.Cases)
	}
}

func TestLongBodyKeptWhole(t *testing.T) {
	e := newEnv(t)
	long := strings.Repeat("Ə", 1700) + " son"
	if status, body := e.post(t, signed(t, token, publicURL+"/twilio/sms", withBody(t, long, twiliotest.NewSID("SM")))); status != 200 {
		t.Fatalf("got %d %q", status, body)
	}
	c := onlyCase(t, e)
	msgs, err := e.store.CaseMessages(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].Body != long {
		t.Fatalf("stored body differs from the %d-character original", len([]rune(long)))
	}
}

func onlyCase(t *testing.T, e *env) string {
	t.Helper()
	cases, err := e.store.ListCases()
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 1 {
		t.Fatalf("want exactly one case, got %d", len(cases))
	}
	return cases[0].ID
}
