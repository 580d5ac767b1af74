package twiliotest_test

import (
	"net/url"
	"testing"

	"github.com/hotline-az/hotline/twiliotest"
	"github.com/twilio/twilio-go/client"
)

// TestSignatureAcceptedByTwilioValidator cross-checks our signer against
// twilio-go's validator, which the server uses.
func TestSignatureAcceptedByTwilioValidator(t *testing.T) {
	form := url.Values{"Body": {"Salam, kömək edin 🙏"}, "From": {"+994501234567"}, "MessageSid": {"SM0123"}, "To": {"+15017122661"}}
	const u = "https://hotline.example.az/twilio/sms"
	sig := twiliotest.Signature("testtoken123", u, form)
	v := client.NewRequestValidator("testtoken123")
	params := map[string]string{}
	for k := range form {
		params[k] = form.Get(k)
	}
	if !v.Validate(u, params, sig) {
		t.Fatalf("twilio-go rejected our signature %q", sig)
	}
	if v.Validate(u+"x", params, sig) {
		t.Fatal("twilio-go accepted the signature for another URL")
	}
	other := client.NewRequestValidator("othertoken")
	if other.Validate(u, params, sig) {
		t.Fatal("signature valid under another token")
	}
}
