package intake

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
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
