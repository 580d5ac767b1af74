package twilioapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/twilio/twilio-go/client"
)

// APIError is every error of a call that reached the network: an error
// answer from Twilio (Status > 0) or no usable answer at all (Status 0: a
// network error, a timeout, a cancelled context).
//
// Twilio's own messages quote the request (the 'To' number, resource paths
// with SIDs). Message keeps Twilio's wording with every phone number, SID,
// credential and request value replaced by [redacted]; Error() adds only the
// status and code. Neither ever carries a number, a body or a SID.
type APIError struct {
	Status  int    // HTTP status; 0 when no response arrived
	Code    int    // Twilio error code (21211 invalid 'To' number, ...); 0 if none
	Message string // scrubbed, safe to log

	retry bool  // for Status 0: whether the failure is transient
	cause error // the underlying transport error, scrubbed of URLs
}

// Error gives the status, the code and the scrubbed message.
func (e *APIError) Error() string {
	var b strings.Builder
	if e.Status == 0 {
		b.WriteString("twilio: no response")
	} else {
		fmt.Fprintf(&b, "twilio: HTTP %d", e.Status)
		if e.Code != 0 {
			fmt.Fprintf(&b, ", error %d", e.Code)
		}
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Unwrap returns the transport error under a Status 0 error (for example
// context.DeadlineExceeded), without the request URL.
func (e *APIError) Unwrap() error { return e.cause }

// Retryable reports whether the same request may succeed later: server
// errors (5xx), rate limiting (429), request timeout (408), and network
// errors and timeouts. Other 4xx answers (21211 invalid number, 401 bad
// credentials, 404) will fail again.
func (e *APIError) Retryable() bool {
	switch {
	case e.Status == 0:
		return e.retry
	case e.Status >= 500, e.Status == http.StatusTooManyRequests, e.Status == http.StatusRequestTimeout:
		return true
	default:
		return false
	}
}

// IsRetryable reports whether err, from this package or not, is worth
// retrying: an *APIError that is Retryable, or any network error, timeout or
// cancelled context. Everything else (nil included) is not.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Retryable()
	}
	return transient(err)
}

var errRefused = errors.New("twilioapi: APIURL is set; refusing a request that is not for *.twilio.com")

// transient reports whether a transport-level error is worth retrying.
func transient(err error) bool {
	if errors.Is(err, errRefused) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne)
}

// wrap turns an error from twilio-go or net/http into an *APIError whose
// text is scrubbed of the client's credentials and of values (numbers, body,
// SIDs) passed to this call.
func (c *Client) wrap(cl *call, err error, values ...string) error {
	secrets := append(append([]string(nil), c.secrets...), values...)
	var (
		tre *client.TwilioRestError
		v1  *client.RestErrorV1
		ue  *url.Error
	)
	switch {
	case errors.As(err, &tre):
		status := tre.Status
		if status == 0 {
			status = cl.status
		}
		return &APIError{Status: status, Code: tre.Code, Message: scrub(tre.Message, secrets)}
	case errors.As(err, &v1):
		status := v1.HttpStatusCode
		if status == 0 {
			status = cl.status
		}
		return &APIError{Status: status, Code: v1.Code, Message: scrub(v1.Message, secrets)}
	case errors.As(err, &ue):
		// The url.Error text holds the URL (account and resource SIDs):
		// keep only the cause.
		inner := ue.Err
		if errors.Is(inner, errRefused) {
			return &APIError{Message: errRefused.Error(), cause: errRefused}
		}
		return &APIError{Message: scrub(inner.Error(), secrets), retry: transient(inner), cause: scrubbedError{inner, secrets}}
	case cl.ctx != nil && cl.ctx.Err() != nil:
		// The deadline passed while the body was read: the request may
		// or may not have taken effect.
		return &APIError{Message: "incomplete response: " + cl.ctx.Err().Error(), retry: true, cause: cl.ctx.Err()}
	case transient(err):
		// The connection broke while the body was read.
		return &APIError{Message: "incomplete response: " + scrub(err.Error(), secrets), retry: true, cause: scrubbedError{err, secrets}}
	case cl.status >= 400:
		// twilio-go could not decode the error body (an HTML page from a
		// proxy, say); the status it dropped was recorded by the call.
		return &APIError{Status: cl.status, Message: "error response is not Twilio JSON"}
	case cl.status > 0:
		return malformed(cl.status, "response is not the expected JSON")
	default:
		return &APIError{Message: scrub(err.Error(), secrets), retry: transient(err), cause: scrubbedError{err, secrets}}
	}
}

// malformed is a success status with a body we cannot use. It is not
// retryable: Twilio did act on the request.
func malformed(status int, msg string) error {
	return &APIError{Status: status, Message: msg}
}

// errorFromResponse reads a Twilio error body from a response we made
// ourselves (media download), bounded to 64 KiB.
func errorFromResponse(resp *http.Response) error {
	tre := &client.TwilioRestError{}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(tre); err != nil {
		tre = &client.TwilioRestError{}
	}
	tre.Status = resp.StatusCode
	return tre
}

// scrubbedError keeps errors.Is/As working on a transport error while its
// text is scrubbed like APIError.Message.
type scrubbedError struct {
	err     error
	secrets []string
}

func (s scrubbedError) Error() string { return scrub(s.err.Error(), s.secrets) }
func (s scrubbedError) Unwrap() error { return s.err }

var (
	sidRe   = regexp.MustCompile(`\b[A-Z]{2}[0-9a-fA-F]{32}\b`)
	phoneRe = regexp.MustCompile(`\+?[0-9][0-9 ().-]{4,}[0-9]`)
)

const maxMessage = 300

// scrub removes credentials, request values, SIDs and anything that looks
// like a phone number from s, and bounds its length.
func scrub(s string, secrets []string) string {
	for _, v := range secrets {
		if len(v) >= 4 {
			s = strings.ReplaceAll(s, v, "[redacted]")
		}
	}
	s = sidRe.ReplaceAllString(s, "[redacted]")
	s = phoneRe.ReplaceAllString(s, "[redacted]")
	if len(s) > maxMessage {
		s = strings.ToValidUTF8(s[:maxMessage], "") + "..."
	}
	return s
}
