// Command twilio-sim sends webhooks to a hotline server the way Twilio does:
// form-encoded POSTs signed with X-Twilio-Signature. It is a development tool
// for trying the server by hand without a Twilio account or a phone.
//
//	twilio-sim sms --url http://127.0.0.1:8080/twilio/sms --from +994501234567 "Salam, kömək edin"
//
// Run it with -h for every subcommand and flag.
package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/hotline-az/hotline/config"
	"github.com/hotline-az/hotline/twiliotest"
)

// Exit codes.
const (
	exitOK    = 0 // the server answered below 400
	exitFail  = 1 // the server answered 400 or above, or could not be reached
	exitUsage = 2 // bad command line; nothing was sent
)

// Defaults, the fake values of Twilio's documentation. The hotline number
// and account are the ones a `hotline serve --dev` without a Twilio
// account accepts webhooks for.
const (
	defaultTo       = config.DevPhoneNumber
	defaultAccount  = config.DevAccountSID
	defaultReporter = "+15558675310"
	apiVersion      = "2010-04-01"
	maxReplyBytes   = 1 << 20
)

// Environment variables read for defaults.
const (
	envToken   = "TWILIO_AUTH_TOKEN"
	envPhone   = "TWILIO_PHONE_NUMBER"
	envAccount = "TWILIO_ACCOUNT_SID"
)

// messageStatuses are the values Twilio sends as MessageStatus in a status
// callback for a message the hotline sent.
var messageStatuses = []string{"accepted", "queued", "sending", "sent", "delivered", "undelivered", "failed", "read"}

var (
	messageSIDPattern = regexp.MustCompile(`^(SM|MM)[0-9a-f]{32}$`) // as the hotline checks it
	accountSIDPattern = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)
)

