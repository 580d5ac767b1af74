// Package twilioapi is the outbox worker's thin client for Twilio's REST API:
// alert SMS and calls to duty officers, redaction of message bodies and the
// download and deletion of voicemail recordings.
//
// It wraps twilio-go's generated 2010-04-01 API service. Every request,
// media downloads included, goes through the Client's one transport, so a
// test or a contract mock (Config.APIURL) sees exactly what production would
// send to Twilio.
//
// Twilio's Messages and Calls APIs take no idempotency key. A send whose
// answer was lost may have gone out; FindMessage and FindCall let the outbox
// check before it sends again.
//
// Security contract: nothing here logs, and no error returned by this package
// carries a phone number, a message body or a Twilio SID in its text (see
// APIError).
package twilioapi

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"
)

// DefaultTimeout bounds each call when Config.Timeout is zero.
const DefaultTimeout = 15 * time.Second

// MaxRecordingBytes bounds FetchRecording. A ten-minute 8 kHz 16-bit WAV
// voicemail is about 10 MB.
const MaxRecordingBytes = 64 << 20

// callStatusEvents are the call progress events Call asks Twilio to report
// to its status callback.
var callStatusEvents = [...]string{"initiated", "ringing", "answered", "completed"}

// ErrInvalidArgument is wrapped by errors for arguments rejected before
// anything is sent (a malformed SID). Such errors are not retryable.
var ErrInvalidArgument = errors.New("twilioapi: invalid argument")

// Config configures a Client.
type Config struct {
	AccountSID string // "AC" followed by 32 hex digits
	AuthToken  string // the account's auth token (alphanumeric)
	From       string // the hotline number in E.164, sender of alerts

	// APIURL, when set, redirects every request for https://*.twilio.com to
	// this base URL (scheme and host, optionally a path prefix), for tests and
	// contract mocks. Requests for any other host are then refused. Empty
	// means real Twilio. Basic auth is sent to this URL too.
	APIURL string

	// Timeout bounds each call, including reading the response. Zero means
	// DefaultTimeout.
	Timeout time.Duration
	// DownloadTimeout bounds a whole recording download (OpenRecording).
	// Zero means DefaultDownloadTimeout.
	DownloadTimeout time.Duration

	// Transport is the base HTTP transport, under the APIURL rewrite. Nil
	// means a private clone of http.DefaultTransport. Tests use it to refuse
	// any request that is not for loopback.
	Transport http.RoundTripper

	// RingTimeout is how long an alert call rings before Twilio gives up
	// (no-answer). It must end before a typical voicemail picks up (20-30
	// s), so an unanswered call fails fast instead of reaching a mailbox.
	// Zero means DefaultRingTimeout.
	RingTimeout time.Duration

	// SMSValidity is how long Twilio may hold an alert SMS in its queue
	// (ValidityPeriod): an alert must not arrive hours late. Zero means
	// DefaultSMSValidity.
	SMSValidity time.Duration
}

// DefaultRingTimeout is Config.RingTimeout when zero: shorter than the
// 20-30 s after which phones usually send a call to voicemail.
const DefaultRingTimeout = 18 * time.Second

// DefaultSMSValidity is Config.SMSValidity when zero.
const DefaultSMSValidity = 15 * time.Minute

// Client calls Twilio's REST API. It is safe for concurrent use.
type Client struct {
	accountSID string
	authToken  string
	from       string
	timeout    time.Duration
	download   time.Duration
	ring       time.Duration
	validity   time.Duration
	transport  http.RoundTripper // rewrite (if any) over the base transport
	secrets    []string          // values scrubbed from error text
}

var (
	accountSIDRe = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)
	alnumRe      = regexp.MustCompile(`^[A-Za-z0-9]+$`)
	e164Re       = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)
	messageSIDRe = regexp.MustCompile(`^(SM|MM)[0-9a-fA-F]{32}$`)
	recordingRe  = regexp.MustCompile(`^RE[0-9a-fA-F]{32}$`)
)

