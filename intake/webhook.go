// Package intake receives Twilio's webhooks: inbound SMS now, voice and
// status callbacks as they come. Every request is bounded and checked
// before anything is stored: a well-formed X-Twilio-Signature header
// before the body is read, the body's size, field count and account
// before it is parsed, the signature against the configured public URL,
// then the account again, the number and the SIDs.
package intake

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/rs/zerolog/hlog"
)

// MaxBodyBytes bounds a webhook's body. Twilio's SMS webhooks are a few
// KiB even for a 1,600-character concatenated message.
const MaxBodyBytes = 64 << 10

// MaxFormFields bounds the number of parameters in a webhook. The largest
// inbound message Twilio documents (a WhatsApp message with 10 media,
// geography, profile, location and referral fields) has 64
// (testdata/webhooks.json); SMS has about 20, status callbacks about
// 15, voice requests about 30. 100 leaves room for the parameters Twilio
// adds without notice while a forged 10,000-field form is refused
// before it is parsed or its signature computed.
const MaxFormFields = 100

// smallBodyBytes is the size under which a body is checked at once. Real
// webhooks are smaller: an SMS of 1,600 Cyrillic letters is about 11 KB
// form-encoded, the largest documented WhatsApp form about 4 KB. Larger
// bodies take turns (Verifier.largeBodies).
const smallBodyBytes = 16 << 10

// maxFieldLen bounds any single form field but Body.
const maxFieldLen = 256

// SID shapes: two letters and 32 lowercase hex digits.
var (
	messageSIDPattern = regexp.MustCompile(`^(SM|MM)[0-9a-f]{32}$`)
	callSIDPattern    = regexp.MustCompile(`^CA[0-9a-f]{32}$`)
)

// VerifierConfig says what a webhook must carry to be accepted.
type VerifierConfig struct {
	// PublicURL is the scheme and host (and port) Twilio calls, with no
	// path, query or trailing slash. Signatures are checked against it
	// plus the request's path and query, never against the request's Host.
	PublicURL string
	// AuthTokens sign webhooks. Several may be given so the token can be
	// rotated without dropping tips; empty ones are ignored.
	AuthTokens []string
	// AccountSID is the only Twilio account whose webhooks are accepted.
	AccountSID string
	// Numbers are the hotline's numbers in E.164: an inbound SMS must be
	// addressed To one of them.
	Numbers []string
	// Now is the clock of the rejection log's rate limit (nil: time.Now).
	Now func() time.Time
	// RefusalDelay holds the answer to a webhook refused before its
	// signature proved that Twilio sent it (zero: answered at once), for
	// at most MaxHeldRefusals requests at a time; the others are answered
	// at once. A flood that waits for each answer before sending again
	// (most do) then sends a few requests a second per connection instead
	// of hundreds, and each held one costs a parked goroutine, no CPU.
	// Twilio's own webhooks are never held: they are signed.
	RefusalDelay time.Duration
}

// DefaultRefusalDelay is the RefusalDelay hotline serve uses.
const DefaultRefusalDelay = 250 * time.Millisecond

// MaxHeldRefusals bounds how many refused requests are held at once.
const MaxHeldRefusals = 128

// Verifier checks that a webhook really comes from Twilio, for this
// hotline's account and numbers, and counts and logs what it refuses.
type Verifier struct {
	publicURL  string
	keys       []signingKey
	accountSID string
	numbers    map[string]bool
	rejections *Rejections
	// largeBodies holds the one large body being parsed and checked.
	largeBodies chan struct{}
	// refusalDelay and heldRefusals: see VerifierConfig.RefusalDelay.
	refusalDelay time.Duration
	heldRefusals chan struct{}
}

// NewVerifier checks cfg and returns its Verifier.
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	u, err := url.Parse(cfg.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || cfg.PublicURL != u.Scheme+"://"+u.Host {
		return nil, fmt.Errorf("intake: public URL must be scheme://host[:port] without a path, query or trailing slash, got %q", cfg.PublicURL)
	}
	v := &Verifier{
		publicURL:    cfg.PublicURL,
		accountSID:   cfg.AccountSID,
		numbers:      map[string]bool{},
		rejections:   NewRejections(cfg.Now),
		largeBodies:  make(chan struct{}, 1),
		refusalDelay: cfg.RefusalDelay,
		heldRefusals: make(chan struct{}, MaxHeldRefusals),
	}
	for _, t := range cfg.AuthTokens {
		if t != "" {
			v.keys = append(v.keys, signingKey(t))
		}
	}
	if len(v.keys) == 0 {
		return nil, errors.New("intake: no auth token to check webhook signatures with")
	}
	if !accountSIDPattern.MatchString(cfg.AccountSID) {
		return nil, errors.New("intake: the Twilio account SID must be AC followed by 32 hex digits")
	}
	for _, n := range cfg.Numbers {
		if n != "" {
			v.numbers[n] = true
		}
	}
	if len(v.numbers) == 0 {
		return nil, errors.New("intake: no hotline number to accept inbound SMS for")
	}
	return v, nil
}

