package main

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/hotline-az/hotline/twiliotest"
)

// callStatuses are the values Twilio sends as CallStatus.
var callStatuses = []string{"queued", "ringing", "in-progress", "completed", "busy", "no-answer", "failed", "canceled"}

// dialStatuses are the values Twilio sends as DialCallStatus to a <Dial>'s action.
var dialStatuses = []string{"completed", "answered", "busy", "no-answer", "failed", "canceled"}

var (
	callSIDPattern = regexp.MustCompile(`^CA[0-9a-f]{32}$`)
	keysPattern    = regexp.MustCompile(`^[0-9*#]{1,16}$`)
)

const callExamples = `  # A caller rings the hotline (prints the CallSid on stderr and the TwiML):
  twilio-sim call --url http://127.0.0.1:8080/twilio/voice --from +994501234567
  # The call ends (the number's status callback), 95 seconds long:
  twilio-sim call --url http://127.0.0.1:8080/twilio/voice/status --sid CA0123456789abcdef0123456789abcdef --status completed --duration 95
`

// call builds the webhook of an inbound call: Twilio's request to the
// number's voice URL, or with --status a call status callback.
func (s *sim) call(args []string) (*http.Request, error) {
	var c common
	var from, to, sid, account, status string
	var duration int
	fs := s.newFlagSet("call", "call [flags]", callExamples)
	s.commonFlags(fs, &c)
	fs.StringVar(&from, "from", "", "caller's number, E.164, e.g. +994501234567 (required)")
	fs.StringVar(&to, "to", "", "hotline's Twilio number, E.164 (default: $"+envPhone+" or "+defaultTo+")")
	fs.StringVar(&sid, "sid", "", "CallSid, CA + 32 lowercase hex digits (default: a new random one)")
	fs.StringVar(&account, "account", "", "AccountSid (default: $"+envAccount+" or AC + 32 zeros)")
	fs.StringVar(&status, "status", "ringing", "CallStatus: "+strings.Join(callStatuses, ", "))
	fs.IntVar(&duration, "duration", -1, "CallDuration in seconds (sent with a final --status)")
	if err := s.parse(fs, args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, usagef("unexpected argument %q (call takes flags only)", fs.Arg(0))
	}
	if err := s.check(&c); err != nil {
		return nil, err
	}
	to, err := s.fromAndTo(from, to, "caller")
	if err != nil {
		return nil, err
	}
	if sid == "" {
		sid = newSID("CA")
	} else if !callSIDPattern.MatchString(sid) {
		return nil, usagef("--sid: %q is not a CallSid (CA + 32 hex digits)", sid)
	}
	if !contains(callStatuses, status) {
		return nil, usagef("--status: unknown value %q (want one of %s)", status, strings.Join(callStatuses, ", "))
	}
	if account, err = s.accountSID(account); err != nil {
		return nil, err
	}
	form := url.Values{
		"CallSid": {sid}, "AccountSid": {account}, "From": {from}, "To": {to},
		"CallStatus": {status}, "Direction": {"inbound"}, "ApiVersion": {apiVersion},
		"Caller": {from}, "Called": {to},
	}
	if duration >= 0 {
		form.Set("CallDuration", strconv.Itoa(duration))
	}
	s.stderrf("CallSid %s\n", sid)
	s.pretty = true
	return twiliotest.NewSignedRequest(c.token, c.url, c.signURL, form)
}

const digitsExamples = `  # The caller presses 3 (English) at the language menu: --url is the
  # <Gather action> the last TwiML gave.
  twilio-sim digits --url 'http://127.0.0.1:8080/twilio/voice/menu?step=language' --sid CA... 3
  # The caller presses nothing: post to the <Redirect> after the <Gather>.
  twilio-sim digits --url 'http://127.0.0.1:8080/twilio/voice/menu?step=language&timeout=1' --sid CA...
  # The officer's phone answers the <Dial> and hears the whisper (a new
  # CallSid: the officer's leg), then presses 1 to accept:
  twilio-sim digits --leg officer --url 'http://127.0.0.1:8080/twilio/voice/whisper?attempt=0&call=...' --sid CA...
  twilio-sim digits --leg officer --url 'http://127.0.0.1:8080/twilio/voice/whisper?attempt=0&call=...' --sid CA... 1
  # The <Dial> ends (its action), after the conversation or unanswered:
  twilio-sim digits --url 'http://127.0.0.1:8080/twilio/voice/dial?attempt=0&n=0' --sid CA... --dial-status completed
  # A <Record> ends (its action):
  twilio-sim digits --url http://127.0.0.1:8080/twilio/voice/recorded --sid CA... --recording-duration 42
`

