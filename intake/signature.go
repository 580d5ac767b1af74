package intake

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
)

// signatureLen is the length of X-Twilio-Signature: base64 of a 20-byte
// HMAC-SHA1, 27 characters and one "=" of padding.
const signatureLen = 28

// wellFormedSignature reports whether h could be an X-Twilio-Signature at
// all: exactly 28 characters of strict base64 that decode to 20 bytes.
// Anything else is refused before the body is read.
func wellFormedSignature(h string) bool {
	if len(h) != signatureLen {
		return false
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(h)
	return err == nil && len(raw) == sha1.Size
}

// signingKey checks X-Twilio-Signature by Twilio's documented algorithm:
// base64(HMAC-SHA1(auth token, URL + name1 + value1 + name2 + value2 ...))
// with the parameters sorted by name. It accepts exactly what twilio-go's
// client.RequestValidator.Validate accepts (the tests compare the two on
// fixtures and random forms), including its with-port and without-port
// variants of the URL, but it streams the signed string into the HMAC in
// one pass: twilio-go builds it by repeated string concatenation, which
// costs time and garbage quadratic in the number of fields (see
// BenchmarkSignature).
type signingKey []byte

// signedParams is the part of the signed string after the URL: every
// name followed by its value, names in byte order. Twilio never repeats a
// parameter; callers refuse forms that do before they get here.
func signedParams(form url.Values) []byte {
	names := make([]string, 0, len(form))
	n := 0
	for k, vs := range form {
		names = append(names, k)
		n += len(k)
		if len(vs) > 0 {
			n += len(vs[0])
		}
	}
	slices.Sort(names)
	buf := make([]byte, 0, n)
	for _, k := range names {
		buf = append(buf, k...)
		if vs := form[k]; len(vs) > 0 {
			buf = append(buf, vs[0]...)
		}
	}
	return buf
}

// urlVariants are the URLs twilio-go tries: fullURL with its scheme's
// default port added (or as it is if it names a port), and without any port.
// Webhooks come to a handful of URLs, so the last answer is kept: working
// them out parses the URL three times.
func urlVariants(fullURL string) [2]string {
	if last := lastURLVariants.Load(); last != nil && last.fullURL == fullURL {
		return last.variants
	}
	v := [2]string{addPort(fullURL), removePort(fullURL)}
	lastURLVariants.Store(&urlVariantsOf{fullURL, v})
	return v
}

// urlVariantsOf is urlVariants' answer for one URL.
type urlVariantsOf struct {
	fullURL  string
	variants [2]string
}

// lastURLVariants is urlVariants' last answer (a pure function's memo, so
// one for the process is enough).
var lastURLVariants atomic.Pointer[urlVariantsOf]

// valid reports whether signature is this key's for any of the URL
// variants and the signed parameters. The comparison is in constant time.
func (k signingKey) valid(variants [2]string, params []byte, signature string) bool {
	mac := hmac.New(sha1.New, k)
	ok := 0
	for _, u := range variants {
		mac.Reset()
		mac.Write([]byte(u))
		mac.Write(params)
		var sum [sha1.Size]byte
		var enc [signatureLen]byte
		base64.StdEncoding.Encode(enc[:], mac.Sum(sum[:0]))
		ok |= subtle.ConstantTimeCompare(enc[:], []byte(signature))
	}
	return ok == 1
}

// addPort, removePort and updatePort reproduce twilio-go's URL variants
// (client/request_validator.go, MIT licence) so that this checker accepts
// the same signatures as twilio-go's.
func addPort(raw string) string {
	parsed, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	if parsed.Port() != "" {
		return raw
	}
	if parsed.Scheme == "https" {
		return updatePort(raw, 443)
	}
	return updatePort(raw, 80)
}

func updatePort(raw string, port int) string {
	parsed, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	host := parsed.Host
	if parsed.Port() != "" {
		host = strings.Split(parsed.Host, ":")[0]
	}
	parsed.Host = host + ":" + strconv.Itoa(port)
	return parsed.String()
}

func removePort(raw string) string {
	parsed, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	if parsed.Port() == "" {
		return raw
	}
	parsed.Host = strings.Split(parsed.Host, ":")[0]
	return parsed.String()
}
