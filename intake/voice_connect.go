package intake

// The connection to an officer: the <Dial> with the hotline number as
// caller ID, the whisper on the officer's leg, and what happens when a
// try ends.

import (
	"net/http"
	"strconv"

	"github.com/rs/zerolog/hlog"
	"github.com/twilio/twilio-go/twiml"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/store"
)

// danger makes the case P1 through the SMS path's hook, so the alert
// goes out exactly as for a P1 text, then rings the officers.
func (h *VoiceHandlers) danger(w http.ResponseWriter, r *http.Request, req voiceRequest) {
	log := hlog.FromRequest(r)
	up, err := h.cfg.Store.UpdateCall(r.Context(), req.CallSID, func(c *store.VoiceCall) error {
		if !c.Danger {
			c.Danger = true
			c.Path = append(c.Path, "pressed 9: in danger now")
		}
		return nil
	}, h.cfg.OnInbound)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if up.Raised && h.cfg.AfterStore != nil {
		h.cfg.AfterStore()
	}
	if up.AlertPending {
		log.Error().Err(up.AlertError).Str("case", up.Call.CaseCode).
			Msg("could not open the alert: the call's case is stored P1 and the alert worker retries until it opens")
	}
	log.Info().Str("case", up.Call.CaseCode).Str("priority", string(up.Case.Priority)).Msg("voice caller in danger")
	h.dialNext(w, r, req, up.Call, 0, []string{"danger", "connecting"})
}

// connect starts ringing the officers.
func (h *VoiceHandlers) connect(w http.ResponseWriter, r *http.Request, req voiceRequest, note string) {
	up, err := h.update(r.Context(), req, func(c *store.VoiceCall) { c.Path = append(c.Path, note) })
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.dialNext(w, r, req, up.Call, 0, []string{"connecting"})
}

