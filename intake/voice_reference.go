package intake

// The reference entry: a caller keys the reference of an earlier case.

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/rs/zerolog/hlog"
	"github.com/twilio/twilio-go/twiml"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/store"
)

// askReference offers the reference entry, unless the caller used up
// their tries.
func (h *VoiceHandlers) askReference(w http.ResponseWriter, r *http.Request, req voiceRequest) {
	up, err := h.update(r.Context(), req, func(c *store.VoiceCall) {
		c.Path = append(c.Path, "pressed 3: reference")
		if c.WrongCodes < maxWrongCodes && !c.Joined && !c.Danger {
			c.Step = stepReference
		}
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	lang := langOr(up.Call.Lang, h.cfg.Voice.DefaultLang)
	if up.Call.Step != stepReference {
		h.write(w, r, h.mainMenu(lang, "reference_end")...)
		return
	}
	h.write(w, r, h.referencePrompt(lang, nil)...)
}

// referencePrompt gathers a reference: its keypad form, then "#".
func (h *VoiceHandlers) referencePrompt(lang hotline.Lang, before []string) []twiml.Element {
	return []twiml.Element{
		&twiml.VoiceGather{
			// No numDigits: the caller ends with "#" (or Twilio sends what
			// was keyed when the timeout passes), so no "#" is left over
			// to land in the next menu.
			Input: "dtmf", FinishOnKey: "#", Method: http.MethodPost,
			Timeout:       strconv.Itoa(int(h.cfg.Voice.MenuTimeout.Seconds()) * 2),
			Action:        h.url("/twilio/voice/menu", "step", stepReference),
			InnerElements: h.plays(lang, append(before, "reference_enter")...),
		},
		&twiml.VoiceRedirect{Method: http.MethodPost, Url: h.url("/twilio/voice/menu", "step", stepReference, "timeout", "1")},
	}
}

// referenceEntry takes a keyed reference: within the limits it joins the
// call to that case; three wrong codes end the entry gently.
func (h *VoiceHandlers) referenceEntry(w http.ResponseWriter, r *http.Request, req voiceRequest, timeout bool) {
	keyed := strings.TrimSuffix(req.Digits, "#")
	if timeout || keyed == "" {
		up, err := h.update(r.Context(), req, func(c *store.VoiceCall) {
			c.Step = stepMenu
			c.Path = append(c.Path, "no reference keyed")
		})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		h.write(w, r, h.mainMenu(langOr(up.Call.Lang, h.cfg.Voice.DefaultLang), "no_input")...)
		return
	}
	// A withheld number is no caller's own: count its tries per call.
	callerKey, withheld := "n:"+h.cfg.Store.CallerKey(req.From), req.From == ""
	if withheld {
		callerKey = "c:" + h.cfg.Store.CallRef(req.CallSID)
	}
	if !h.limiter.allow(callerKey, withheld) {
		up, err := h.update(r.Context(), req, func(c *store.VoiceCall) {
			c.Step = stepMenu
			c.Path = append(c.Path, "reference tries over the limit: not checked")
		})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		hlog.FromRequest(r).Warn().Str("case", up.Call.CaseCode).Msg("voice reference tries over the limit")
		h.write(w, r, h.mainMenu(langOr(up.Call.Lang, h.cfg.Voice.DefaultLang), "reference_busy")...)
		return
	}
	res, err := h.cfg.Store.JoinCall(r.Context(), req.CallSID, keyed, req.From, "caller gave the reference")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	up, err := h.update(r.Context(), req, func(c *store.VoiceCall) {
		if res.Joined {
			c.Step = stepMenu
			return
		}
		c.WrongCodes++
		c.Path = append(c.Path, fmt.Sprintf("wrong reference (%d of %d)", c.WrongCodes, maxWrongCodes))
		if c.WrongCodes >= maxWrongCodes {
			c.Step = stepMenu
		}
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	lang := langOr(up.Call.Lang, h.cfg.Voice.DefaultLang)
	switch {
	case res.Joined:
		hlog.FromRequest(r).Info().Str("case", up.Call.CaseCode).Msg("voice caller gave the reference of an earlier case")
		h.write(w, r, h.mainMenu(lang, "reference_ok")...)
	case up.Call.Step == stepMenu:
		h.write(w, r, h.mainMenu(lang, "reference_end")...)
	default:
		h.write(w, r, h.referencePrompt(lang, []string{"reference_wrong"})...)
	}
}
