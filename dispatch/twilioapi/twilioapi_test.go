package twilioapi_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotline-az/hotline/dispatch/twilioapi"
	"github.com/hotline-az/hotline/twiliotest"
)

const (
	hotlineNumber = "+994125550100"
	officerNumber = "+994505550123"
	alertBody     = "Hotline: new P1 case, open the console"
	statusCB      = "https://hotline.example.org/twilio/status/sms"
	callStatusCB  = "https://hotline.example.org/twilio/status/call"
	alertTwiML    = "https://hotline.example.org/twilio/alert-call"
)

var (
	smsSIDRe  = regexp.MustCompile(`^SM[0-9a-f]{32}$`)
	callSIDRe = regexp.MustCompile(`^CA[0-9a-f]{32}$`)
)

// loopbackOnly is a transport that refuses every request not addressed to a
// loopback IP, so no test can reach Twilio or any other host.
type loopbackOnly struct {
	next    http.RoundTripper
	refused atomic.Int32
	mu      sync.Mutex
	hosts   []string
}

func (l *loopbackOnly) RoundTrip(r *http.Request) (*http.Response, error) {
	host := r.URL.Hostname()
	l.mu.Lock()
	l.hosts = append(l.hosts, host)
	l.mu.Unlock()
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		l.refused.Add(1)
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, fmt.Errorf("loopbackOnly: refused a request for a non-loopback host")
	}
	return l.next.RoundTrip(r)
}

// MustNew returns a client for fake whose transport refuses non-loopback
// hosts; the test fails if anything was refused. edit may change the config.
func MustNew(tb testing.TB, fake *twiliotest.FakeTwilio, edit func(*twilioapi.Config)) *twilioapi.Client {
	tb.Helper()
	guard := &loopbackOnly{next: http.DefaultTransport.(*http.Transport).Clone()}
	cfg := twilioapi.Config{
		AccountSID: fake.AccountSID(),
		AuthToken:  fake.AuthToken(),
		From:       hotlineNumber,
		APIURL:     fake.URL(),
		Timeout:    5 * time.Second,
		Transport:  guard,
	}
	if edit != nil {
		edit(&cfg)
	}
	c, err := twilioapi.New(cfg)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	tb.Cleanup(func() {
		if n := guard.refused.Load(); n != 0 {
			tb.Errorf("%d requests were addressed to a non-loopback host", n)
		}
	})
	return c
}

// assertClean fails if err's text or message carries any of the values.
func assertClean(tb testing.TB, err error, values ...string) {
	tb.Helper()
	if err == nil {
		return
	}
	texts := []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err)}
	var ae *twilioapi.APIError
	if errors.As(err, &ae) {
		texts = append(texts, ae.Message)
	}
	for _, text := range texts {
		for _, v := range values {
			if v != "" && strings.Contains(text, v) {
				tb.Errorf("error text %q contains %q", text, v)
			}
		}
		if m := regexp.MustCompile(`[A-Z]{2}[0-9a-f]{32}`).FindString(text); m != "" {
			tb.Errorf("error text %q contains a SID", text)
		}
	}
}

func TestSendSMS(t *testing.T) {
	fake := twiliotest.NewFakeTwilio(t)
	c := MustNew(t, fake, nil)

	sid, err := c.SendSMS(context.Background(), officerNumber, alertBody, statusCB)
	if err != nil {
		t.Fatalf("SendSMS: %v", err)
	}
	if !smsSIDRe.MatchString(sid) {
		t.Errorf("sid = %q, want SM + 32 hex", sid)
	}
	got := fake.Messages()
	if len(got) == 1 {
		if time.Since(got[0].DateCreated) > time.Minute {
			t.Errorf("DateCreated = %v, want now", got[0].DateCreated)
		}
		got[0].DateCreated = time.Time{}
	}
	want := []twiliotest.FakeMessage{{
		SID: sid, To: officerNumber, From: hotlineNumber, Body: alertBody,
		StatusCallback: statusCB, Status: "queued", Direction: "outbound-api",
		ValidityPeriod: "900", // an alert must not arrive hours late
	}}
	if !slices.Equal(got, want) {
		t.Errorf("messages:\n got %+v\nwant %+v", got, want)
	}
}