var accountSIDPattern = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)

// Metrics is the count of refused webhooks, for the server's registry.
func (v *Verifier) Metrics() prometheus.Collector { return v.rejections }

// ourNumber reports whether to is one of the hotline's numbers.
func (v *Verifier) ourNumber(to string) bool { return v.numbers[strings.TrimSpace(to)] }

// readSignedForm reads a webhook's form and checks, cheapest first, that
// Twilio sent it for this hotline's account: a well-formed signature
// header (before the body is read), the body's size and field count and
// this account's AccountSid in the raw body (before it is parsed), the
// signature, then the parsed AccountSid.
func (v *Verifier) readSignedForm(w http.ResponseWriter, r *http.Request) (url.Values, *rejection) {
	signature := r.Header.Get("X-Twilio-Signature")
	if !wellFormedSignature(signature) {
		w.Header().Set("Connection", "close") // the body is not read
		return nil, errSignatureMissing
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		w.Header().Set("Connection", "close")
		return nil, errMalformed
	}
	var form url.Values
	rej := readBoundedBody(w, r, func(body []byte) *rejection {
		if !namesAccount(body, v.accountSID) {
			return errWrongAccount
		}
		if len(body) > smallBodyBytes {
			// Large bodies are parsed and checked one at a time, so a flood
			// of large forged forms waits here, blocked rather than
			// competing for the CPU with real tips, which are small. The
			// body is already read: a slow client cannot hold the turn.
			select {
			case v.largeBodies <- struct{}{}:
				defer func() { <-v.largeBodies }()
			case <-r.Context().Done():
				return errGone
			}
		}
		var rej *rejection
		form, rej = v.signedForm(r.URL.RequestURI(), body, signature)
		return rej
	})
	if rej != nil {
		return nil, rej
	}
	if form.Get("AccountSid") != v.accountSID {
		return nil, errWrongAccount
	}
	return form, nil
}

// signedForm parses body and checks that signature is Twilio's for it.
func (v *Verifier) signedForm(requestURI string, body []byte, signature string) (url.Values, *rejection) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, errMalformed
	}
	for _, vs := range form {
		if len(vs) != 1 {
			// Twilio never repeats a parameter, and its signature could
			// not tell the order of repeated ones apart.
			return nil, errRepeated
		}
	}
	if !v.validSignature(requestURI, form, signature) {
		return nil, errSignatureInvalid
	}
	return form, nil
}

// validSignature reports whether signature is Twilio's, under any of the
// auth tokens, for a POST of form to requestURI under the public URL.
func (v *Verifier) validSignature(requestURI string, form url.Values, signature string) bool {
	variants := urlVariants(v.publicURL + requestURI)
	params := signedParams(form)
	ok := false
	for _, k := range v.keys {
		ok = k.valid(variants, params, signature) || ok // every key, so timing does not tell which
	}
	return ok
}

// reject answers a webhook that could not be accepted, counts it, and
// logs it (at most one line per reason per second). The answer and the
// log name the problem and a field, never a value from the request; a
// signature failure's line names the URL the signature was checked
// against (the configured public URL, with any query elided).
func (v *Verifier) reject(w http.ResponseWriter, r *http.Request, rej *rejection) {
	checked := ""
	if rej.reason == ReasonSignatureInvalid {
		checked = v.publicURL + r.URL.Path
		if r.URL.RawQuery != "" {
			checked += "?…"
		}
	}
	v.rejections.record(hlog.FromRequest(r), rej, checked)
	if rej.unproven() {
		v.holdRefusal(r)
	}
	http.Error(w, http.StatusText(rej.status)+": "+rej.problem, rej.status)
}

// unproven reports whether rej refuses a request before a valid
// signature proved that Twilio sent it.
func (rej *rejection) unproven() bool {
	switch rej.reason {
	case ReasonSignatureMissing, ReasonSignatureInvalid, ReasonTooLarge, ReasonTooManyFields, ReasonMalformed, ReasonWrongAccount:
		return true
	}
	return false
}

// holdRefusal waits RefusalDelay before a refusal is answered, unless
// MaxHeldRefusals are already waiting or the client leaves.
func (v *Verifier) holdRefusal(r *http.Request) {
	if v.refusalDelay <= 0 {
		return
	}
	select {
	case v.heldRefusals <- struct{}{}:
		defer func() { <-v.heldRefusals }()
	default:
		return
	}
	t := time.NewTimer(v.refusalDelay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
}

// requireField returns form[name] or a rejection if it is missing or too long.
func requireField(form url.Values, name string) (string, *rejection) {
	v := strings.TrimSpace(form.Get(name))
	if v == "" {
		return "", badField(name, "is required")
	}
	if len(v) > maxFieldLen {
		return "", badField(name, "is too long")
	}
	return v, nil
}

// writeTwiML sends a TwiML document.
func writeTwiML(w http.ResponseWriter, log *zerolog.Logger, doc string) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	if _, err := io.WriteString(w, doc); err != nil {
		log.Debug().Err(err).Msg("write twiml")
	}
}
