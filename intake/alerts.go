package intake

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/rs/zerolog/hlog"
	"github.com/twilio/twilio-go/twiml"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/dispatch"
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
	say := func(text string) twiml.Element { return &twiml.VoiceSay{Message: text, Language: "en-US"} }
	var verbs []twiml.Element
	answeredBy := form.Get("AnsweredBy")
	switch digits := form.Get("Digits"); {
	case prompt.Test && digits == "1":
		if _, err := h.Alerts.AcknowledgeByCall(r.Context(), jobID); err != nil {
			writeAppError(w, r, err)
			return
		}
		verbs = append(verbs, say("Thank you. The hotline can reach you on this phone. Goodbye."), &twiml.VoiceHangup{})
	case prompt.Test && !strings.HasPrefix(answeredBy, "machine") && answeredBy != "fax":
		text := "This is a test call from the hotline. No case is open. Press 1 to confirm you can hear it."
		gather := &twiml.VoiceGather{
			Input: "dtmf", NumDigits: "1", Timeout: "8", Method: http.MethodPost,
			Action:        r.URL.Path + "?job=" + jobID,
			InnerElements: []twiml.Element{say(text), say(text)},
		}
		verbs = append(verbs, gather, say("No key pressed. Goodbye."), &twiml.VoiceHangup{})
	case strings.HasPrefix(answeredBy, "machine") || answeredBy == "fax":
		// A mailbox is not an answer: hang up, and the call's
		// "completed" without a keypress moves the alert on at once.
		verbs = append(verbs, &twiml.VoiceHangup{})
	case digits == "1":
		res, err := h.Alerts.AcknowledgeByCall(r.Context(), jobID)
		if err != nil {
			writeAppError(w, r, err)
			return
		}
		msg := fmt.Sprintf("Alert %d acknowledged. Thank you. Open case %s in the console.", res.Alert.Number, spell(res.Alert.CaseCode))
		if res.Count > 1 {
			msg = fmt.Sprintf("%d alerts acknowledged. Thank you. Open them in the console.", res.Count)
		} else if !res.Changed {
			msg = fmt.Sprintf("Alert %d was already %s.", res.Alert.Number, res.Alert.State)
		}
		verbs = append(verbs, say(msg), &twiml.VoiceHangup{})
	case !prompt.Open:
		verbs = append(verbs, say(fmt.Sprintf("Hotline alert %d no longer needs you. Goodbye.", prompt.AlertNumber)), &twiml.VoiceHangup{})
	default:
		text := fmt.Sprintf("Hotline alert. Priority %s case %s. Press 1 to acknowledge.",
			strings.TrimPrefix(string(prompt.Priority), "P"), spell(prompt.CaseCode))
		if prompt.Count > 1 {
			text = fmt.Sprintf("%d new hotline alerts, the most urgent priority %s, case %s. Press 1 to acknowledge all of them.",
				prompt.Count, strings.TrimPrefix(string(prompt.Priority), "P"), spell(prompt.CaseCode))
		}
		gather := &twiml.VoiceGather{
			Input: "dtmf", NumDigits: "1", Timeout: "8", Method: http.MethodPost,
			Action:        r.URL.Path + "?job=" + jobID,
			InnerElements: []twiml.Element{say(text), say(text)},
		}
		verbs = append(verbs, gather, say("No key pressed. The alert stays open. Goodbye."), &twiml.VoiceHangup{})
	}
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

// spell separates characters so text-to-speech reads a code letter by letter.
func spell(code string) string { return strings.Join(strings.Split(code, ""), " ") }

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