func TestSendSMSWithoutStatusCallback(t *testing.T) {
	fake := twiliotest.NewFakeTwilio(t)
	c := MustNew(t, fake, nil)
	if _, err := c.SendSMS(context.Background(), officerNumber, alertBody, ""); err != nil {
		t.Fatalf("SendSMS: %v", err)
	}
	if got := fake.Messages()[0].StatusCallback; got != "" {
		t.Errorf("StatusCallback = %q, want none", got)
	}
}

func TestCall(t *testing.T) {
	fake := twiliotest.NewFakeTwilio(t)
	c := MustNew(t, fake, nil)

	sid, err := c.Call(context.Background(), officerNumber, alertTwiML, callStatusCB)
	if err != nil {
		t.Fatalf("Call: %v", err)
	}
	if !callSIDRe.MatchString(sid) {
		t.Errorf("sid = %q, want CA + 32 hex", sid)
	}
	calls := fake.Calls()
	if len(calls) != 1 {
		t.Fatalf("got %d calls, want 1", len(calls))
	}
	got := calls[0]
	if got.SID != sid || got.To != officerNumber || got.From != hotlineNumber ||
		got.URL != alertTwiML || got.Method != "POST" ||
		got.StatusCallback != callStatusCB || got.StatusCallbackMethod != "POST" {
		t.Errorf("call = %+v", got)
	}
	// A voicemail must not count as an answer: the call rings for less
	// than a mailbox waits, detects machines, and has a fallback.
	if got.Timeout != "18" || got.MachineDetection != "Enable" || got.FallbackURL != alertTwiML {
		t.Errorf("Timeout, MachineDetection, FallbackUrl = %q, %q, %q; want 18, Enable, the TwiML URL", got.Timeout, got.MachineDetection, got.FallbackURL)
	}
	if want := []string{"initiated", "ringing", "answered", "completed"}; !slices.Equal(got.StatusCallbackEvents, want) {
		t.Errorf("StatusCallbackEvents = %q, want %q", got.StatusCallbackEvents, want)
	}
}

func TestRedactMessage(t *testing.T) {
	fake := twiliotest.NewFakeTwilio(t)
	c := MustNew(t, fake, nil)
	const tip = "they keep our passports at the hotel"
	sid := fake.AddMessage(twiliotest.FakeMessage{To: hotlineNumber, From: officerNumber, Body: tip})

	for i := 0; i < 2; i++ { // redaction is repeatable
		if err := c.RedactMessage(context.Background(), sid); err != nil {
			t.Fatalf("RedactMessage #%d: %v", i+1, err)
		}
	}
	m := fake.Messages()[0]
	if m.Body != "" || !m.Redacted {
		t.Errorf("after redaction body = %q, redacted = %v; want empty and true", m.Body, m.Redacted)
	}

	unknown := twiliotest.NewSID("SM")
	err := c.RedactMessage(context.Background(), unknown)
	var ae *twilioapi.APIError
	if !errors.As(err, &ae) || ae.Status != 404 || ae.Code != 20404 || ae.Retryable() {
		t.Errorf("redacting an unknown message: err = %v, want a non-retryable 404/20404", err)
	}
	assertClean(t, err, unknown, fake.AccountSID())
}

