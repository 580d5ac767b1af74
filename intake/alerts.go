package intake

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/rs/zerolog/hlog"
	"github.com/twilio/twilio-go/twiml"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/dispatch"
	"github.com/hotline-az/hotline/store"
)

// Alerts is what the alert webhooks need from dispatch.
type Alerts interface {
	Status(ctx context.Context, jobID, sid, status string, errorCode int) error
	CallPrompt(jobID string) (dispatch.CallPrompt, error)
	AcknowledgeByCall(ctx context.Context, jobID string) (dispatch.AckResult, error)
}

// AlertHandlers serves Twilio's callbacks about our own alerts: delivery
// status (POST /twilio/status) and the alert call's TwiML and key press
// (POST /twilio/alert-call). Both find their alert through the opaque job
// id in the URL; all state stays in our store.
type AlertHandlers struct {
	Verifier *Verifier
	Alerts   Alerts
	// DefaultLang is the alert call's language for an officer who has
	// none ([voice] officer_lang); English when empty.
	DefaultLang hotline.Lang
}

// readJobCallback reads a signed callback about one of our outbox jobs,
// named by the opaque job id in the URL.
func (h *AlertHandlers) readJobCallback(w http.ResponseWriter, r *http.Request) (url.Values, string, *rejection) {
	form, rej := h.Verifier.readSignedForm(w, r)
	if rej != nil {
		return nil, "", rej
	}
	jobID := r.URL.Query().Get("job")
	if jobID == "" || len(jobID) > maxFieldLen {
		return nil, "", badField("job", "query parameter is required")
	}
	return form, jobID, nil
}

// Status handles message and call status callbacks.
func (h *AlertHandlers) Status(w http.ResponseWriter, r *http.Request) {
	form, jobID, rej := h.readJobCallback(w, r)
	if rej != nil {
		h.Verifier.reject(w, r, rej)
		return
	}
	sid, status, rej := deliveryStatus(form)
	if rej != nil {
		h.Verifier.reject(w, r, rej)
		return
	}
	code := 0
	if v := form.Get("ErrorCode"); v != "" {
		var err error
		if code, err = strconv.Atoi(v); err != nil {
			h.Verifier.reject(w, r, badField("ErrorCode", "is not a number"))
			return
		}
	}
	if err := h.Alerts.Status(r.Context(), jobID, sid, status, code); err != nil {
		writeAppError(w, r, err)
		return
	}
	hlog.FromRequest(r).Info().Str("job", jobID).Str("status", status).Int("error_code", code).Msg("delivery status")
	w.WriteHeader(http.StatusNoContent)
}

