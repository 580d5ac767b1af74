package intake_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/hotline-az/hotline/twiliotest"
)

// Fuzz signing modes.
const (
	fuzzSigned    = 0 // the right signature, when the body parses
	fuzzUnsigned  = 1 // no X-Twilio-Signature header
	fuzzArbitrary = 2 // the fuzzer's header
)

var fuzzSIDPattern = regexp.MustCompile(`^(SM|MM)[0-9a-f]{32}$`)

// FuzzSMSWebhook feeds arbitrary form bodies to the SMS webhook, signed
// when they parse (so the fuzzer reaches the field checks and storage),
// unsigned, or with an arbitrary signature header. It must never panic,
// must answer only with the statuses the contract allows, must store a
// message only on 200, and must answer 200 only to a validly signed form
// of the configured account, to one of its numbers, with a Twilio-shaped
// MessageSid. Seeds are in testdata/fuzz/FuzzSMSWebhook.
func FuzzSMSWebhook(f *testing.F) {
	f.Add("MessageSid=SM0123456789abcdef0123456789abcdef&AccountSid=AC0123456789abcdef0123456789abcdef&From=%2B994501234567&To=%2B994125550000&Body=salam", uint8(fuzzSigned), "")
	f.Add("MessageSid=SM1&AccountSid=AC0123456789abcdef0123456789abcdef&From=0501234567&To=%2B994125550000&Body=x", uint8(fuzzSigned), "")
	f.Add("Body=%zz", uint8(fuzzUnsigned), "")
	f.Add("MessageSid=SM0123456789abcdef0123456789abcdef&AccountSid=AC0123456789abcdef0123456789abcdef&From=x&To=%2B994125550000", uint8(fuzzArbitrary), "AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	e := newEnv(f)
	f.Fuzz(func(t *testing.T, body string, mode uint8, header string) {
		before, err := e.store.Stats()
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/twilio/sms", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		form, parseErr := url.ParseQuery(body)
		switch mode % 3 {
		case fuzzSigned:
			if parseErr == nil {
				req.Header.Set("X-Twilio-Signature", twiliotest.Signature(token, publicURL+"/twilio/sms", form))
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
		if rec.Code == 200 {
			switch {
			case parseErr != nil:
				t.Fatalf("200 for a body that does not parse: %q", body)
			case mode%3 != fuzzSigned && req.Header.Get("X-Twilio-Signature") != twiliotest.Signature(token, publicURL+"/twilio/sms", form):
				t.Fatalf("200 without the right signature: %q", body)
			case form.Get("AccountSid") != accountSID:
				t.Fatalf("200 for another account: %q", body)
			case !fuzzSIDPattern.MatchString(form.Get("MessageSid")):
				t.Fatalf("200 for a MessageSid not shaped like Twilio's: %q", body)
			case strings.TrimSpace(form.Get("To")) != hotlineNum && strings.TrimSpace(form.Get("To")) != otherNum:
				t.Fatalf("200 for a message to another number: %q", body)
			}
		}
		after, err := e.store.Stats()
		if err != nil {
			t.Fatal(err)
		}
		if rec.Code != 200 && after.Messages != before.Messages {
			t.Fatalf("status %d but a message was stored", rec.Code)
		}
		if after.Messages < before.Messages || after.Messages > before.Messages+1 {
			t.Fatalf("messages went from %d to %d", before.Messages, after.Messages)
		}
	})
}