func TestRecording(t *testing.T) {
	fake := twiliotest.NewFakeTwilio(t)
	c := MustNew(t, fake, nil)
	sid := twiliotest.NewSID("RE")
	// A whole WAV: a header whose sizes do not match the body is refused.
	audio := twiliotest.NewWAV(0.25, 9)
	fake.AddRecording(sid, audio)

	data, ct, err := c.FetchRecording(context.Background(), sid)
	if err != nil {
		t.Fatalf("FetchRecording: %v", err)
	}
	if !bytes.Equal(data, audio) || ct != "audio/x-wav" {
		t.Errorf("got %d bytes of %q, want %d bytes of audio/x-wav", len(data), ct, len(audio))
	}

	if err := c.DeleteRecording(context.Background(), sid); err != nil {
		t.Fatalf("DeleteRecording: %v", err)
	}
	if got := fake.DeletedRecordings(); !slices.Equal(got, []string{sid}) {
		t.Errorf("deleted = %q, want [%s]", got, sid)
	}
	// A retry after a lost response finds it gone and succeeds.
	if err := c.DeleteRecording(context.Background(), sid); err != nil {
		t.Errorf("second DeleteRecording: %v, want nil", err)
	}

	_, _, err = c.FetchRecording(context.Background(), sid)
	var ae *twilioapi.APIError
	if !errors.As(err, &ae) || ae.Status != 404 || ae.Code != 20404 || twilioapi.IsRetryable(err) {
		t.Errorf("fetching a deleted recording: err = %v, want a non-retryable 404/20404", err)
	}
	assertClean(t, err, sid, fake.AccountSID())
}

func TestInvalidSIDsAreNotSent(t *testing.T) {
	fake := twiliotest.NewFakeTwilio(t)
	c := MustNew(t, fake, nil)
	ctx := context.Background()
	for name, call := range map[string]func() error{
		"redact path":    func() error { return c.RedactMessage(ctx, "../Calls") },
		"redact call":    func() error { return c.RedactMessage(ctx, twiliotest.NewSID("CA")) },
		"delete empty":   func() error { return c.DeleteRecording(ctx, "") },
		"delete message": func() error { return c.DeleteRecording(ctx, twiliotest.NewSID("SM")) },
		"fetch query":    func() error { _, _, err := c.FetchRecording(ctx, "RE1?x=y"); return err },
	} {
		err := call()
		if !errors.Is(err, twilioapi.ErrInvalidArgument) || twilioapi.IsRetryable(err) {
			t.Errorf("%s: err = %v, want ErrInvalidArgument, not retryable", name, err)
		}
	}
	if n := fake.Requests(); n != 0 {
		t.Errorf("fake got %d requests, want 0", n)
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		prep      func(*twiliotest.FakeTwilio)
		edit      func(*twilioapi.Config)
		ctx       func() (context.Context, context.CancelFunc)
		to        string
		status    int
		code      int
		retryable bool
		is        error
	}{
		{name: "invalid number", to: "+15005550001", status: 400, code: 21211},
		{name: "not E.164", to: "0505550123", status: 400, code: 21211},
		{name: "not a mobile", to: "+15005550009", status: 400, code: 21614},
		{name: "bad auth token", edit: func(c *twilioapi.Config) { c.AuthToken = "wrongtoken42" }, status: 401, code: 20003},
		{name: "bad account", edit: func(c *twilioapi.Config) { c.AccountSID = "AC" + strings.Repeat("e", 32) }, status: 401, code: 20003},
		{name: "503 once", prep: func(f *twiliotest.FakeTwilio) { f.FailNext(1, 503, 0) }, status: 503, code: 20503, retryable: true},
		{name: "500 once", prep: func(f *twiliotest.FakeTwilio) { f.FailNext(1, 500, 20500) }, status: 500, code: 20500, retryable: true},
		{name: "429 once", prep: func(f *twiliotest.FakeTwilio) { f.FailNext(1, 429, 20429) }, status: 429, code: 20429, retryable: true},
		{name: "down", prep: func(f *twiliotest.FakeTwilio) { f.SetDown(true) }, status: 503, code: 20503, retryable: true},
		{
			name:      "timeout",
			prep:      func(f *twiliotest.FakeTwilio) { f.SetDelay(3 * time.Second) },
			edit:      func(c *twilioapi.Config) { c.Timeout = 150 * time.Millisecond },
			retryable: true, is: context.DeadlineExceeded,
		},
		{
			name: "caller deadline",
			prep: func(f *twiliotest.FakeTwilio) { f.SetDelay(3 * time.Second) },
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(ctx, 150*time.Millisecond)
			},
			retryable: true, is: context.DeadlineExceeded,
		},
		{
			name: "caller cancelled",
			ctx: func() (context.Context, context.CancelFunc) {
				c, cancel := context.WithCancel(ctx)
				cancel()
				return c, cancel
			},
			retryable: true, is: context.Canceled,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := twiliotest.NewFakeTwilio(t)
			if tt.prep != nil {
				tt.prep(fake)
			}
			c := MustNew(t, fake, tt.edit)
			callCtx, cancel := context.WithCancel(ctx)
			if tt.ctx != nil {
				callCtx, cancel = tt.ctx()
			}
			defer cancel()
			to := officerNumber
			if tt.to != "" {
				to = tt.to
			}

			start := time.Now()
			_, err := c.SendSMS(callCtx, to, alertBody, statusCB)
			if time.Since(start) > 2*time.Second {
				t.Errorf("SendSMS took %v, want it bounded by the timeout", time.Since(start))
			}
			var ae *twilioapi.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v (%T), want *APIError", err, err)
			}
			if ae.Status != tt.status || ae.Code != tt.code {
				t.Errorf("status, code = %d, %d; want %d, %d (%v)", ae.Status, ae.Code, tt.status, tt.code, err)
			}
			if ae.Retryable() != tt.retryable || twilioapi.IsRetryable(err) != tt.retryable {
				t.Errorf("retryable = %v, IsRetryable = %v; want %v (%v)", ae.Retryable(), twilioapi.IsRetryable(err), tt.retryable, err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("err = %v, want errors.Is %v", err, tt.is)
			}
			if tt.status != 0 && !strings.Contains(err.Error(), fmt.Sprint(tt.status)) {
				t.Errorf("error text %q lacks the status", err)
			}
			if tt.code != 0 && !strings.Contains(err.Error(), fmt.Sprint(tt.code)) {
				t.Errorf("error text %q lacks the code", err)
			}
			assertClean(t, err, to, "5550001", "5550009", "5550123", alertBody, "passports",
				fake.AccountSID(), fake.AuthToken(), "wrongtoken42", hotlineNumber)
		})
	}
}