const mainUsage = `twilio-sim sends webhooks to the hotline the way Twilio does: a form POST
signed with X-Twilio-Signature (HMAC-SHA1 of the public URL and the sorted
parameters, keyed by the auth token).

Usage:
  twilio-sim sms    [flags] TEXT...   inbound SMS from a reporter (TEXT "-" reads stdin)
  twilio-sim status [flags]           status callback for a message or call the hotline sent
  twilio-sim call   [flags]           inbound call (the voice URL), or its end (--status completed)
  twilio-sim digits [flags] [KEYS]    keys pressed in a call, or a <Dial>/<Record>/whisper request
  twilio-sim recording [flags]        a voicemail is ready (the <Record>'s recordingStatusCallback)
  twilio-sim raw    [flags]           any form body, signed as given

Run "twilio-sim COMMAND -h" for the flags of a command.

Examples:
  export TWILIO_AUTH_TOKEN=devtoken123
  twilio-sim sms --url http://127.0.0.1:8080/twilio/sms --from +994501234567 "Salam, kömək edin"
  echo "Помогите, у меня забрали паспорт" | twilio-sim sms --url http://127.0.0.1:8080/twilio/sms --from +79991234567 -
  twilio-sim status --url http://127.0.0.1:8080/twilio/status --sid SM0123456789abcdef0123456789abcdef --status undelivered --error-code 30003
  twilio-sim status --url 'http://127.0.0.1:8080/twilio/status?job=...' --sid CA0123456789abcdef0123456789abcdef --status no-answer
  twilio-sim raw --url http://127.0.0.1:8080/twilio/sms --form 'From=+994501234567&Body=hi'

The hotline checks the signature against its public_url, not the address it
is reached at. When they differ (a server behind a TLS proxy, reached here
through a tunnel or on its local port), sign for the public URL:
  twilio-sim sms --url http://127.0.0.1:8080/twilio/sms --sign-url https://hotline.example.az --from +994501234567 "hi"

It prints the HTTP status and the reply body on stdout. Exit status: 0 when
the server answered below 400, 1 when it answered 400 or above or could not be
reached, 2 for a bad command line (nothing sent).
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole command: it parses args, sends one webhook and returns the
// exit status.
func run(args []string, stdout, stderr io.Writer) int {
	s := &sim{
		stdin:  os.Stdin,
		stdout: stdout,
		stderr: stderr,
		getenv: os.Getenv,
		client: &http.Client{Timeout: 30 * time.Second},
	}
	return s.run(args)
}

// sim holds what the command reads and writes, so tests can replace it.
type sim struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	client         *http.Client
	// pretty indents a TwiML answer (the voice commands).
	pretty bool
}

func (s *sim) stderrf(format string, args ...any) { fmt.Fprintf(s.stderr, format, args...) }

// usageError is a bad command line. Its message names the flag at fault.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

func (s *sim) run(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(s.stderr, mainUsage)
		return exitUsage
	}
	var cmd func([]string) (*http.Request, error)
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(s.stdout, mainUsage)
		return exitOK
	case "sms":
		cmd = s.sms
	case "status":
		cmd = s.status
	case "raw":
		cmd = s.raw
	case "call":
		cmd = s.call
	case "digits":
		cmd = s.digits
	case "recording":
		cmd = s.recording
	default:
		fmt.Fprintf(s.stderr, "twilio-sim: unknown command %q (want sms, status, call, digits, recording or raw; -h for help)\n", args[0])
		return exitUsage
	}
	req, err := cmd(args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	var uerr *usageError
	if errors.As(err, &uerr) {
		fmt.Fprintf(s.stderr, "twilio-sim %s: %v\n", args[0], err)
		return exitUsage
	}
	if errors.Is(err, errReported) {
		return exitUsage
	}
	if err != nil {
		fmt.Fprintf(s.stderr, "twilio-sim %s: %v\n", args[0], err)
		return exitFail
	}
	return s.send(req)
}

// send posts req and prints the status line and the reply body on stdout.
func (s *sim) send(req *http.Request) int {
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	resp, err := s.client.Do(req)
	if err != nil {
		fmt.Fprintf(s.stderr, "twilio-sim: POST %s: %v\n", req.URL.Redacted(), err)
		return exitFail
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReplyBytes))
	fmt.Fprintf(s.stdout, "HTTP %s\n", resp.Status)
	if len(body) > 0 {
		if s.pretty {
			body = indentXML(body)
		}
		s.stdout.Write(body)
		if !bytes.HasSuffix(body, []byte("\n")) {
			fmt.Fprintln(s.stdout)
		}
	}
	if err != nil {
		fmt.Fprintf(s.stderr, "twilio-sim: reading reply: %v\n", err)
		return exitFail
	}
	if resp.StatusCode >= 400 {
		return exitFail
	}
	return exitOK
}

// common holds the flags every command has: where to send and how to sign.
type common struct {
	url, signURL, token string
}

func (s *sim) commonFlags(fs *flag.FlagSet, c *common) {
	fs.StringVar(&c.url, "url", "", "webhook URL to POST to, e.g. http://127.0.0.1:8080/twilio/sms (required)")
	fs.StringVar(&c.signURL, "sign-url", "", "the server's public_url, which it checks the signature against,\ne.g. https://hotline.example.az (the path and query of --url are added),\nor a full URL to sign exactly (default: --url)")
	fs.StringVar(&c.token, "token", "", "auth token to sign with (default: $"+envToken+")")
}

// check validates the common flags and fills in their defaults.
func (s *sim) check(c *common) error {
	if c.url == "" {
		return usagef("--url: required (the server's webhook URL, e.g. http://127.0.0.1:8080/twilio/sms)")
	}
	if err := checkURL(c.url); err != nil {
		return usagef("--url: %v", err)
	}
	if c.signURL == "" {
		c.signURL = c.url
	} else if err := checkURL(c.signURL); err != nil {
		return usagef("--sign-url: %v", err)
	} else if origin, _ := url.Parse(c.signURL); origin.Path == "" && origin.RawQuery == "" && !origin.ForceQuery {
		// A bare public_url: Twilio calls it plus the webhook's path.
		target, _ := url.Parse(c.url)
		c.signURL += target.RequestURI()
	}
	if c.token == "" {
		c.token = s.getenv(envToken)
	}
	if c.token == "" {
		return usagef("--token: required: pass --token or set %s", envToken)
	}
	return nil
}

func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("not a URL: %v", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http or https URL", raw)
	}
	return nil
}

// newFlagSet returns a flag set that reports errors instead of exiting and
// prints help (usage, then the flags, then examples) on -h.
func (s *sim) newFlagSet(name, synopsis, examples string) *flag.FlagSet {
	fs := flag.NewFlagSet("twilio-sim "+name, flag.ContinueOnError)
	fs.SetOutput(s.stderr)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "Usage: twilio-sim %s\n\nFlags (-flag and --flag are the same):\n", synopsis)
		fs.PrintDefaults()
		fmt.Fprintf(out, "\nExamples:\n%s", examples)
	}
	return fs
}

func (s *sim) parse(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	if err != nil {
		return errReported // flag has printed the error and the usage
	}
	return nil
}

// errReported is a usage error that has already been printed.
var errReported = errors.New("bad flags")

const smsExamples = `  twilio-sim sms --url http://127.0.0.1:8080/twilio/sms --token devtoken123 --from +994501234567 "Salam, kömək edin"
  echo "Help, they took my passport" | twilio-sim sms --url http://127.0.0.1:8080/twilio/sms --from +447700900123 -
  # Replay the same MessageSid to see the server drop the duplicate:
  twilio-sim sms --url http://127.0.0.1:8080/twilio/sms --from +994501234567 --sid SM0123456789abcdef0123456789abcdef "again"
  # Server behind a proxy, which checks signatures against its public_url:
  twilio-sim sms --url http://127.0.0.1:8080/twilio/sms --sign-url https://hotline.example.az --from +994501234567 "hi"

