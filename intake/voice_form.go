package intake

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/hotline-az/hotline/config"
)

// voiceLeg says which side of a call a voice webhook is about: the
// caller's inbound call (To is a hotline number) or the officer's leg of
// a <Dial> (From is the hotline number, the caller ID we set).
type voiceLeg int

const (
	callerLeg voiceLeg = iota
	officerLeg
)

// voiceRequest is what the voice menu reads from a voice webhook, each
// field checked. From is the caller's number as SenderKey gives it ("" if
// withheld): it is sealed into the case and never logged.
type voiceRequest struct {
	CallSID string
	// Hotline is the hotline's number on this leg (To of the caller's
	// call, From of the officer's).
	Hotline        string
	From           string
	Digits         string
	CallStatus     string
	DialCallStatus string
	// CallDuration and RecordingDuration are seconds; -1 when absent.
	CallDuration      int
	RecordingDuration int
}

// digitsPattern is what a <Gather> of the menu can return: keypad keys.
// A reference is six; a caller may key more before "#" or the timeout,
// which is a wrong reference, not a refused request.
var digitsPattern = regexp.MustCompile(`^[0-9*#]{0,64}$`)

// callStatuses are the values of CallStatus Twilio documents.
var callStatuses = map[string]bool{
	"queued": true, "initiated": true, "ringing": true, "in-progress": true,
	"completed": true, "busy": true, "no-answer": true, "failed": true, "canceled": true,
}

// dialStatuses are the values of DialCallStatus Twilio documents.
var dialStatuses = map[string]bool{
	"completed": true, "answered": true, "busy": true, "no-answer": true, "failed": true, "canceled": true,
}

// parseVoiceForm checks the fields the voice menu relies on: a CallSid
// of Twilio's shape, the hotline's number on the right side of the leg,
// and keys, statuses and durations of the documented forms. Unknown
// extra fields are Twilio's to add and are ignored.
func parseVoiceForm(v *Verifier, form url.Values, leg voiceLeg) (voiceRequest, *rejection) {
	req := voiceRequest{CallDuration: -1, RecordingDuration: -1}
	if rej := callSID(form); rej != nil {
		return req, rej
	}
	req.CallSID = form.Get("CallSid")
	ours := "To"
	if leg == officerLeg {
		ours = "From"
	}
	n, rej := requireField(form, ours)
	if rej != nil {
		return req, rej
	}
	if !v.ourNumber(n) {
		return req, errWrongNumber
	}
	req.Hotline = n
	if leg == callerLeg {
		from := strings.TrimSpace(form.Get("From"))
		if len(from) > maxFieldLen {
			return req, badField("From", "is too long")
		}
		if !withheldNumber(from) {
			req.From = config.SenderKey(from)
		}
	}
	req.Digits = form.Get("Digits")
	if !digitsPattern.MatchString(req.Digits) {
		return req, badField("Digits", "is not keypad keys")
	}
	if req.CallStatus = form.Get("CallStatus"); req.CallStatus != "" && !callStatuses[req.CallStatus] {
		return req, badField("CallStatus", "is not a known Twilio status")
	}
	if req.DialCallStatus = form.Get("DialCallStatus"); req.DialCallStatus != "" && !dialStatuses[req.DialCallStatus] {
		return req, badField("DialCallStatus", "is not a known Twilio status")
	}
	for _, f := range []struct {
		name string
		dst  *int
	}{{"CallDuration", &req.CallDuration}, {"RecordingDuration", &req.RecordingDuration}} {
		raw := form.Get(f.name)
		if raw == "" {
			continue
		}
		d, err := strconv.Atoi(raw)
		if err != nil || d < 0 || d > 7*24*3600 {
			return req, badField(f.name, "is not a number of seconds")
		}
		*f.dst = d
	}
	return req, nil
}

// withheldNumbers are what Twilio sends as From when the caller hides
// their number (lower case): none of them names a caller.
var withheldNumbers = map[string]bool{
	"": true, "anonymous": true, "+266696687": true, "restricted": true,
	"unknown": true, "blocked": true, "unavailable": true, "private": true,
}

// withheldNumber reports whether from is a withheld caller ID rather than
// a number.
func withheldNumber(from string) bool { return withheldNumbers[strings.ToLower(from)] }
