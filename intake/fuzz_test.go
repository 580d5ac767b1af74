package intake_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/hotline-az/hotline/twiliotest"
)

// FuzzSMSWebhook feeds arbitrary form bodies to the SMS webhook, signed
// when they parse (so the fuzzer reaches field checks and storage) and
// unsigned otherwise. It must never panic, must answer only with the
// statuses the contract allows, and must store a message only on 200.
func FuzzSMSWebhook(f *testing.F) {
	f.Add("MessageSid=SM1&From=%2B994501234567&To=%2B15017122661&Body=salam", true)
	f.Add("MessageSid=SM1&From=0501234567&To=x&Body=%D0%9F%D0%BE%D0%BC%D0%BE%D0%B3%D0%B8%D1%82%D0%B5", true)
	f.Add("MessageSid=&From=&To=", true)
	f.Add("Body=%zz", false)
	f.Add("MessageSid=SM1&MessageSid=SM2&From=HOTLINE&To=1&Body=", true)
	e := newEnv(f)
	f.Fuzz(func(t *testing.T, body string, sign bool) {
		before, err := e.store.Stats()
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/twilio/sms", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if form, err := url.ParseQuery(body); err == nil && sign {
			req.Header.Set("X-Twilio-Signature", twiliotest.Signature(token, publicURL+"/twilio/sms", form))
		}
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, req)
		switch rec.Code {
		case 200, 400, 403, 413:
		default:
			t.Fatalf("status %d for body %q", rec.Code, body)
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