// dialNext rings officer n (0: on duty, then the backup) with the
// hotline number as caller ID and the whisper on the officer's leg, or,
// with nobody left, offers the caller a message.
func (h *VoiceHandlers) dialNext(w http.ResponseWriter, r *http.Request, req voiceRequest, call store.VoiceCall, n int, before []string) {
	targets, err := h.cfg.Officers.VoiceTargets()
	if err != nil {
		// Nobody to ring is still a caller to hear: take a message.
		hlog.FromRequest(r).Error().Err(err).Msg("voice: could not read whom to ring; offering a message")
		targets = nil
	}
	if n >= len(targets) {
		note := "no officer answered: offered a message"
		if len(targets) == 0 {
			note = "no officer to ring: offered a message"
		}
		h.record(w, r, req, note, append(before, "no_officer"))
		return
	}
	t := targets[n]
	up, err := h.update(r.Context(), req, func(c *store.VoiceCall) {
		c.Step = stepConnecting
		c.Attempts = append(c.Attempts, store.DialAttempt{OfficerID: t.OfficerID, Role: t.Role, At: h.cfg.Store.Now(), Outcome: "ringing"})
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	attempt := len(up.Call.Attempts) - 1
	lang := langOr(up.Call.Lang, h.cfg.Voice.DefaultLang)
	verbs := h.plays(lang, before...)
	verbs = append(verbs, &twiml.VoiceDial{
		CallerId: req.Hotline, // the number the caller dialled: the officer never sees the caller's
		Timeout:  strconv.Itoa(int(h.cfg.Voice.RingTimeout.Seconds())),
		Action:   h.url("/twilio/voice/dial", "n", strconv.Itoa(n), "attempt", strconv.Itoa(attempt)),
		Method:   http.MethodPost,
		InnerElements: []twiml.Element{&twiml.VoiceNumber{
			PhoneNumber: t.Phone,
			Url:         h.url("/twilio/voice/whisper", "call", h.cfg.Store.CallRef(req.CallSID), "attempt", strconv.Itoa(attempt)),
			Method:      http.MethodPost,
		}},
	})
	h.write(w, r, verbs...)
}

// Dial answers POST /twilio/voice/dial, the <Dial>'s action once the try
// ended: after a conversation the call is done; otherwise the try's
// outcome is recorded and the next officer rings.
func (h *VoiceHandlers) Dial(w http.ResponseWriter, r *http.Request) {
	req, ok := h.read(w, r, callerLeg)
	if !ok {
		return
	}
	n, err1 := strconv.Atoi(r.URL.Query().Get("n"))
	attempt, err2 := strconv.Atoi(r.URL.Query().Get("attempt"))
	if err1 != nil || err2 != nil || n < 0 || attempt < 0 || n > 10 {
		h.cfg.Verifier.reject(w, r, badField("n or attempt", "query parameter is not a small number"))
		return
	}
	accepted := false
	up, err := h.update(r.Context(), req, func(c *store.VoiceCall) {
		if attempt >= len(c.Attempts) {
			return
		}
		a := &c.Attempts[attempt]
		who := "officer " + a.OfficerID + " (" + a.Role + ")"
		switch {
		case a.Outcome == "accepted":
			accepted = true
			c.Step = stepConnected
			c.Path = append(c.Path, who+" spoke with the caller")
		default:
			a.Outcome = req.DialCallStatus
			if a.Outcome == "" || a.Outcome == "completed" || a.Outcome == "answered" {
				a.Outcome = "not accepted"
			}
			c.Path = append(c.Path, who+": "+a.Outcome)
		}
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if accepted || req.CallStatus == "completed" {
		// After a conversation, or when the caller hung up while it rang
		// (Twilio still reports the <Dial>): nobody else is rung.
		h.write(w, r, append(h.plays(langOr(up.Call.Lang, h.cfg.Voice.DefaultLang), "goodbye"), &twiml.VoiceHangup{})...)
		return
	}
	h.dialNext(w, r, req, up.Call, n+1, nil)
}

// Whisper answers POST /twilio/voice/whisper on the officer's leg before
// the caller is put through: "Hotline call, press 1 to accept". Only the
// keypress connects; an answering machine or a silent pickup hangs up,
// so the <Dial> ends unaccepted and the next officer rings.
func (h *VoiceHandlers) Whisper(w http.ResponseWriter, r *http.Request) {
	req, ok := h.read(w, r, officerLeg)
	if !ok {
		return
	}
	q := r.URL.Query()
	ref := q.Get("call")
	attempt, err := strconv.Atoi(q.Get("attempt"))
	if ref == "" || len(ref) > maxFieldLen || err != nil || attempt < 0 {
		h.cfg.Verifier.reject(w, r, badField("call or attempt", "query parameter is missing or malformed"))
		return
	}
	lang := hotline.Lang(h.cfg.Voice.OfficerLang)
	if req.Digits == "" {
		gather := &twiml.VoiceGather{
			Input: "dtmf", NumDigits: "1", Timeout: "8", Method: http.MethodPost,
			Action:        h.url("/twilio/voice/whisper", "call", ref, "attempt", strconv.Itoa(attempt)),
			InnerElements: h.plays(lang, "whisper", "whisper"),
		}
		h.write(w, r, gather, &twiml.VoiceHangup{})
		return
	}
	if req.Digits != "1" {
		h.write(w, r, &twiml.VoiceHangup{})
		return
	}
	up, err := h.cfg.Store.UpdateCallByRef(r.Context(), ref, func(c *store.VoiceCall) error {
		if attempt < len(c.Attempts) && c.Attempts[attempt].Outcome == "ringing" {
			c.Attempts[attempt].Outcome = "accepted"
			c.Step = stepConnected
			c.Path = append(c.Path, "officer "+c.Attempts[attempt].OfficerID+" ("+c.Attempts[attempt].Role+") accepted")
		}
		return nil
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if attempt >= len(up.Call.Attempts) || up.Call.Attempts[attempt].Outcome != "accepted" {
		// The caller hung up or the try already ended: nothing to join.
		h.write(w, r, &twiml.VoiceHangup{})
		return
	}
	log := hlog.FromRequest(r)
	log.Info().Str("case", up.Call.CaseCode).Msg("officer accepted a voice call")
	// The officer has the caller: their alert (a 9) needs no more pages.
	if _, err := h.cfg.Officers.AcceptedVoiceCall(r.Context(), up.Call.CaseID, up.Call.Attempts[attempt].OfficerID); err != nil {
		log.Error().Err(err).Str("case", up.Call.CaseCode).Msg("could not acknowledge the alert of an accepted voice call; it keeps escalating")
	}
	// An empty answer ends the whisper and bridges the two legs.
	h.write(w, r)
}