// digits builds the request Twilio makes within a call: a <Gather>'s
// action with the keys pressed (none: a <Redirect> after a timeout), a
// <Dial>'s or <Record>'s action, or the officer leg's whisper.
func (s *sim) digits(args []string) (*http.Request, error) {
	var c common
	var from, to, sid, account, leg, dialStatus string
	var recDuration int
	fs := s.newFlagSet("digits", "digits [flags] [KEYS]", digitsExamples)
	s.commonFlags(fs, &c)
	fs.StringVar(&sid, "sid", "", "CallSid of the call (required; for --leg officer, the officer leg's: any new one)")
	fs.StringVar(&leg, "leg", "caller", "caller (the inbound call) or officer (the <Dial>ed officer's leg)")
	fs.StringVar(&from, "from", "", "caller's number, or with --leg officer the hotline's (default: "+defaultReporter+" / the hotline's)")
	fs.StringVar(&to, "to", "", "hotline's number, or with --leg officer the officer's (default: the hotline's / +15005550006)")
	fs.StringVar(&account, "account", "", "AccountSid (default: $"+envAccount+" or AC + 32 zeros)")
	fs.StringVar(&dialStatus, "dial-status", "", "DialCallStatus, for a <Dial> action: "+strings.Join(dialStatuses, ", "))
	fs.IntVar(&recDuration, "recording-duration", -1, "RecordingDuration in seconds, for a <Record> action")
	if err := s.parse(fs, args); err != nil {
		return nil, err
	}
	if fs.NArg() > 1 {
		return nil, usagef("unexpected argument %q (give the keys as one argument, e.g. 232967#)", fs.Arg(1))
	}
	keys := fs.Arg(0)
	if keys != "" && !keysPattern.MatchString(keys) {
		return nil, usagef("KEYS: %q is not keypad keys (0-9, * and #, at most 16)", keys)
	}
	if err := s.check(&c); err != nil {
		return nil, err
	}
	if !callSIDPattern.MatchString(sid) {
		return nil, usagef("--sid: required, a CallSid (CA + 32 hex digits), got %q", sid)
	}
	if dialStatus != "" && !contains(dialStatuses, dialStatus) {
		return nil, usagef("--dial-status: unknown value %q (want one of %s)", dialStatus, strings.Join(dialStatuses, ", "))
	}
	hotline, err := s.ourNumber("", "--to")
	if err != nil {
		return nil, err
	}
	switch leg {
	case "caller":
		if from == "" {
			from = defaultReporter
		}
		if to == "" {
			to = hotline
		}
	case "officer":
		if from == "" {
			from = hotline
		}
		if to == "" {
			to = "+15005550006"
		}
	default:
		return nil, usagef("--leg: unknown value %q (want caller or officer)", leg)
	}
	for name, v := range map[string]string{"--from": from, "--to": to} {
		if err := checkE164(v); err != nil {
			return nil, usagef("%s: %v", name, err)
		}
	}
	if account, err = s.accountSID(account); err != nil {
		return nil, err
	}
	form := url.Values{
		"CallSid": {sid}, "AccountSid": {account}, "From": {from}, "To": {to},
		"CallStatus": {"in-progress"}, "ApiVersion": {apiVersion},
	}
	if leg == "caller" {
		form.Set("Direction", "inbound")
	} else {
		form.Set("Direction", "outbound-dial")
	}
	if keys != "" {
		form.Set("Digits", keys)
	}
	if dialStatus != "" {
		form.Set("DialCallStatus", dialStatus)
	}
	if recDuration >= 0 {
		form.Set("RecordingDuration", strconv.Itoa(recDuration))
	}
	s.pretty = true
	return twiliotest.NewSignedRequest(c.token, c.url, c.signURL, form)
}

