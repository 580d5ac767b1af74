package intake

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog/hlog"
	"github.com/twilio/twilio-go/twiml"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/config"
	"github.com/hotline-az/hotline/dispatch"
	"github.com/hotline-az/hotline/store"
)

// Steps of the voice menu, kept in the call's record (store.VoiceCall.Step).
const (
	stepLanguage   = "language"
	stepMenu       = "menu"
	stepReference  = "reference"
	stepConnecting = "connecting"
	stepConnected  = "connected"
	stepRecording  = "recording"
	stepFinished   = "finished"
)

// endedAt is how a call's path says where the caller hung up.
var endedAt = map[string]string{
	stepLanguage:   "call ended at the language menu",
	stepMenu:       "call ended at the main menu",
	stepReference:  "call ended while keying a reference",
	stepConnecting: "call ended while connecting to an officer",
	stepConnected:  "call ended after speaking with an officer",
	stepRecording:  "call ended while recording a message",
	stepFinished:   "call ended after the message",
}

// maxWrongCodes ends the reference entry after this many wrong codes.
const maxWrongCodes = 3

// VoiceOfficers is what the voice line needs from dispatch: whom to put a
// caller through to, in order, and to settle the case's alert once an
// officer accepted the caller.
type VoiceOfficers interface {
	VoiceTargets() ([]dispatch.VoiceTarget, error)
	AcceptedVoiceCall(ctx context.Context, caseID, officerID string) (bool, error)
}

// VoiceConfig wires the voice line.
type VoiceConfig struct {
	Verifier *Verifier
	Store    *store.Store
	Voice    config.Voice
	Officers VoiceOfficers
	Prompts  *Prompts
	// OnInbound is the SMS path's hook (dispatch.Dispatcher.OnInbound): a
	// caller who presses 9 gets the alert a P1 text gets.
	OnInbound  store.InboundHook
	AfterStore func()
	// Now is the clock of the reference-try limits (nil: time.Now).
	Now func() time.Time
}

// VoiceHandlers serve the voice line: the inbound call and its menus,
// the connection to an officer with its whisper, the message, and the
// call's end. Every request is a signed Twilio webhook checked like an
// SMS; the state lives in the store (one record per call), so any
// request may reach any server process and a hang-up at any point
// leaves a case.
type VoiceHandlers struct {
	cfg     VoiceConfig
	base    string // public URL
	limiter *referenceLimiter
}

// NewVoiceHandlers returns the voice line's handlers.
func NewVoiceHandlers(cfg VoiceConfig) (*VoiceHandlers, error) {
	if cfg.Verifier == nil || cfg.Store == nil || cfg.Officers == nil || cfg.Prompts == nil {
		return nil, errors.New("intake: the voice line needs a verifier, a store, officers and prompts")
	}
	if len(cfg.Voice.Languages) == 0 {
		cfg.Voice = config.DefaultVoice()
	}
	for _, l := range cfg.Voice.Languages {
		for _, name := range promptNames {
			if !cfg.Prompts.Has(hotline.Lang(l.Lang), name) {
				return nil, fmt.Errorf("intake: voice prompt %s/%s.wav is missing", l.Lang, name)
			}
		}
	}
	return &VoiceHandlers{
		cfg: cfg, base: cfg.Verifier.publicURL,
		limiter: newReferenceLimiter(cfg.Voice.ReferenceTriesPerCaller, cfg.Voice.ReferenceTriesPerHour, cfg.Now),
	}, nil
}

// promptNames are the prompts every language must have.
var promptNames = []string{
	"hello", "choose", "menu_danger", "menu_connect", "menu_record", "menu_reference", "menu_repeat",
	"no_input", "danger", "connecting", "no_officer", "record", "saved", "reference_is", "safety",
	"reference_enter", "reference_wrong", "reference_end", "reference_busy", "reference_ok", "goodbye", "whisper",
	"digit_0", "digit_1", "digit_2", "digit_3", "digit_4", "digit_5", "digit_6", "digit_7", "digit_8", "digit_9",
}

// read checks a voice webhook and parses its fields.
func (h *VoiceHandlers) read(w http.ResponseWriter, r *http.Request, leg voiceLeg) (voiceRequest, bool) {
	v := h.cfg.Verifier
	form, rej := v.readSignedForm(w, r)
	if rej != nil {
		v.reject(w, r, rej)
		return voiceRequest{}, false
	}
	req, rej := parseVoiceForm(v, form, leg)
	if rej != nil {
		v.reject(w, r, rej)
		return voiceRequest{}, false
	}
	return req, true
}