// A fault that clears is invisible on the next call: the outbox retry works.
func TestFailNextThenSucceed(t *testing.T) {
	fake := twiliotest.NewFakeTwilio(t)
	c := MustNew(t, fake, nil)
	fake.FailNext(2, 503, 0)
	for i := 0; i < 2; i++ {
		if _, err := c.SendSMS(context.Background(), officerNumber, alertBody, statusCB); !twilioapi.IsRetryable(err) {
			t.Fatalf("attempt %d: err = %v, want retryable", i+1, err)
		}
	}
	if _, err := c.SendSMS(context.Background(), officerNumber, alertBody, statusCB); err != nil {
		t.Fatalf("third attempt: %v", err)
	}
	if n := len(fake.Messages()); n != 1 {
		t.Errorf("fake holds %d messages, want 1", n)
	}
}

func TestCallErrorsAreClean(t *testing.T) {
	fake := twiliotest.NewFakeTwilio(t)
	c := MustNew(t, fake, nil)
	_, err := c.Call(context.Background(), "+15005550001", alertTwiML, callStatusCB)
	var ae *twilioapi.APIError
	if !errors.As(err, &ae) || ae.Code != 21211 || ae.Retryable() {
		t.Fatalf("err = %v, want a non-retryable 21211", err)
	}
	if !strings.Contains(ae.Message, "is not a valid phone number") {
		t.Errorf("Message = %q, want Twilio's wording kept", ae.Message)
	}
	assertClean(t, err, "+15005550001", "5550001", fake.AccountSID())
}