// indentXML lays a TwiML answer out one verb a line, so a person can read
// it; anything that is not XML is returned as it is.
func indentXML(body []byte) []byte {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(body); err != nil || doc.Root() == nil {
		return body
	}
	// Attributes in name order: twiml writes them in map order.
	var sortAll func(e *etree.Element)
	sortAll = func(e *etree.Element) {
		e.SortAttrs()
		for _, c := range e.ChildElements() {
			sortAll(c)
		}
	}
	sortAll(doc.Root())
	doc.Indent(2)
	out, err := doc.WriteToBytes()
	if err != nil {
		return body
	}
	return out
}

var recordingSIDPattern = regexp.MustCompile(`^RE[0-9a-f]{32}$`)

const recordingExamples = `  # The voicemail of a call is ready (after the <Record>'s action):
  twilio-sim recording --url http://127.0.0.1:8080/twilio/recording --call CA0123456789abcdef0123456789abcdef --duration 42
  # Replay the same RecordingSid to see the server drop the duplicate:
  twilio-sim recording --url http://127.0.0.1:8080/twilio/recording --call CA... --sid RE0123456789abcdef0123456789abcdef

The RecordingSid sent is printed on stderr. The hotline then fetches the
audio from Twilio's API; a 'hotline serve --dev' has no Twilio account, so
the recording stays queued there.
`

// recording builds the <Record>'s recordingStatusCallback: a completed
// recording of the call --call, ready to be fetched.
func (s *sim) recording(args []string) (*http.Request, error) {
	var c common
	var callSID, sid, account string
	var duration int
	fs := s.newFlagSet("recording", "recording [flags]", recordingExamples)
	s.commonFlags(fs, &c)
	fs.StringVar(&callSID, "call", "", "CallSid of the call that left the voicemail, CA + 32 lowercase hex digits (required)")
	fs.StringVar(&sid, "sid", "", "RecordingSid, RE + 32 lowercase hex digits; repeat one to test dedup\n(default: a new random one)")
	fs.StringVar(&account, "account", "", "AccountSid (default: $"+envAccount+" or AC + 32 zeros)")
	fs.IntVar(&duration, "duration", 30, "RecordingDuration in seconds")
	if err := s.parse(fs, args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, usagef("unexpected argument %q (recording takes flags only)", fs.Arg(0))
	}
	if err := s.check(&c); err != nil {
		return nil, err
	}
	if !callSIDPattern.MatchString(callSID) {
		return nil, usagef("--call: required, a CallSid (CA + 32 hex digits), got %q", callSID)
	}
	if sid == "" {
		sid = newSID("RE")
	} else if !recordingSIDPattern.MatchString(sid) {
		return nil, usagef("--sid: %q is not a RecordingSid (RE + 32 hex digits)", sid)
	}
	if duration < 0 {
		return nil, usagef("--duration: %d is not a number of seconds", duration)
	}
	account, err := s.accountSID(account)
	if err != nil {
		return nil, err
	}
	form := url.Values{
		"AccountSid": {account}, "CallSid": {callSID}, "RecordingSid": {sid},
		"RecordingUrl":       {"https://api.twilio.com/" + apiVersion + "/Accounts/" + account + "/Recordings/" + sid},
		"RecordingStatus":    {"completed"},
		"RecordingDuration":  {strconv.Itoa(duration)},
		"RecordingChannels":  {"1"},
		"RecordingSource":    {"RecordVerb"},
		"RecordingStartTime": {time.Now().UTC().Format(time.RFC1123Z)},
	}
	s.stderrf("RecordingSid %s\n", sid)
	return twiliotest.NewSignedRequest(c.token, c.url, c.signURL, form)
}