Flags go before the text. The MessageSid sent is printed on stderr.
`

// sms builds an inbound-SMS webhook.
func (s *sim) sms(args []string) (*http.Request, error) {
	var c common
	var from, to, sid, account string
	fs := s.newFlagSet("sms", "sms [flags] TEXT... | -", smsExamples)
	s.commonFlags(fs, &c)
	fs.StringVar(&from, "from", "", "reporter's number, E.164, e.g. +994501234567 (required)")
	fs.StringVar(&to, "to", "", "hotline's Twilio number, E.164 (default: $"+envPhone+" or "+defaultTo+")")
	fs.StringVar(&sid, "sid", "", "MessageSid to send, SM + 32 lowercase hex digits; repeat one to test dedup\n(default: a new random one)")
	fs.StringVar(&account, "account", "", "AccountSid, AC + 32 hex digits (default: $"+envAccount+" or AC + 32 zeros)")
	if err := s.parse(fs, args); err != nil {
		return nil, err
	}
	if err := s.check(&c); err != nil {
		return nil, err
	}
	to, err := s.fromAndTo(from, to, "reporter")
	if err != nil {
		return nil, err
	}
	if sid == "" {
		sid = newSID("SM")
	} else if !messageSIDPattern.MatchString(sid) {
		return nil, usagef("--sid: %q is not a MessageSid (SM + 32 hex digits)", sid)
	}
	if account, err = s.accountSID(account); err != nil {
		return nil, err
	}
	if err := flagAfterText(fs, args); err != nil {
		return nil, err
	}
	body, err := s.body(fs.Args())
	if err != nil {
		return nil, err
	}
	form := url.Values{
		"MessageSid":    {sid},
		"SmsSid":        {sid},
		"SmsMessageSid": {sid},
		"AccountSid":    {account},
		"From":          {from},
		"To":            {to},
		"Body":          {body},
		"NumMedia":      {"0"},
		"NumSegments":   {strconv.Itoa(numSegments(body))},
		"SmsStatus":     {"received"},
		"ApiVersion":    {apiVersion},
	}
	fmt.Fprintf(s.stderr, "MessageSid %s\n", sid)
	return twiliotest.NewSignedRequest(c.token, c.url, c.signURL, form)
}

// flagAfterText refuses a flag of fs given after the message text: the
// flag package stops at the first non-flag, so "8a --sid SM..." would
// otherwise be sent as the text. After a "--" everything is text.
func flagAfterText(fs *flag.FlagSet, args []string) error {
	rest := fs.Args()
	if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
		return nil
	}
	for _, a := range rest {
		name, ok := strings.CutPrefix(a, "--")
		if !ok {
			continue
		}
		name, _, _ = strings.Cut(name, "=")
		if fs.Lookup(name) != nil {
			return usagef("%s after the message text: flags go before the text (nothing sent; to send it as text, put -- before the text)", "--"+name)
		}
	}
	return nil
}

// body is the message text: the arguments joined by spaces, or stdin when the
// only argument is "-".
func (s *sim) body(args []string) (string, error) {
	if len(args) == 0 {
		return "", usagef("message text: required (give it after the flags, or - to read it from stdin)")
	}
	if len(args) == 1 && args[0] == "-" {
		b, err := io.ReadAll(io.LimitReader(s.stdin, 64<<10))
		if err != nil {
			return "", fmt.Errorf("reading stdin: %w", err)
		}
		text := strings.TrimSuffix(string(b), "\n")
		return strings.TrimSuffix(text, "\r"), nil
	}
	return strings.Join(args, " "), nil
}

// ourNumber is the hotline's Twilio number from the flag, the environment or
// the default, checked to be E.164.
func (s *sim) ourNumber(v, flagName string) (string, error) {
	source := flagName
	if v == "" {
		v, source = s.getenv(envPhone), envPhone+" (the default for "+flagName+")"
	}
	if v == "" {
		return defaultTo, nil
	}
	if err := checkE164(v); err != nil {
		return "", usagef("%s: %v", source, err)
	}
	return v, nil
}

func (s *sim) accountSID(v string) (string, error) {
	source := "--account"
	if v == "" {
		v, source = s.getenv(envAccount), envAccount+" (the default for --account)"
	}
	if v == "" {
		return defaultAccount, nil
	}
	if !accountSIDPattern.MatchString(v) {
		return "", usagef("%s: %q is not an AccountSid (AC + 32 hex digits)", source, v)
	}
	return v, nil
}

// fromAndTo checks --from (the number of the caller or reporter, named by who
// in the error) and returns --to resolved to one of the hotline's numbers.
func (s *sim) fromAndTo(from, to, who string) (string, error) {
	if from == "" {
		return "", usagef("--from: required (the %s's number in E.164, e.g. +994501234567)", who)
	}
	if err := checkE164(from); err != nil {
		return "", usagef("--from: %v", err)
	}
	return s.ourNumber(to, "--to")
}

// checkE164 accepts a number written in E.164 (+, country code, number, no
// spaces). It does not ask whether the number is assigned: the fictional
// numbers of Twilio's documentation are fine.
func checkE164(v string) error {
	n, err := phonenumbers.Parse(v, "")
	if err != nil || !strings.HasPrefix(v, "+") || phonenumbers.Format(n, phonenumbers.E164) != v {
		return fmt.Errorf("%q is not an E.164 number (like +994501234567)", v)
	}
	return nil
}

// newSID returns prefix followed by 32 random lowercase hex digits, the shape
// of Twilio's SIDs.
func newSID(prefix string) string {
	var b [16]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

const statusExamples = `  twilio-sim status --url http://127.0.0.1:8080/twilio/status --sid SM0123456789abcdef0123456789abcdef --status delivered
  twilio-sim status --url http://127.0.0.1:8080/twilio/status --sid SM0123456789abcdef0123456789abcdef --status undelivered --error-code 30003
  # An alert the hotline sent: hotline serve --dev prints each SMS and
  # call with its sid and status callback URL (quote the URL: it has ?job=).
  twilio-sim status --url 'http://127.0.0.1:8080/twilio/status?job=...' --sid SM... --to +994500000001 --status undelivered --error-code 30003
  twilio-sim status --url 'http://127.0.0.1:8080/twilio/status?job=...' --sid CA... --to +994500000001 --status no-answer