func TestNetworkErrors(t *testing.T) {
	// A port with nothing listening: connection refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	l.Close()

	// A proxy-style HTML error page twilio-go cannot decode.
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprint(w, "<html>502 Bad Gateway</html>")
	}))
	defer html.Close()

	// A success answer that is not JSON.
	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, "not json")
	}))
	defer garbage.Close()

	fake := twiliotest.NewFakeTwilio(t)
	for _, tt := range []struct {
		name      string
		url       string
		status    int
		retryable bool
	}{
		{"connection refused", dead, 0, true},
		{"html 502", html.URL, 502, true},
		{"garbage 201", garbage.URL, 201, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := MustNew(t, fake, func(c *twilioapi.Config) { c.APIURL = tt.url })
			_, err := c.SendSMS(context.Background(), officerNumber, alertBody, statusCB)
			var ae *twilioapi.APIError
			if !errors.As(err, &ae) || ae.Status != tt.status || ae.Retryable() != tt.retryable {
				t.Errorf("err = %v, want status %d retryable %v", err, tt.status, tt.retryable)
			}
			assertClean(t, err, officerNumber, alertBody, fake.AccountSID())
			// The outbox tells "never left" from "may have been sent"
			// by the net.OpError under a Status 0 error.
			var op *net.OpError
			if dial := errors.As(err, &op) && op.Op == "dial"; dial != (tt.name == "connection refused") {
				t.Errorf("errors.As(*net.OpError) dial = %v for %v", dial, err)
			}
		})
	}
}