// Incoming answers POST /twilio/voice, the number's voice URL: it stores
// the call's case at once, then greets and offers the languages.
func (h *VoiceHandlers) Incoming(w http.ResponseWriter, r *http.Request) {
	req, ok := h.read(w, r, callerLeg)
	if !ok {
		return
	}
	call, err := h.cfg.Store.StartCall(r.Context(), store.CallStart{
		CallSID: req.CallSID, From: req.From, Step: stepLanguage, Path: "language menu",
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	hlog.FromRequest(r).Info().Str("case", call.CaseCode).Msg("voice call started")
	if call.Step != stepLanguage {
		// Twilio asked again for a call already past the greeting (its
		// fallback, or a retry): carry on where the call is.
		h.write(w, r, h.resume(call)...)
		return
	}
	h.write(w, r, h.languageMenu(true)...)
}

// Menu answers POST /twilio/voice/menu?step=..., the action of every
// menu's <Gather> (Digits set) and the <Redirect> after it when the
// caller keyed nothing (timeout=1).
func (h *VoiceHandlers) Menu(w http.ResponseWriter, r *http.Request) {
	req, ok := h.read(w, r, callerLeg)
	if !ok {
		return
	}
	q := r.URL.Query()
	timeout := q.Get("timeout") == "1"
	switch q.Get("step") {
	case stepLanguage:
		h.languageChoice(w, r, req, timeout)
	case stepMenu:
		h.menuChoice(w, r, req, timeout)
	case stepReference:
		h.referenceEntry(w, r, req, timeout)
	default:
		h.cfg.Verifier.reject(w, r, badField("step", "query parameter is not a menu step"))
	}
}

// update changes the call's record and logs nothing identifying.
func (h *VoiceHandlers) update(ctx context.Context, req voiceRequest, change func(*store.VoiceCall)) (store.CallUpdate, error) {
	return h.cfg.Store.UpdateCall(ctx, req.CallSID, func(c *store.VoiceCall) error { change(c); return nil }, nil)
}

func (h *VoiceHandlers) languageChoice(w http.ResponseWriter, r *http.Request, req voiceRequest, timeout bool) {
	var lang hotline.Lang
	for _, l := range h.cfg.Voice.Languages {
		if !timeout && req.Digits == l.Digit {
			lang = hotline.Lang(l.Lang)
		}
	}
	up, err := h.update(r.Context(), req, func(c *store.VoiceCall) {
		switch {
		case lang != "":
			c.Lang, c.Step, c.Misses = lang, stepMenu, 0
			c.Path = append(c.Path, "chose "+string(lang), "main menu")
		case c.Misses == 0:
			c.Misses = 1
			c.Path = append(c.Path, "no choice, language menu repeated")
		default:
			c.Lang, c.Step, c.Misses = hotline.Lang(h.cfg.Voice.DefaultLang), stepMenu, 0
			c.Path = append(c.Path, "no choice again, default language "+h.cfg.Voice.DefaultLang, "main menu")
		}
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if up.Call.Step == stepLanguage {
		h.write(w, r, h.languageMenu(false)...)
		return
	}
	h.write(w, r, h.mainMenu(up.Call.Lang)...)
}

func (h *VoiceHandlers) menuChoice(w http.ResponseWriter, r *http.Request, req voiceRequest, timeout bool) {
	key := req.Digits
	if timeout {
		key = ""
	}
	switch key {
	case "9":
		h.danger(w, r, req)
		return
	case "1":
		h.connect(w, r, req, "pressed 1: speak to an officer")
		return
	case "2":
		h.record(w, r, req, "pressed 2: leave a message", nil)
		return
	case "3":
		h.askReference(w, r, req)
		return
	}
	up, err := h.update(r.Context(), req, func(c *store.VoiceCall) {
		switch {
		case key == "*":
			c.Path = append(c.Path, "pressed *: menu repeated")
		case key != "":
			c.Path = append(c.Path, "pressed a key the menu does not offer")
		case c.Misses == 0:
			c.Misses = 1
			c.Path = append(c.Path, "no choice, main menu repeated")
		default:
			c.Misses = 2
		}
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	lang := up.Call.Lang
	if up.Call.Misses >= 2 {
		// A caller who cannot press keys may still be able to speak.
		h.record(w, r, req, "no choice again: offered a message", []string{"no_input"})
		return
	}
	var before []string
	if key != "*" {
		before = []string{"no_input"}
	}
	h.write(w, r, h.mainMenu(lang, before...)...)
}

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
	if !h.limiter.allow(h.cfg.Store.CallerKey(req.From)) {
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

// Status answers POST /twilio/voice/status, the number's call status
// callback: once the call is over its case records the duration and
// where the caller hung up. A call whose first webhook never got stored
// gets its case here.
func (h *VoiceHandlers) Status(w http.ResponseWriter, r *http.Request) {
	req, ok := h.read(w, r, callerLeg)
	if !ok {
		return
	}
	switch req.CallStatus {
	case "completed", "busy", "no-answer", "failed", "canceled":
	case "":
		h.cfg.Verifier.reject(w, r, badField("CallStatus", "is required"))
		return
	default:
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if _, err := h.cfg.Store.StartCall(r.Context(), store.CallStart{
		CallSID: req.CallSID, From: req.From, Step: stepLanguage, Path: "language menu",
	}); err != nil {
		h.fail(w, r, err)
		return
	}
	up, err := h.update(r.Context(), req, func(c *store.VoiceCall) {
		if c.Ended {
			return
		}
		c.Ended, c.EndedAt = true, h.cfg.Store.Now()
		if req.CallDuration >= 0 {
			c.Seconds = req.CallDuration
		}
		for i := range c.Attempts {
			if c.Attempts[i].Outcome == "ringing" {
				c.Attempts[i].Outcome = "caller hung up"
			}
		}
		c.Path = append(c.Path, endedAt[c.Step])
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	hlog.FromRequest(r).Info().Str("case", up.Call.CaseCode).Str("step", up.Call.Step).
		Int("seconds", up.Call.Seconds).Msg("voice call ended")
	w.WriteHeader(http.StatusNoContent)
}

// resume answers a repeated first webhook with the menu the call is at.
func (h *VoiceHandlers) resume(c store.VoiceCall) []twiml.Element {
	lang := langOr(c.Lang, h.cfg.Voice.DefaultLang)
	switch c.Step {
	case stepLanguage:
		return h.languageMenu(false)
	case stepMenu, stepReference:
		return h.mainMenu(lang)
	}
	return append(h.plays(lang, "goodbye"), &twiml.VoiceHangup{})
}

// languageMenu greets (the first time) and offers each language in its
// own voice: "For English, press 3".
func (h *VoiceHandlers) languageMenu(greet bool) []twiml.Element {
	var inner []twiml.Element
	if greet {
		for _, l := range h.cfg.Voice.Languages {
			inner = append(inner, h.plays(hotline.Lang(l.Lang), "hello")...)
		}
	}
	for _, l := range h.cfg.Voice.Languages {
		inner = append(inner, h.plays(hotline.Lang(l.Lang), "choose", "digit_"+l.Digit)...)
	}
	return []twiml.Element{
		&twiml.VoiceGather{
			Input: "dtmf", NumDigits: "1", Method: http.MethodPost,
			Timeout:       strconv.Itoa(int(h.cfg.Voice.MenuTimeout.Seconds())),
			Action:        h.url("/twilio/voice/menu", "step", stepLanguage),
			InnerElements: inner,
		},
		&twiml.VoiceRedirect{Method: http.MethodPost, Url: h.url("/twilio/voice/menu", "step", stepLanguage, "timeout", "1")},
	}
}

// mainMenu offers 9 danger, 1 officer, 2 message, 3 reference, * repeat,
// after the prompts in before.
func (h *VoiceHandlers) mainMenu(lang hotline.Lang, before ...string) []twiml.Element {
	verbs := h.plays(lang, before...)
	return append(verbs,
		&twiml.VoiceGather{
			Input: "dtmf", NumDigits: "1", Method: http.MethodPost,
			Timeout:       strconv.Itoa(int(h.cfg.Voice.MenuTimeout.Seconds())),
			Action:        h.url("/twilio/voice/menu", "step", stepMenu),
			InnerElements: h.plays(lang, "menu_danger", "menu_connect", "menu_record", "menu_reference", "menu_repeat"),
		},
		&twiml.VoiceRedirect{Method: http.MethodPost, Url: h.url("/twilio/voice/menu", "step", stepMenu, "timeout", "1")},
	)
}

// plays turns prompt names into <Play> verbs of their public URLs.
func (h *VoiceHandlers) plays(lang hotline.Lang, names ...string) []twiml.Element {
	out := make([]twiml.Element, 0, len(names))
	for _, n := range names {
		out = append(out, &twiml.VoicePlay{Url: h.base + "/prompts/" + string(lang) + "/" + n + ".wav"})
	}
	return out
}

// url is an absolute URL on the public listener with query pairs.
func (h *VoiceHandlers) url(path string, pairs ...string) string {
	if len(pairs) == 0 {
		return h.base + path
	}
	q := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		q.Set(pairs[i], pairs[i+1])
	}
	return h.base + path + "?" + q.Encode()
}

func langOr(l hotline.Lang, def string) hotline.Lang {
	if l.Valid() {
		return l
	}
	return hotline.Lang(def)
}

// write sends verbs as a voice TwiML document.
func (h *VoiceHandlers) write(w http.ResponseWriter, r *http.Request, verbs ...twiml.Element) {
	log := hlog.FromRequest(r)
	doc, err := twiml.Voice(verbs)
	if err != nil {
		log.Error().Err(err).Msg("build twiml")
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	writeTwiML(w, log, doc)
}

// fail answers a voice webhook whose state could not be stored. Twilio
// then plays its own error or calls the number's fallback URL; the log
// says what failed, never who called.
func (h *VoiceHandlers) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, store.ErrUnknownCall) {
		h.cfg.Verifier.reject(w, r, badField("CallSid", "names no call this hotline answered"))
		return
	}
	hlog.FromRequest(r).Error().Err(err).Msg("voice: could not store the call's state")
	http.Error(w, "could not store the call", http.StatusServiceUnavailable)
}
