package intake_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/twilio/twilio-go/client"

	"github.com/hotline-az/hotline/intake"
	"github.com/hotline-az/hotline/twiliotest"
)

// twilioGoValid is how the server checked signatures before: twilio-go's
// RequestValidator over the form's single values.
func twilioGoValid(token, fullURL string, form url.Values, signature string) bool {
	params := make(map[string]string, len(form))
	for k, vs := range form {
		params[k] = vs[0]
	}
	v := client.NewRequestValidator(token)
	return v.Validate(fullURL, params, signature)
}

// TestSignatureAgreesWithTwilioGo compares the linear check with
// twilio-go's validator on every fixture, for URLs with and without a
// port and a query, and for signatures that are right, made for the other
// port variant, for another URL, with another token, or over a changed form.
func TestSignatureAgreesWithTwilioGo(t *testing.T) {
	const token = "testtoken123"
	all := fixtures(t)
	urls := []string{
		"https://hotline.example.az/twilio/sms",
		"https://hotline.example.az:443/twilio/sms",
		"https://hotline.example.az:8443/twilio/status?job=01J9Z3",
		"http://127.0.0.1:8080/twilio/alert-call?job=a%20b&x=1",
		"http://localhost/twilio/sms",
	}
	accepted := 0
	for _, name := range formNames(all) {
		f := all[name]
		for _, u := range urls {
			changed := url.Values{}
			for k, v := range f {
				changed[k] = v
			}
			changed.Set("Body", changed.Get("Body")+"!")
			signatures := map[string]string{
				"right":         twiliotest.Signature(token, u, f),
				"with port 443": twiliotest.Signature(token, strings.Replace(u, "example.az/", "example.az:443/", 1), f),
				"without port":  twiliotest.Signature(token, strings.Replace(strings.Replace(u, ":8080", "", 1), ":8443", "", 1), f),
				"other URL":     twiliotest.Signature(token, u+"x", f),
				"other token":   twiliotest.Signature("othertoken", u, f),
				"changed form":  twiliotest.Signature(token, u, changed),
				"malformed":     "not a signature",
				"empty":         "",
			}
			for label, sig := range signatures {
				got := intake.ValidSignature(token, u, f, sig)
				want := twilioGoValid(token, u, f, sig)
				if got != want {
					t.Errorf("%s at %s, signature %s: linear check says %v, twilio-go says %v", name, u, label, got, want)
				}
				if got {
					accepted++
				}
			}
		}
	}
	// The comparison means something only if both accept some and refuse others.
	if accepted < len(all)*len(urls) {
		t.Fatalf("only %d signatures accepted; every right one (%d) should be", accepted, len(all)*len(urls))
	}
}

// FuzzSignature compares the linear check with twilio-go's validator on
// random forms, URLs and tokens, with the right signature, the signature
// of a neighbouring URL, and an arbitrary one.
func FuzzSignature(f *testing.F) {
	f.Add("testtoken123", "https://hotline.example.az/twilio/sms", "MessageSid=SM1&Body=salam", 0, "")
	f.Add("t", "https://h.example:443/twilio/sms?job=1", "a=&b=%00&%F0%9F%99%8F=x", 1, "")
	f.Add("t", "http://127.0.0.1:8080/x", "Body=a&Bod=ya", 2, "AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	f.Add("", "http://[::1]:80/p", "=", 0, "")
	f.Add("tok", "https://host/%zz", "k=v", 0, "")
	f.Fuzz(func(t *testing.T, token, u, body string, mode int, arbitrary string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		for _, vs := range form {
			if len(vs) != 1 {
				return // the server refuses repeated parameters before checking
			}
		}
		var sig string
		switch mode % 3 {
		case 0:
			sig = twiliotest.Signature(token, u, form)
		case 1:
			sig = twiliotest.Signature(token, strings.Replace(u, "/twilio", ":443/twilio", 1), form)
		default:
			sig = arbitrary
		}
		got := intake.ValidSignature(token, u, form, sig)
		want := twilioGoValid(token, u, form, sig)
		if got != want {
			t.Fatalf("token %q url %q form %q sig %q: linear check says %v, twilio-go says %v", token, u, body, sig, got, want)
		}
	})
}

func TestWellFormedSignature(t *testing.T) {
	good := twiliotest.Signature("t", "https://h/twilio/sms", url.Values{"a": {"b"}})
	for sig, want := range map[string]bool{
		good:                             true,
		"":                               false,
		good[:27]:                        false,
		good + "=":                       false,
		"AAAAAAAAAAAAAAAAAAAAAAAAAAA=":   true,
		"AAAAAAAAAAAAAAAAAAAAAAAAAAB=":   false, // non-canonical final bits: no HMAC encodes so
		"AAAAAAAAAAAAAAAAAAAAAAAAAA==":   false,
		"AAAAAAAAAAAAAAAAAAAAAAAAAAA*":   false,
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA": false,
	} {
		if got := intake.WellFormedSignature(sig); got != want {
			t.Errorf("WellFormedSignature(%q) = %v, want %v", sig, got, want)
		}
	}
}

// signatureCases are the forms BenchmarkSignature signs: real ones, the
// largest Twilio documents, the largest our bounds let through, and the
// forged flood of issue 8 (refused before any signature check today).
func signatureCases(b *testing.B) []struct {
	name string
	form url.Values
} {
	tip := fixture(b, "sms_inbound")
	longest := fixture(b, "sms_inbound")
	longest.Set("Body", strings.Repeat("Ж", 1600)) // Twilio's longest concatenated SMS
	uniform := url.Values{}                        // 100 fields, 64 KiB in all
	for i := range 100 {
		uniform.Set(fmt.Sprintf("F%02d", i), strings.Repeat("x", 640))
	}
	firstLarge := url.Values{"A": {strings.Repeat("x", 63<<10)}} // one large field sorted first, 99 small ones
	for i := range 99 {
		firstLarge.Set(fmt.Sprintf("F%02d", i), "x")
	}
	flood := url.Values{} // about 55 KB of 9,900 empty fields
	for i := range 9900 {
		flood.Set(fmt.Sprintf("%x", i), "")
	}
	return []struct {
		name string
		form url.Values
	}{
		{"tip-20-fields", tip},
		{"longest-sms-1600-chars", longest},
		{"whatsapp-64-fields", fixture(b, "whatsapp_10_media")},
		{"100-fields-64KiB", uniform},
		{"100-fields-64KiB-first-large", firstLarge},
		{"flood-9900-fields-55KB", flood},
	}
}

// BenchmarkSignature measures twilio-go's validator against the linear
// check, each as the server calls it (one token, a valid signature so
// both URL variants are computed).
func BenchmarkSignature(b *testing.B) {
	const token = "testtoken123"
	const u = "https://hotline.example.az/twilio/sms"
	for _, c := range signatureCases(b) {
		sig := twiliotest.Signature(token, u+"x", c.form) // valid for neither variant: the worst case
		b.Run(c.name+"/twilio-go", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.form.Encode())))
			for b.Loop() {
				if twilioGoValid(token, u, c.form, sig) {
					b.Fatal("accepted")
				}
			}
		})
		b.Run(c.name+"/linear", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.form.Encode())))
			for b.Loop() {
				if intake.ValidSignature(token, u, c.form, sig) {
					b.Fatal("accepted")
				}
			}
		})
	}
}
