package twilioapi_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline-az/hotline/dispatch/twilioapi"
)

// prismShim sits between the client and Prism. It keeps the body of every
// error answer (Prism's list of violations) for failure messages, and works
// around one Prism bug: Prism reads a repeated form key
// (StatusCallbackEvent=a&StatusCallbackEvent=b, which is how twilio-go and
// Twilio encode arrays) as a string and rejects it with "must be array"
// (stoplightio/prism#2473, open). It renames that key to the
// StatusCallbackEvent[] form Prism does parse, after recording the values
// twilio-go sent so the test can check them itself.
type prismShim struct {
	next http.RoundTripper

	mu       sync.Mutex
	rejected []string
	events   [][]string
}

func (s *prismShim) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/Calls.json") && r.Body != nil {
		b, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		form, err := url.ParseQuery(string(b))
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		s.events = append(s.events, form["StatusCallbackEvent"])
		s.mu.Unlock()
		if ev, ok := form["StatusCallbackEvent"]; ok {
			delete(form, "StatusCallbackEvent")
			form["StatusCallbackEvent[]"] = ev
		}
		enc := form.Encode()
		r = r.Clone(r.Context())
		r.Body = io.NopCloser(strings.NewReader(enc))
		r.ContentLength = int64(len(enc))
		r.GetBody = nil
	}
	resp, err := s.next.RoundTrip(r)
	if err == nil && resp.StatusCode >= 400 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<10))
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(b))
		s.mu.Lock()
		s.rejected = append(s.rejected, r.Method+" "+r.URL.Path+": "+string(b))
		s.mu.Unlock()
	}
	return resp, err
}

func (s *prismShim) lastRejection() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.rejected) == 0 {
		return "(none)"
	}
	return s.rejected[len(s.rejected)-1]
}

// TestPrismContract sends every kind of request the client makes to Prism
// serving Twilio's own OpenAPI description (scripts/prism-contract.sh starts
// it): Prism answers 401 without basic auth and 422 for any request that
// breaks the description (a missing required parameter, a wrong type or
// enum value, a URL that is not a URL, a SID of the wrong length). Prism
// keeps no state and accepts any number, so this checks the shape of our
// requests; the twiliotest fake checks behaviour.
func TestPrismContract(t *testing.T) {
	base := os.Getenv("HOTLINE_PRISM_URL")
	if base == "" {
		t.Skip("HOTLINE_PRISM_URL is not set: run scripts/prism-contract.sh to check our requests against Twilio's OpenAPI description with Prism")
	}
	const (
		accountSID = "AC0123456789abcdef0123456789abcdef"
		authToken  = "testtoken123"
	)
	shim := &prismShim{next: &loopbackOnly{next: http.DefaultTransport.(*http.Transport).Clone()}}
	c, err := twilioapi.New(twilioapi.Config{
		AccountSID: accountSID, AuthToken: authToken, From: hotlineNumber,
		APIURL: base, Timeout: 20 * time.Second, Transport: shim,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	valid := func(t *testing.T, what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v\nPrism: %s", what, err, shim.lastRejection())
		}
	}

	t.Run("SendSMS", func(t *testing.T) {
		sid, err := c.SendSMS(ctx, officerNumber, alertBody, statusCB)
		valid(t, "SendSMS", err)
		if !strings.HasPrefix(sid, "SM") || len(sid) != 34 {
			t.Errorf("sid = %q, want Twilio's example SM sid", sid)
		}
		_, err = c.SendSMS(ctx, officerNumber, alertBody, "")
		valid(t, "SendSMS without status callback", err)
	})
	t.Run("Call", func(t *testing.T) {
		sid, err := c.Call(ctx, officerNumber, alertTwiML, callStatusCB)
		valid(t, "Call", err)
		if !strings.HasPrefix(sid, "CA") || len(sid) != 34 {
			t.Errorf("sid = %q, want Twilio's example CA sid", sid)
		}
		shim.mu.Lock()
		sent := shim.events[len(shim.events)-1]
		shim.mu.Unlock()
		if want := []string{"initiated", "ringing", "answered", "completed"}; !slices.Equal(sent, want) {
			t.Errorf("twilio-go sent StatusCallbackEvent %q, want %q as repeated keys", sent, want)
		}
		_, err = c.Call(ctx, officerNumber, alertTwiML, "")
		valid(t, "Call without status callback", err)
	})
	t.Run("RedactMessage", func(t *testing.T) {
		valid(t, "RedactMessage", c.RedactMessage(ctx, "SM0123456789abcdef0123456789abcdef"))
	})
	t.Run("DeleteRecording", func(t *testing.T) {
		valid(t, "DeleteRecording", c.DeleteRecording(ctx, "RE0123456789abcdef0123456789abcdef"))
	})
	t.Run("RecordingInfo", func(t *testing.T) {
		info, err := c.RecordingInfo(ctx, "RE0123456789abcdef0123456789abcdef")
		valid(t, "RecordingInfo", err)
		if info.Status == "" {
			t.Errorf("RecordingInfo = %+v, want the example's status", info)
		}
	})
	t.Run("FindMessage", func(t *testing.T) {
		_, _, err := c.FindMessage(ctx, officerNumber, alertBody, time.Now(), nil)
		valid(t, "FindMessage", err)
	})
	t.Run("FindCall", func(t *testing.T) {
		_, _, err := c.FindCall(ctx, officerNumber, time.Now(), nil)
		valid(t, "FindCall", err)
	})
	// OpenRecording (the media download) is not in the contract: the
	// description has no .wav/.mp3 media route, so Prism answers 404. The
	// fake covers it; RecordingInfo above is the recording fetch the
	// description has.

	// The checks above can fail: Prism does reject requests that break the
	// description, and the client reports that as a non-retryable error.
	t.Run("InvalidRequestsAreRejected", func(t *testing.T) {
		rejected := func(t *testing.T, what string, err error, status int) {
			t.Helper()
			var ae *twilioapi.APIError
			if !errors.As(err, &ae) || ae.Status != status || ae.Retryable() {
				t.Errorf("%s: err = %v, want a non-retryable HTTP %d from Prism", what, err, status)
			}
		}
		_, err := c.SendSMS(ctx, officerNumber, alertBody, "not a url")
		rejected(t, "SendSMS with a bad StatusCallback", err, 422)
		_, err = c.Call(ctx, officerNumber, "not a url", callStatusCB)
		rejected(t, "Call with a bad Url", err, 422)

		post := func(form url.Values, auth bool) int {
			req, err := http.NewRequest(http.MethodPost,
				strings.TrimSuffix(base, "/")+"/2010-04-01/Accounts/"+accountSID+"/Messages.json",
				strings.NewReader(form.Encode()))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if auth {
				req.SetBasicAuth(accountSID, authToken)
			}
			resp, err := shim.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if got := post(url.Values{"From": {hotlineNumber}, "Body": {alertBody}}, true); got != 422 {
			t.Errorf("Messages.json without To: HTTP %d, want 422", got)
		}
		if got := post(url.Values{"To": {officerNumber}, "From": {hotlineNumber}, "Body": {alertBody}}, false); got != 401 {
			t.Errorf("Messages.json without basic auth: HTTP %d, want 401", got)
		}
		if got := post(url.Values{"To": {officerNumber}, "From": {hotlineNumber}, "Body": {alertBody}}, true); got != 201 {
			t.Errorf("the same request made valid: HTTP %d, want 201\nPrism: %s", got, shim.lastRejection())
		}
	})
}