`

// status builds a status callback for a message (SM/MM sid) or a call (CA
// sid) the hotline sent: From is the hotline's number, To the recipient's.
func (s *sim) status(args []string) (*http.Request, error) {
	var c common
	var sid, status, errorCode, from, to, account string
	fs := s.newFlagSet("status", "status [flags]", statusExamples)
	s.commonFlags(fs, &c)
	fs.StringVar(&sid, "sid", "", "MessageSid or CallSid of the message or call the hotline sent (required)")
	fs.StringVar(&status, "status", "", "MessageStatus: "+strings.Join(messageStatuses, ", ")+";\nfor a call, CallStatus: "+strings.Join(callStatuses, ", ")+" (required)")
	fs.StringVar(&errorCode, "error-code", "", "Twilio ErrorCode, e.g. 30003 (Unreachable destination handset)")
	fs.StringVar(&from, "from", "", "hotline's Twilio number the message went out from\n(default: $"+envPhone+" or "+defaultTo+")")
	fs.StringVar(&to, "to", defaultReporter, "number the message or call went to, E.164")
	fs.StringVar(&account, "account", "", "AccountSid (default: $"+envAccount+" or AC + 32 zeros)")
	if err := s.parse(fs, args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, usagef("unexpected argument %q (status takes flags only)", fs.Arg(0))
	}
	if err := s.check(&c); err != nil {
		return nil, err
	}
	if sid == "" {
		return nil, usagef("--sid: required (the MessageSid or CallSid whose status changed)")
	}
	call := callSIDPattern.MatchString(sid)
	if !call && !messageSIDPattern.MatchString(sid) {
		return nil, usagef("--sid: %q is neither a MessageSid (SM + 32 hex digits) nor a CallSid (CA + 32 hex digits)", sid)
	}
	statuses := messageStatuses
	if call {
		statuses = callStatuses
	}
	if status == "" {
		return nil, usagef("--status: required (one of %s)", strings.Join(statuses, ", "))
	}
	if !contains(statuses, status) {
		return nil, usagef("--status: unknown value %q for a %s (want one of %s)", status, map[bool]string{true: "call", false: "message"}[call], strings.Join(statuses, ", "))
	}
	if errorCode != "" {
		if _, err := strconv.ParseUint(errorCode, 10, 32); err != nil {
			return nil, usagef("--error-code: %q is not a number", errorCode)
		}
	}
	from, err := s.ourNumber(from, "--from")
	if err != nil {
		return nil, err
	}
	if err := checkE164(to); err != nil {
		return nil, usagef("--to: %v", err)
	}
	if account, err = s.accountSID(account); err != nil {
		return nil, err
	}
	form := url.Values{
		"MessageSid":    {sid},
		"SmsSid":        {sid},
		"MessageStatus": {status},
		"SmsStatus":     {status},
		"AccountSid":    {account},
		"From":          {from},
		"To":            {to},
		"ApiVersion":    {apiVersion},
	}
	if call {
		form = url.Values{"CallSid": {sid}, "CallStatus": {status}, "AccountSid": {account},
			"From": {from}, "To": {to}, "ApiVersion": {apiVersion}, "Direction": {"outbound-api"}}
	}
	if errorCode != "" {
		form.Set("ErrorCode", errorCode)
	}
	if status == "delivered" {
		form.Set("RawDlrDoneDate", time.Now().UTC().Format("0601021504"))
	}
	return twiliotest.NewSignedRequest(c.token, c.url, c.signURL, form)
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

const rawExamples = `  twilio-sim raw --url http://127.0.0.1:8080/twilio/sms --form 'From=+994501234567&To=+15017122661&Body=hi'
  # A form without a MessageSid, to see how the server rejects it:
  twilio-sim raw --url http://127.0.0.1:8080/twilio/sms --form 'Body=no+sid'
  # A request with no signature at all, or signed with the wrong token:
  twilio-sim raw --url http://127.0.0.1:8080/twilio/sms --form 'Body=x' --unsigned
  twilio-sim raw --url http://127.0.0.1:8080/twilio/sms --form 'Body=x' --token wrongtoken

