// Package intake receives Twilio's webhooks: inbound SMS now, voice and
// status callbacks as they come. Every request is size-bounded, parsed,
// and its X-Twilio-Signature checked with twilio-go's validator against
// the configured public URL before anything is stored.
package intake

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/rs/zerolog"
	"github.com/rs/zerolog/hlog"
	"github.com/twilio/twilio-go/client"
)

// MaxBodyBytes bounds a webhook's body. Twilio's SMS webhooks are a few
// KiB even for a 1,600-character concatenated message.
const MaxBodyBytes = 64 << 10

// maxFieldLen bounds any single form field but Body.
const maxFieldLen = 256

// Verifier checks that a webhook really comes from Twilio.
type Verifier struct {
	publicURL  string
	validators []client.RequestValidator
}

// NewVerifier checks signatures against publicURL (scheme and host Twilio
// was configured with, no trailing slash needed). Several auth tokens may
// be given so the token can be rotated without dropping webhooks; empty
// tokens are ignored.
func NewVerifier(publicURL string, authTokens ...string) *Verifier {
	v := &Verifier{publicURL: strings.TrimRight(publicURL, "/")}
	for _, t := range authTokens {
		if t != "" {
			v.validators = append(v.validators, client.NewRequestValidator(t))
		}
	}
	return v
}

// Valid reports whether signature is Twilio's for a POST of form to the
// request URI (path and query) under the public URL.
func (v *Verifier) Valid(requestURI string, form url.Values, signature string) bool {
	if signature == "" || len(v.validators) == 0 {
		return false
	}
	params := make(map[string]string, len(form))
	for k, vs := range form {
		if len(vs) != 1 {
			// Twilio never repeats a parameter; the validator could not
			// sign a repeated one faithfully, so refuse it.
			return false
		}
		params[k] = vs[0]
	}
	full := v.publicURL + requestURI
	for i := range v.validators {
		if v.validators[i].Validate(full, params, signature) {
			return true
		}
	}
	return false
}

// errTooLarge and errMalformed map to 413 and 400.
var (
	errTooLarge  = errors.New("request body too large")
	errMalformed = errors.New("malformed form body")
	errForbidden = errors.New("invalid or missing X-Twilio-Signature")
)

// readSignedForm reads a bounded form body and checks its signature.
func (v *Verifier) readSignedForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, errTooLarge
		}
		return nil, errMalformed
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		return nil, errMalformed
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, errMalformed
	}
	if !v.Valid(r.URL.RequestURI(), form, r.Header.Get("X-Twilio-Signature")) {
		return nil, errForbidden
	}
	return form, nil
}

// writeRejection answers a webhook that could not be accepted. The reason
// is short and safe: it never echoes the request.
func writeRejection(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, errTooLarge):
		status = http.StatusRequestEntityTooLarge
	case errors.Is(err, errMalformed):
		status = http.StatusBadRequest
	case errors.Is(err, errForbidden):
		status = http.StatusForbidden
	}
	var fe *fieldError
	if errors.As(err, &fe) {
		status = http.StatusBadRequest
	}
	hlog.FromRequest(r).Warn().Int("status", status).Str("reason", err.Error()).Msg("webhook rejected")
	http.Error(w, http.StatusText(status)+": "+err.Error(), status)
}

// fieldError names a missing or bad form field (never its value).
type fieldError struct{ field, problem string }

func (e *fieldError) Error() string { return e.field + " " + e.problem }

// requireField returns form[name] or a fieldError if it is missing or too long.
func requireField(form url.Values, name string) (string, error) {
	v := strings.TrimSpace(form.Get(name))
	if v == "" {
		return "", &fieldError{name, "is required"}
	}
	if len(v) > maxFieldLen {
		return "", &fieldError{name, "is too long"}
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