// New validates cfg and returns a Client. The error names every field that
// is wrong, never its value.
func New(cfg Config) (*Client, error) {
	var errs []error
	if !accountSIDRe.MatchString(cfg.AccountSID) {
		errs = append(errs, errors.New(`twilioapi: Config.AccountSID must be "AC" followed by 32 hex digits`))
	}
	if cfg.AuthToken == "" {
		errs = append(errs, errors.New("twilioapi: Config.AuthToken is empty"))
	} else if !alnumRe.MatchString(cfg.AuthToken) {
		// twilio-go refuses such tokens before sending anything.
		errs = append(errs, errors.New("twilioapi: Config.AuthToken must be letters and digits only"))
	}
	if !e164Re.MatchString(cfg.From) {
		errs = append(errs, errors.New("twilioapi: Config.From must be an E.164 number such as +994121234567"))
	}
	if cfg.Timeout < 0 {
		errs = append(errs, errors.New("twilioapi: Config.Timeout is negative"))
	}
	if cfg.RingTimeout != 0 && (cfg.RingTimeout < 5*time.Second || cfg.RingTimeout > 600*time.Second) {
		errs = append(errs, errors.New("twilioapi: Config.RingTimeout must be between 5s and 600s"))
	}
	if cfg.SMSValidity != 0 && (cfg.SMSValidity < time.Second || cfg.SMSValidity > 10*time.Hour) {
		errs = append(errs, errors.New("twilioapi: Config.SMSValidity must be between 1s and 10h"))
	}
	var base *url.URL
	if cfg.APIURL != "" {
		u, err := url.Parse(cfg.APIURL)
		switch {
		case err != nil:
			errs = append(errs, errors.New("twilioapi: Config.APIURL is not a URL"))
		case u.Scheme != "http" && u.Scheme != "https", u.Host == "", u.User != nil, u.RawQuery != "", u.Fragment != "":
			errs = append(errs, errors.New("twilioapi: Config.APIURL must be http(s)://host[:port][/prefix] without user, query or fragment"))
		default:
			base = u
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	rt := cfg.Transport
	if rt == nil {
		rt = http.DefaultTransport.(*http.Transport).Clone()
	}
	if base != nil {
		rt = &rewriteTransport{base: base, next: rt}
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	ring := cfg.RingTimeout
	if ring == 0 {
		ring = DefaultRingTimeout
	}
	validity := cfg.SMSValidity
	if validity == 0 {
		validity = DefaultSMSValidity
	}
	return &Client{
		accountSID: cfg.AccountSID,
		authToken:  cfg.AuthToken,
		from:       cfg.From,
		timeout:    timeout,
		download:   cmp.Or(cfg.DownloadTimeout, DefaultDownloadTimeout),
		ring:       ring,
		validity:   validity,
		transport:  rt,
		secrets:    []string{cfg.AccountSID, cfg.AuthToken, cfg.From},
	}, nil
}

// call is the state of one API call: its deadline and the status of the last
// HTTP response, which twilio-go loses when an error body is not JSON.
type call struct {
	ctx    context.Context
	next   http.RoundTripper
	status int
}

// RoundTrip puts the call's context on the request: twilio-go builds every
// request with context.Background, so this is how cancellation and the
// deadline reach the connection.
func (c *call) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req.WithContext(c.ctx))
	if resp != nil {
		c.status = resp.StatusCode
	}
	return resp, err
}

// begin starts a call bounded by the client's timeout and returns twilio-go's
// API service bound to it. twilio-go's BaseClient has no context parameter,
// so each call gets its own (cheap) client.Client whose transport carries the
// context; the connection pool underneath is shared.
func (c *Client) begin(ctx context.Context) (*call, *openapi.ApiService, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	cl := &call{ctx: ctx, next: c.transport}
	tc := &client.Client{
		Credentials: client.NewCredentials(c.accountSID, c.authToken),
		HTTPClient: &http.Client{
			Transport: cl,
			// As twilio-go's default client: never follow redirects.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	tc.SetAccountSid(c.accountSID)
	return cl, openapi.NewApiServiceWithClient(tc), cancel
}

// SendSMS sends body to the number to from Config.From and returns the new
// message's SID. An empty statusCallback asks for no status callbacks.
// Twilio drops the message if it cannot hand it on within
// Config.SMSValidity (ValidityPeriod).
//
// A retryable error after the request was written may mean that Twilio did
// accept the message: Twilio's Messages API has no idempotency key, so a
// retry can deliver the alert twice.
func (c *Client) SendSMS(ctx context.Context, to, body, statusCallback string) (string, error) {
	cl, api, cancel := c.begin(ctx)
	defer cancel()
	p := &openapi.CreateMessageParams{}
	p.SetTo(to).SetFrom(c.from).SetBody(body).SetValidityPeriod(int(c.validity / time.Second))
	if statusCallback != "" {
		p.SetStatusCallback(statusCallback)
	}
	m, err := api.CreateMessage(p)
	if err != nil {
		return "", c.wrap(cl, err, to, body)
	}
	if m.Sid == nil || *m.Sid == "" {
		return "", malformed(cl.status, "response has no message sid")
	}
	return *m.Sid, nil
}

// Call places a call to the number to from Config.From; Twilio fetches the
// call's TwiML from twimlURL with POST (and from the same URL again as
// FallbackUrl if the first fetch fails) and reports initiated, ringing,
// answered and completed to statusCallback with POST (none if empty). The
// call rings for Config.RingTimeout and uses answering-machine detection,
// so the TwiML request says (AnsweredBy) whether a person or a mailbox
// answered. It returns the call's SID. Retries have the same caveat as
// SendSMS.
func (c *Client) Call(ctx context.Context, to, twimlURL, statusCallback string) (string, error) {
	cl, api, cancel := c.begin(ctx)
	defer cancel()
	p := &openapi.CreateCallParams{}
	p.SetTo(to).SetFrom(c.from).SetUrl(twimlURL).SetMethod(http.MethodPost).
		SetFallbackUrl(twimlURL).SetFallbackMethod(http.MethodPost).
		SetTimeout(int(c.ring / time.Second)).SetMachineDetection("Enable")
	if statusCallback != "" {
		p.SetStatusCallback(statusCallback).
			SetStatusCallbackMethod(http.MethodPost).
			SetStatusCallbackEvent(append([]string(nil), callStatusEvents[:]...))
	}
	v, err := api.CreateCall(p)
	if err != nil {
		return "", c.wrap(cl, err, to)
	}
	if v.Sid == nil || *v.Sid == "" {
		return "", malformed(cl.status, "response has no call sid")
	}
	return *v.Sid, nil
}

// RedactMessage blanks the body of message sid at Twilio (Body=""), so the
// text does not live on in Twilio's logs. Repeating it is harmless.
func (c *Client) RedactMessage(ctx context.Context, sid string) error {
	if !messageSIDRe.MatchString(sid) {
		return fmt.Errorf("%w: message sid is not SM/MM followed by 32 hex digits", ErrInvalidArgument)
	}
	cl, api, cancel := c.begin(ctx)
	defer cancel()
	p := &openapi.UpdateMessageParams{}
	p.SetBody("")
	if _, err := api.UpdateMessage(sid, p); err != nil {
		return c.wrap(cl, err, sid)
	}
	return nil
}

// DeleteRecording deletes recording sid at Twilio. A recording that is
// already gone (404) counts as deleted, so a retry after a lost response
// succeeds.
func (c *Client) DeleteRecording(ctx context.Context, sid string) error {
	if !recordingRe.MatchString(sid) {
		return fmt.Errorf("%w: recording sid is not RE followed by 32 hex digits", ErrInvalidArgument)
	}
	cl, api, cancel := c.begin(ctx)
	defer cancel()
	if err := api.DeleteRecording(sid, nil); err != nil {
		err = c.wrap(cl, err, sid)
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
			return nil
		}
		return err
	}
	return nil
}

// ReconcileSkew is how far before since FindMessage and FindCall still
// accept a resource as the one an earlier try created, to allow for the
// difference between our clock and Twilio's.
const ReconcileSkew = 2 * time.Minute

// reconcilePage is how many of the newest matching resources are examined.
const reconcilePage = 50

// FindMessage reports whether Twilio holds a message from Config.From to the
// number to with exactly body, created no earlier than since (less
// ReconcileSkew), whose SID skip does not refuse, and returns the oldest
// such message's SID. The outbox asks it before resending an alert whose
// earlier try got no answer: Twilio's Messages API has no idempotency key,
// so this lookup is what keeps a retry from sending the alert twice; skip
// refuses SIDs another job already owns, so a retry never adopts another
// job's message. skip may be nil. Only the newest 50 messages to that
// number are examined.
func (c *Client) FindMessage(ctx context.Context, to, body string, since time.Time, skip func(sid string) bool) (string, bool, error) {
	cl, api, cancel := c.begin(ctx)
	defer cancel()
	p := &openapi.ListMessageParams{}
	p.SetTo(to).SetFrom(c.from).SetPageSize(reconcilePage)
	page, err := api.PageMessage(p, "", "")
	if err != nil {
		return "", false, c.wrap(cl, err, to, body)
	}
	for i := len(page.Messages) - 1; i >= 0; i-- { // oldest first
		m := page.Messages[i]
		if m.Sid == nil || m.Body == nil || *m.Body != body || !createdSince(m.DateCreated, since) || (skip != nil && skip(*m.Sid)) {
			continue
		}
		return *m.Sid, true, nil
	}
	return "", false, nil
}

// FindCall is FindMessage for calls: a call from Config.From to the number
// to created no earlier than since (less ReconcileSkew) whose SID skip does
// not refuse. Twilio's call resource does not show its TwiML URL, so a call
// cannot be matched by content: the caller must make sure that only one
// call to a number can be in doubt at a time, and skip every SID it knows.
func (c *Client) FindCall(ctx context.Context, to string, since time.Time, skip func(sid string) bool) (string, bool, error) {
	cl, api, cancel := c.begin(ctx)
	defer cancel()
	p := &openapi.ListCallParams{}
	p.SetTo(to).SetFrom(c.from).SetPageSize(reconcilePage)
	page, err := api.PageCall(p, "", "")
	if err != nil {
		return "", false, c.wrap(cl, err, to)
	}
	for i := len(page.Calls) - 1; i >= 0; i-- { // oldest first
		v := page.Calls[i]
		if v.Sid == nil || !createdSince(v.DateCreated, since) || (skip != nil && skip(*v.Sid)) {
			continue
		}
		return *v.Sid, true, nil
	}
	return "", false, nil
}

// createdSince parses Twilio's RFC 2822 date_created. A date that cannot be
// read does not match: resending an alert beats losing it.
func createdSince(date *string, since time.Time) bool {
	if date == nil {
		return false
	}
	t, err := time.Parse(time.RFC1123Z, *date)
	if err != nil {
		return false
	}
	return !t.Before(since.Add(-ReconcileSkew).Truncate(time.Second))
}

// FetchRecording downloads recording sid as WAV into memory and returns
// its bytes and content type (at most MaxRecordingBytes). The recording
// pipeline streams instead (OpenRecording); this is for small tools.
func (c *Client) FetchRecording(ctx context.Context, sid string) ([]byte, string, error) {
	media, err := c.OpenRecording(ctx, sid)
	if err != nil {
		return nil, "", err
	}
	defer media.Close()
	data, err := io.ReadAll(media)
	if err != nil {
		return nil, "", err
	}
	return data, media.ContentType, nil
}

// rewriteTransport sends every request for https://twilio.com or
// https://*.twilio.com to base instead, and refuses every other request, so a
// client pointed at a mock can never reach the real service or a third host.
type rewriteTransport struct {
	base *url.URL
	next http.RoundTripper
}

func (t *rewriteTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	host := strings.ToLower(req.URL.Hostname())
	if req.URL.Scheme != "https" || (host != "twilio.com" && !strings.HasSuffix(host, ".twilio.com")) {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, errRefused
	}
	r := req.Clone(req.Context())
	r.URL.Scheme = t.base.Scheme
	r.URL.Host = t.base.Host
	r.URL.Path = strings.TrimSuffix(t.base.Path, "/") + req.URL.Path
	r.URL.RawPath = ""
	r.Host = ""
	return t.next.RoundTrip(r)
}
