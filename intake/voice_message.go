package intake

// The message: <Record> and, once it ends, the case reference.

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/twilio/twilio-go/twiml"

	"github.com/hotline-az/hotline/store"
)

// record asks for a message (after the prompts in before).
func (h *VoiceHandlers) record(w http.ResponseWriter, r *http.Request, req voiceRequest, note string, before []string) {
	up, err := h.update(r.Context(), req, func(c *store.VoiceCall) {
		c.Step = stepRecording
		c.Misses = 0
		c.Path = append(c.Path, note)
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	lang := langOr(up.Call.Lang, h.cfg.Voice.DefaultLang)
	if len(before) == 0 || before[len(before)-1] != "no_officer" {
		before = append(before, "record")
	}
	verbs := h.plays(lang, before...)
	verbs = append(verbs, &twiml.VoiceRecord{
		Action:                        h.url("/twilio/voice/recorded"),
		Method:                        http.MethodPost,
		MaxLength:                     strconv.Itoa(int(h.cfg.Voice.MaxMessage.Seconds())),
		FinishOnKey:                   "#",
		PlayBeep:                      "true",
		Timeout:                       "10",
		RecordingStatusCallback:       h.url("/twilio/recording"),
		RecordingStatusCallbackEvent:  "completed",
		RecordingStatusCallbackMethod: http.MethodPost,
	})
	// <Record> falls through here when the caller says nothing.
	verbs = append(verbs, h.plays(lang, "goodbye")...)
	verbs = append(verbs, &twiml.VoiceHangup{})
	h.write(w, r, verbs...)
}

// Recorded answers POST /twilio/voice/recorded, the <Record>'s action:
// the caller hears the case reference digit by digit and a safety line.
// The audio itself arrives at /twilio/recording.
func (h *VoiceHandlers) Recorded(w http.ResponseWriter, r *http.Request) {
	req, ok := h.read(w, r, callerLeg)
	if !ok {
		return
	}
	up, err := h.update(r.Context(), req, func(c *store.VoiceCall) {
		if c.Step == stepFinished {
			return
		}
		c.Step = stepFinished
		if req.RecordingDuration >= 0 {
			c.Path = append(c.Path, fmt.Sprintf("left a message (%d s)", req.RecordingDuration))
		} else {
			c.Path = append(c.Path, "left a message")
		}
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	lang := langOr(up.Call.Lang, h.cfg.Voice.DefaultLang)
	names := []string{"saved", "reference_is"}
	for _, d := range store.KeypadDigits(up.Call.CaseCode) {
		names = append(names, "digit_"+string(d))
	}
	names = append(names, "reference_is")
	for _, d := range store.KeypadDigits(up.Call.CaseCode) {
		names = append(names, "digit_"+string(d))
	}
	names = append(names, "safety")
	h.write(w, r, append(h.plays(lang, names...), &twiml.VoiceHangup{})...)
}
