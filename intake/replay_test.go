package intake_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hotline-az/hotline/twiliotest"
)

// resplit moves the boundary between parameter name and value pairs
// without changing the string Twilio signs (URL, then every name and
// value, sorted by name, joined with no separator): the value of name
// absorbs the name and value of next, which disappears.
func resplit(f url.Values, name, next string) url.Values {
	out := url.Values{}
	for k, v := range f {
		out[k] = append([]string(nil), v...)
	}
	out.Set(name, f.Get(name)+next+f.Get(next))
	out.Del(next)
	return out
}

// TestResplitReplayStoresNothing replays a captured, validly signed SMS
// webhook with its parameters re-split: the same signature still verifies
// (the test checks that with twilio-go's validator, so the replay really
// gets past the signature), but the hotline must not store it as a new tip.
func TestResplitReplayStoresNothing(t *testing.T) {
	smsURL := publicURL + "/twilio/sms"
	captured := fixture(t, "sms_inbound")
	signature := twiliotest.Signature(token, smsURL, captured)
	for _, tc := range []struct {
		label, name, next string
		wantStatus        int
	}{
		// A new MessageSid would pass dedup and open a second case.
		{"MessageSid absorbs NumMedia", "MessageSid", "NumMedia", 400},
		{"To absorbs ToCity", "To", "ToCity", 403},
		{"From absorbs FromCity", "From", "FromCity", 200}, // the retried MessageSid: answered from the first delivery
		{"Body absorbs From", "Body", "From", 400},
		{"AccountSid absorbs ApiVersion", "AccountSid", "ApiVersion", 403},
	} {
		t.Run(tc.label, func(t *testing.T) {
			e := newEnv(t)
			if status, body := e.post(t, signed(t, token, smsURL, captured)); status != 200 {
				t.Fatalf("the captured request: got %d %q", status, body)
			}
			replay := resplit(captured, tc.name, tc.next)
			if !twilioGoValid(token, smsURL, replay, signature) {
				t.Fatal("the re-split form does not carry the captured signature: the test proves nothing")
			}
			req, err := http.NewRequest(http.MethodPost, "http://127.0.0.1/twilio/sms", strings.NewReader(replay.Encode()))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Twilio-Signature", signature)
			status, body := e.post(t, req)
			if status != tc.wantStatus {
				t.Errorf("replay: got %d %q, want %d", status, body, tc.wantStatus)
			}
			st, err := e.store.Stats()
			if err != nil {
				t.Fatal(err)
			}
			if st.Messages != 1 || st.Cases != 1 {
				t.Fatalf("after the replay: %d messages in %d cases, want the captured one only", st.Messages, st.Cases)
			}
		})
	}
}