The body is sent byte for byte as given (so encode + and & yourself); the
signature covers the parameters it decodes to, as Twilio's would.
`

// raw builds a POST of the form exactly as given, signed over its decoded
// parameters.
func (s *sim) raw(args []string) (*http.Request, error) {
	var c common
	var form string
	var unsigned bool
	fs := s.newFlagSet("raw", "raw [flags]", rawExamples)
	s.commonFlags(fs, &c)
	fs.StringVar(&form, "form", "", "form body, k=v&k=v, URL-encoded (required)")
	fs.BoolVar(&unsigned, "unsigned", false, "send no X-Twilio-Signature header (--token is then not needed)")
	if err := s.parse(fs, args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, usagef("unexpected argument %q (raw takes flags only; quote --form)", fs.Arg(0))
	}
	if unsigned && c.token == "" {
		c.token = "unused"
	}
	if err := s.check(&c); err != nil {
		return nil, err
	}
	if form == "" {
		return nil, usagef("--form: required (a URL-encoded body such as 'From=%%2B994501234567&Body=hi')")
	}
	values, err := url.ParseQuery(form)
	if err != nil {
		return nil, usagef("--form: %v", err)
	}
	req, err := http.NewRequest(http.MethodPost, c.url, strings.NewReader(form))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if !unsigned {
		req.Header.Set("X-Twilio-Signature", twiliotest.Signature(c.token, c.signURL, values))
	}
	return req, nil
}