// AlertCall answers the alert call: it says the priority and case code
// and gathers one key; 1 acknowledges.
func (h *AlertHandlers) AlertCall(w http.ResponseWriter, r *http.Request) {
	log := hlog.FromRequest(r)
	form, jobID, rej := h.readJobCallback(w, r)
	if rej == nil {
		rej = callSID(form)
	}
	if rej != nil {
		h.Verifier.reject(w, r, rej)
		return
	}
	prompt, err := h.Alerts.CallPrompt(jobID)
	if err != nil {
		writeAppError(w, r, err)
		return
	}
	// Twilio's <Say> has no Azerbaijani voice: the call plays the
	// embedded prompts (GET /prompts/...) in the officer's language.
	lang := prompt.Lang
	if !lang.Valid() {
		lang = h.DefaultLang
	}
	if !lang.Valid() {
		lang = hotline.LangEn
	}
	var names []string
	var verbs []twiml.Element
	answeredBy := form.Get("AnsweredBy")
	switch digits := form.Get("Digits"); {
	case prompt.Test && digits == "1":
		if _, err := h.Alerts.AcknowledgeByCall(r.Context(), jobID); err != nil {
			writeAppError(w, r, err)
			return
		}
		names = append(names, "test_ok")
	case prompt.Test && !strings.HasPrefix(answeredBy, "machine") && answeredBy != "fax":
		verbs = append(verbs, h.gatherOne(r, jobID, append(h.plays(lang, []string{"test_call"}), h.plays(lang, []string{"test_call"})...)))
		names = append(names, "test_no_key")
	case strings.HasPrefix(answeredBy, "machine") || answeredBy == "fax":
		// A mailbox is not an answer: hang up, and the call's
		// "completed" without a keypress moves the alert on at once.
	case digits == "1":
		res, err := h.Alerts.AcknowledgeByCall(r.Context(), jobID)
		if err != nil {
			writeAppError(w, r, err)
			return
		}
		switch {
		case res.Count > 1:
			names = append(names, "alert_acknowledged_many")
			names = append(names, numberPrompts(res.Count)...)
			names = append(names, "alert_open_console")
		case res.Changed:
			names = append(names, "alert_number")
			names = append(names, numberPrompts(res.Alert.Number)...)
			names = append(names, "alert_acknowledged", "alert_open_case")
			names = append(names, codePrompts(res.Alert.CaseCode)...)
		default:
			names = append(names, "alert_number")
			names = append(names, numberPrompts(res.Alert.Number)...)
			names = append(names, settledPrompt(res.Alert.State))
		}
	case !prompt.Open:
		names = append(names, "alert_number")
		names = append(names, numberPrompts(prompt.AlertNumber)...)
		names = append(names, "alert_not_needed")
	default:
		var said []string
		if prompt.Count > 1 {
			said = append(said, "alert_many")
			said = append(said, numberPrompts(prompt.Count)...)
			said = append(said, "alert_most_urgent")
		} else {
			said = append(said, "alert_intro")
		}
		said = append(said, "alert_priority")
		said = append(said, codePrompts(strings.TrimPrefix(string(prompt.Priority), "P"))...)
		said = append(said, "alert_case")
		said = append(said, codePrompts(prompt.CaseCode)...)
		if prompt.Count > 1 {
			said = append(said, "alert_press_all")
		} else {
			said = append(said, "alert_press")
		}
		// Said twice: the first time may be lost while the phone
		// reaches the officer's ear.
		verbs = append(verbs, h.gatherOne(r, jobID, append(h.plays(lang, said), h.plays(lang, said)...)))
		names = append(names, "alert_no_key")
	}
	verbs = append(verbs, h.plays(lang, names)...)
	verbs = append(verbs, &twiml.VoiceHangup{})
	doc, err := twiml.Voice(verbs)
	if err != nil {
		log.Error().Err(err).Msg("build twiml")
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	writeTwiML(w, log, doc)
}

// deliveryStatus returns the SID and status of a message or call status
// callback, each checked: a MessageSid with a MessageStatus, or a CallSid
// with a CallStatus.
func deliveryStatus(form url.Values) (sid, status string, rej *rejection) {
	if status = form.Get("MessageStatus"); status != "" {
		sid = form.Get("MessageSid")
		if sid == "" {
			return "", "", badField("MessageSid", "is required")
		}
		if !messageSIDPattern.MatchString(sid) {
			return "", "", badSID("MessageSid", "SM or MM followed by 32 hex digits")
		}
	} else if status = form.Get("CallStatus"); status != "" {
		if rej = callSID(form); rej != nil {
			return "", "", rej
		}
		sid = form.Get("CallSid")
	} else {
		return "", "", badField("MessageStatus or CallStatus", "is required")
	}
	if !dispatch.KnownStatus(status) {
		return "", "", badField("status", "is not a known Twilio status")
	}
	return sid, status, nil
}

// callSID checks the CallSid every voice request carries.
func callSID(form url.Values) *rejection {
	sid := form.Get("CallSid")
	if sid == "" {
		return badField("CallSid", "is required")
	}
	if !callSIDPattern.MatchString(sid) {
		return badSID("CallSid", "CA followed by 32 hex digits")
	}
	return nil
}

// gatherOne waits for one key while inner plays, posting it back to this
// call's URL.
func (h *AlertHandlers) gatherOne(r *http.Request, jobID string, inner []twiml.Element) twiml.Element {
	return &twiml.VoiceGather{
		Input: "dtmf", NumDigits: "1", Timeout: "8", Method: http.MethodPost,
		Action:        h.Verifier.publicURL + r.URL.Path + "?job=" + url.QueryEscape(jobID),
		InnerElements: inner,
	}
}

// plays turns prompt names into <Play> verbs of their public URLs.
func (h *AlertHandlers) plays(lang hotline.Lang, names []string) []twiml.Element {
	out := make([]twiml.Element, 0, len(names))
	for _, n := range names {
		out = append(out, &twiml.VoicePlay{Url: h.Verifier.publicURL + "/prompts/" + string(lang) + "/" + n + ".wav"})
	}
	return out
}

// numberPrompts reads n digit by digit ("1", "2" for 12): alert numbers
// and counts are short, and ten digit prompts serve every language.
func numberPrompts(n int) []string {
	var out []string
	for _, d := range strconv.Itoa(n) {
		if d >= '0' && d <= '9' {
			out = append(out, "digit_"+string(d))
		}
	}
	return out
}

// codePrompts reads a case code character by character: digit_n for a
// digit, letter_x for a letter. A character outside store.CodeAlphabet
// has no prompt and is skipped rather than played as a missing file.
func codePrompts(code string) []string {
	var out []string
	for _, c := range strings.ToUpper(code) {
		switch {
		case c >= '0' && c <= '9':
			out = append(out, "digit_"+string(c))
		case strings.ContainsRune(store.CodeAlphabet, c):
			out = append(out, "letter_"+strings.ToLower(string(c)))
		}
	}
	return out
}

// settledPrompt says why an alert needed no acknowledging.
func settledPrompt(state hotline.AlertState) string {
	switch state {
	case hotline.AlertAcknowledged:
		return "alert_already_acknowledged"
	case hotline.AlertSuperseded:
		return "alert_superseded"
	}
	return "alert_already_closed"
}

// alertPromptNames are the prompts the alert call plays, besides the
// digits: every language must have them (a test checks).
var alertPromptNames = []string{
	"alert_intro", "alert_many", "alert_most_urgent", "alert_priority", "alert_case", "alert_press", "alert_press_all",
	"alert_number", "alert_acknowledged", "alert_open_case", "alert_acknowledged_many", "alert_open_console",
	"alert_already_acknowledged", "alert_already_closed", "alert_superseded", "alert_not_needed", "alert_no_key",
	"test_call", "test_ok", "test_no_key",
}

// writeAppError maps a domain error to a status with a safe message.
func writeAppError(w http.ResponseWriter, r *http.Request, err error) {
	var he *hotline.Error
	status := http.StatusInternalServerError
	msg := "internal error"
	if errors.As(err, &he) {
		msg = he.Message
		switch he.Code {
		case hotline.ENOTFOUND:
			status = http.StatusNotFound
		case hotline.EINVALID:
			status = http.StatusBadRequest
		case hotline.EFORBIDDEN:
			status = http.StatusForbidden
		case hotline.ECONFLICT:
			status = http.StatusConflict
		}
	}
	ev := hlog.FromRequest(r).Warn()
	if status == http.StatusInternalServerError {
		ev = hlog.FromRequest(r).Error()
	}
	ev.Err(err).Int("status", status).Msg("request failed")
	http.Error(w, msg, status)
}
