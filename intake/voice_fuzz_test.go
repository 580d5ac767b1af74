package intake_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/hotline-az/hotline/twiliotest"
)

var fuzzCallSIDPattern = regexp.MustCompile(`^CA[0-9a-f]{32}$`)

// voicePaths are the voice webhooks the fuzzer posts to (index mod len).
var voicePaths = []string{
	"/twilio/voice",
	"/twilio/voice/menu?step=language",
	"/twilio/voice/menu?step=menu",
	"/twilio/voice/menu?step=reference",
	"/twilio/voice/menu?step=menu&timeout=1",
	"/twilio/voice/dial?n=0&attempt=0",
	"/twilio/voice/whisper?attempt=0&call=00",
	"/twilio/voice/recorded",
	"/twilio/voice/status",
}

// FuzzVoiceWebhook feeds arbitrary form bodies, signed when they parse,
// to every voice webhook. It must never panic, must answer only with the
// statuses the contract allows (200 TwiML, 204, 400, 403, 413), must
// answer 2xx only to a form of the configured account with a
// Twilio-shaped CallSid and the hotline's number, and never writes a
// case for a refused request. Seeds are in testdata/fuzz/FuzzVoiceWebhook.
func FuzzVoiceWebhook(f *testing.F) {
	base := "CallSid=CA0123456789abcdef0123456789abcdef&AccountSid=AC0123456789abcdef0123456789abcdef&From=%2B994557654321&To=%2B994125550000"
	f.Add(base, uint8(0))
	f.Add(base+"&Digits=3", uint8(1))
	f.Add(base+"&Digits=9", uint8(2))
	f.Add(base+"&Digits=222222%23", uint8(3))
	f.Add(base+"&DialCallStatus=no-answer", uint8(5))
	f.Add("CallSid=CA0123456789abcdef0123456789abcdef&AccountSid=AC0123456789abcdef0123456789abcdef&From=%2B994125550000&To=%2B994501110001&Digits=1", uint8(6))
	f.Add(base+"&RecordingDuration=42", uint8(7))
	f.Add(base+"&CallStatus=completed&CallDuration=61", uint8(8))
	f.Add("CallSid=CA1&Digits=%zz", uint8(2))
	e := newVoiceEnv(f, nil)
	f.Fuzz(func(t *testing.T, body string, pathIndex uint8) {
		path := voicePaths[int(pathIndex)%len(voicePaths)]
		before, err := e.st.ListCases()
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		form, parseErr := url.ParseQuery(body)
		if parseErr == nil {
			req.Header.Set("X-Twilio-Signature", twiliotest.Signature(token, publicURL+path, form))
		}
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch resp.StatusCode {
		case 200, 204, 400, 403, 413:
		default:
			t.Fatalf("status %d for %s %q: %s", resp.StatusCode, path, body, answer)
		}
		if resp.StatusCode == 200 {
			parseTwiML(t, string(answer))
		}
		if resp.StatusCode < 300 {
			switch {
			case parseErr != nil:
				t.Fatalf("%d for a body that does not parse: %q", resp.StatusCode, body)
			case form.Get("AccountSid") != accountSID:
				t.Fatalf("%d for another account: %q", resp.StatusCode, body)
			case !fuzzCallSIDPattern.MatchString(form.Get("CallSid")):
				t.Fatalf("%d for a CallSid not shaped like Twilio's: %q", resp.StatusCode, body)
			case strings.TrimSpace(form.Get("To")) != hotlineNum && strings.TrimSpace(form.Get("From")) != hotlineNum:
				t.Fatalf("%d for a call to another number: %q", resp.StatusCode, body)
			}
		}
		after, err := e.st.ListCases()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode >= 300 && len(after) != len(before) {
			t.Fatalf("status %d but the cases went from %d to %d", resp.StatusCode, len(before), len(after))
		}
	})
}