func TestIsRetryable(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("boom"), false},
		{context.DeadlineExceeded, true},
		{fmt.Errorf("wrapped: %w", context.Canceled), true},
		{&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, true},
		{&twilioapi.APIError{Status: 400, Code: 21211}, false},
		{&twilioapi.APIError{Status: 404, Code: 20404}, false},
		{fmt.Errorf("outbox: %w", &twilioapi.APIError{Status: 503}), true},
		{&twilioapi.APIError{Status: 429}, true},
		{twilioapi.ErrInvalidArgument, false},
	} {
		if got := twilioapi.IsRetryable(tt.err); got != tt.want {
			t.Errorf("IsRetryable(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// The rewrite sends every request to APIURL (with its path prefix) and
// nothing anywhere else; with no APIURL the client aims at Twilio, which
// the loopback guard refuses before anything leaves the machine.
func TestRewriteStaysLocal(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.Method+" "+r.URL.Path)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodDelete {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		fmt.Fprintf(w, `{"sid":%q}`, twiliotest.NewSID("SM"))
	}))
	defer srv.Close()

	fake := twiliotest.NewFakeTwilio(t)
	guard := &loopbackOnly{next: http.DefaultTransport}
	c, err := twilioapi.New(twilioapi.Config{
		AccountSID: fake.AccountSID(), AuthToken: fake.AuthToken(), From: hotlineNumber,
		APIURL: srv.URL + "/mock/", Transport: guard,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c.SendSMS(ctx, officerNumber, alertBody, statusCB)
	c.Call(ctx, officerNumber, alertTwiML, callStatusCB)
	c.RedactMessage(ctx, twiliotest.NewSID("SM"))
	c.DeleteRecording(ctx, twiliotest.NewSID("RE"))
	c.FetchRecording(ctx, twiliotest.NewSID("RE"))

	for _, h := range guard.hosts {
		if h != "127.0.0.1" {
			t.Errorf("a request went to %q", h)
		}
	}
	if len(guard.hosts) != 5 || guard.refused.Load() != 0 {
		t.Errorf("guard saw %d requests (%d refused), want 5 (0)", len(guard.hosts), guard.refused.Load())
	}
	prefix := "/mock/2010-04-01/Accounts/" + fake.AccountSID() + "/"
	for _, p := range paths {
		if _, path, _ := strings.Cut(p, " "); !strings.HasPrefix(path, prefix) {
			t.Errorf("request %q lacks prefix %q", p, prefix)
		}
	}

	direct, err := twilioapi.New(twilioapi.Config{
		AccountSID: fake.AccountSID(), AuthToken: fake.AuthToken(), From: hotlineNumber,
		Transport: guard,
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = direct.SendSMS(ctx, officerNumber, alertBody, statusCB)
	if err == nil || guard.refused.Load() != 1 {
		t.Errorf("with no APIURL: err = %v, refused = %d; want the guard to refuse api.twilio.com", err, guard.refused.Load())
	}
	if last := guard.hosts[len(guard.hosts)-1]; last != "api.twilio.com" {
		t.Errorf("with no APIURL the request went to %q, want api.twilio.com", last)
	}
	assertClean(t, err, officerNumber, alertBody, fake.AccountSID())
	if fake.Requests() != 0 {
		t.Errorf("fake got %d requests", fake.Requests())
	}
}

func TestNew(t *testing.T) {
	good := twilioapi.Config{AccountSID: twiliotest.FakeAccountSID, AuthToken: "s3cretToken99", From: hotlineNumber}
	if _, err := twilioapi.New(good); err != nil {
		t.Fatalf("New(valid): %v", err)
	}
	for _, tt := range []struct {
		name  string
		edit  func(*twilioapi.Config)
		field string
	}{
		{"empty sid", func(c *twilioapi.Config) { c.AccountSID = "" }, "AccountSID"},
		{"short sid", func(c *twilioapi.Config) { c.AccountSID = "AC123" }, "AccountSID"},
		{"wrong prefix", func(c *twilioapi.Config) { c.AccountSID = "SK" + strings.Repeat("0", 32) }, "AccountSID"},
		{"empty token", func(c *twilioapi.Config) { c.AuthToken = "" }, "AuthToken"},
		{"token with symbols", func(c *twilioapi.Config) { c.AuthToken = "s3cret-token!" }, "AuthToken"},
		{"from not E.164", func(c *twilioapi.Config) { c.From = "0125550100" }, "From"},
		{"from empty", func(c *twilioapi.Config) { c.From = "" }, "From"},
		{"api url scheme", func(c *twilioapi.Config) { c.APIURL = "ftp://127.0.0.1" }, "APIURL"},
		{"api url no host", func(c *twilioapi.Config) { c.APIURL = "http://" }, "APIURL"},
		{"api url query", func(c *twilioapi.Config) { c.APIURL = "http://127.0.0.1:4010/?a=b" }, "APIURL"},
		{"negative timeout", func(c *twilioapi.Config) { c.Timeout = -time.Second }, "Timeout"},
	} {
		cfg := good
		tt.edit(&cfg)
		_, err := twilioapi.New(cfg)
		if err == nil || !strings.Contains(err.Error(), "Config."+tt.field) {
			t.Errorf("%s: err = %v, want one naming Config.%s", tt.name, err, tt.field)
		}
		assertClean(t, err, "s3cret-token!", "0125550100")
	}
	_, err := twilioapi.New(twilioapi.Config{})
	for _, f := range []string{"AccountSID", "AuthToken", "From"} {
		if err == nil || !strings.Contains(err.Error(), f) {
			t.Errorf("New(empty) = %v, want every bad field named (%s)", err, f)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	fake := twiliotest.NewFakeTwilio(t)
	c := MustNew(t, fake, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				_, err := c.SendSMS(context.Background(), officerNumber, alertBody, statusCB)
				errs <- err
			} else {
				_, err := c.Call(context.Background(), officerNumber, alertTwiML, callStatusCB)
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if m, cl := len(fake.Messages()), len(fake.Calls()); m != 10 || cl != 10 {
		t.Errorf("got %d messages and %d calls, want 10 and 10", m, cl)
	}
}

// A download cut short is retryable; a media host answering 200 with a
// short body is not mistaken for a whole recording.
func TestFetchRecordingTruncated(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "audio/x-wav")
		w.Header().Set("Content-Length", "100000")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte("RIFF"))
		// The handler returns early: the server closes the connection.
	}))
	defer srv.Close()
	fake := twiliotest.NewFakeTwilio(t)
	c := MustNew(t, fake, func(c *twilioapi.Config) { c.APIURL = srv.URL })
	sid := twiliotest.NewSID("RE")
	data, _, err := c.FetchRecording(context.Background(), sid)
	if err == nil || !twilioapi.IsRetryable(err) || data != nil {
		t.Errorf("got %d bytes, err = %v; want no data and a retryable error", len(data), err)
	}
	assertClean(t, err, sid, fake.AccountSID())
}

func TestFindMessage(t *testing.T) {
	fake := twiliotest.NewFakeTwilio(t)
	c := MustNew(t, fake, nil)
	ctx := context.Background()
	since := time.Now()

	// Nothing sent yet: a resend is needed.
	if _, found, err := c.FindMessage(ctx, officerNumber, alertBody, since, nil); err != nil || found {
		t.Fatalf("before sending: found = %v, err = %v; want not found", found, err)
	}
	// An earlier alert with the same text, long before this try.
	fake.AddMessage(twiliotest.FakeMessage{To: officerNumber, From: hotlineNumber, Body: alertBody,
		Direction: "outbound-api", Status: "delivered", DateCreated: since.Add(-time.Hour)})
	// The same text to another officer, and other text to this one.
	fake.AddMessage(twiliotest.FakeMessage{To: "+994505550999", From: hotlineNumber, Body: alertBody, Direction: "outbound-api"})
	fake.AddMessage(twiliotest.FakeMessage{To: officerNumber, From: hotlineNumber, Body: "other", Direction: "outbound-api"})
	if _, found, err := c.FindMessage(ctx, officerNumber, alertBody, since, nil); err != nil || found {
		t.Fatalf("with only unrelated messages: found = %v, err = %v; want not found", found, err)
	}

	sid, err := c.SendSMS(ctx, officerNumber, alertBody, statusCB)
	if err != nil {
		t.Fatal(err)
	}
	got, found, err := c.FindMessage(ctx, officerNumber, alertBody, since, nil)
	if err != nil || !found || got != sid {
		t.Errorf("after sending: sid, found, err = %q, %v, %v; want %q, true, nil", got, found, err, sid)
	}

	fake.SetDown(true)
	_, _, err = c.FindMessage(ctx, officerNumber, alertBody, since, nil)
	if !twilioapi.IsRetryable(err) {
		t.Errorf("while Twilio is down: err = %v, want retryable", err)
	}
	assertClean(t, err, officerNumber, alertBody, fake.AccountSID())
}

func TestFindCall(t *testing.T) {
	fake := twiliotest.NewFakeTwilio(t)
	c := MustNew(t, fake, nil)
	ctx := context.Background()
	since := time.Now()
	if _, found, err := c.FindCall(ctx, officerNumber, since, nil); err != nil || found {
		t.Fatalf("before calling: found = %v, err = %v", found, err)
	}
	other, err := c.Call(ctx, "+994505550999", alertTwiML, callStatusCB)
	if err != nil {
		t.Fatal(err)
	}
	sid, err := c.Call(ctx, officerNumber, alertTwiML, callStatusCB)
	if err != nil {
		t.Fatal(err)
	}
	got, found, err := c.FindCall(ctx, officerNumber, since, nil)
	if err != nil || !found || got != sid || got == other {
		t.Errorf("sid, found, err = %q, %v, %v; want %q, true, nil", got, found, err, sid)
	}
	// A call whose SID another job owns is never adopted; the next unknown
	// one is.
	third, err := c.Call(ctx, officerNumber, alertTwiML, callStatusCB)
	if err != nil {
		t.Fatal(err)
	}
	got, found, err = c.FindCall(ctx, officerNumber, since, func(s string) bool { return s == sid })
	if err != nil || !found || got != third {
		t.Errorf("skipping a known SID: sid, found, err = %q, %v, %v; want %q, true, nil", got, found, err, third)
	}
	if _, found, _ := c.FindCall(ctx, officerNumber, since, func(string) bool { return true }); found {
		t.Error("found a call although every SID was skipped")
	}
	// A call placed before since (less the skew) is an older alert.
	if _, found, _ := c.FindCall(ctx, officerNumber, time.Now().Add(twilioapi.ReconcileSkew+time.Minute), nil); found {
		t.Error("found a call created before since")
	}
}
