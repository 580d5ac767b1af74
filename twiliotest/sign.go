// Package twiliotest holds what tests and dev tools need to stand in for
// Twilio: a webhook signer that computes X-Twilio-Signature exactly as Twilio
// does, and a fake of Twilio's REST API.
package twiliotest

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// Signature computes the X-Twilio-Signature Twilio would send for a POST of
// form to fullURL: HMAC-SHA1 keyed by the auth token over the URL followed by
// every parameter name and value, sorted by name, base64-encoded.
func Signature(authToken, fullURL string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(fullURL)
	for _, k := range keys {
		vs := append([]string(nil), form[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// NewSignedRequest builds a form POST to target signed for signURL (the
// public URL Twilio was configured with, which may differ from target when
// the server sits behind a proxy).
func NewSignedRequest(authToken, target, signURL string, form url.Values) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", Signature(authToken, signURL, form))
	return req, nil
}
