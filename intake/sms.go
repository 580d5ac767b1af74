package intake

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"
	"github.com/rs/zerolog/hlog"
	"github.com/twilio/twilio-go/twiml"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/config"
	"github.com/hotline-az/hotline/store"
)

// officerCommandRepeated answers a command Twilio delivered again.
const officerCommandRepeated = "Hotline: this message was already handled."

// DefaultReplies are short and neutral: no agency name, nothing that gives
// a reporter away if someone else reads their phone.
var DefaultReplies = map[hotline.Lang]string{
	hotline.LangAz: "Mesajınız alındı. Müraciət nömrəsi: {code}",
	hotline.LangRu: "Ваше сообщение получено. Номер обращения: {code}",
	hotline.LangEn: "Your message was received. Reference: {code}",
}

// OfficerCommands handles texts from registered officers (acknowledgements
// and commands). Handle reports handled=false when from is not an officer's
// number; a text it handles is never stored as a tip.
type OfficerCommands interface {
	Handle(ctx context.Context, from, body string) (reply string, handled bool, err error)
}

// SMSConfig wires the SMS webhook.
type SMSConfig struct {
	Verifier   *Verifier
	Store      *store.Store
	Triager    hotline.Triager
	CaseWindow time.Duration
	// Replies override DefaultReplies per language; "{code}" becomes the
	// case reference.
	Replies map[hotline.Lang]string
	// Officers may be nil until alerting is wired.
	Officers OfficerCommands
	// OnInbound runs inside the transaction that stores the tip; if it
	// fails the tip is still stored and answered, marked for the alert
	// worker to retry.
	OnInbound store.InboundHook
	// AfterStore runs once a new tip is durable (wakes the alert worker).
	AfterStore func()
	// RedactAtTwilio queues, with each tip, the job that blanks its body
	// in Twilio's message log (config redact_at_twilio).
	RedactAtTwilio bool
}

// SMSHandler serves POST /twilio/sms.
type SMSHandler struct {
	cfg     SMSConfig
	replies map[hotline.Lang]string
	// replyDocs are the TwiML answers per language, built once with
	// twilio-go's twiml package around the "{code}" placeholder; case codes
	// use an alphabet that needs no XML escaping.
	replyDocs map[hotline.Lang]string
}

// NewSMSHandler returns the SMS webhook handler.
func NewSMSHandler(cfg SMSConfig) *SMSHandler {
	replies := map[hotline.Lang]string{}
	for l, t := range DefaultReplies {
		replies[l] = t
	}
	for l, t := range cfg.Replies {
		replies[l] = t
	}
	if cfg.CaseWindow <= 0 {
		cfg.CaseWindow = 7 * 24 * time.Hour
	}
	h := &SMSHandler{cfg: cfg, replies: replies, replyDocs: map[hotline.Lang]string{}}
	for l, t := range replies {
		doc, err := twiml.Messages([]twiml.Element{&twiml.MessagingMessage{Body: t}})
		if err == nil && strings.Count(doc, "{code}") == strings.Count(t, "{code}") {
			h.replyDocs[l] = doc
		}
	}
	return h
}

// ServeHTTP checks, stores, then answers: the TwiML reply is written only
// after the tip is fsynced, so a 200 always means the tip is safe.
func (h *SMSHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	log := hlog.FromRequest(r)
	v := h.cfg.Verifier
	form, rej := v.readSignedForm(w, r)
	if rej != nil {
		v.reject(w, r, rej)
		return
	}
	rawFrom, rej := inboundSMSFields(v, form)
	if rej != nil {
		v.reject(w, r, rej)
		return
	}
	// The same value the SID-shape check passed (it trims).
	sid := strings.TrimSpace(form.Get("MessageSid"))
	from := config.SenderKey(rawFrom)
	body := form.Get("Body")
	if !utf8.ValidString(body) {
		body = strings.ToValidUTF8(body, "\uFFFD")
	}

	if h.cfg.Officers != nil {
		if h.cfg.Store.OfficerCommandSeen(sid) {
			// A redelivered command: acting again would take the next alert.
			h.writeMessage(w, log, officerCommandRepeated)
			return
		}
		reply, handled, err := h.cfg.Officers.Handle(r.Context(), from, body)
		if err != nil {
			// Never drop a text because the officer lookup failed: if the
			// sender is a reporter, this is a tip. It is stored below.
			log.Error().Err(err).Msg("officer command failed; the text is stored as a tip")
			handled = false
		}
		if handled {
			if err := h.cfg.Store.RecordOfficerCommand(r.Context(), sid); err != nil {
				log.Error().Err(err).Msg("remember officer command")
			}
			h.writeMessage(w, log, reply)
			return
		}
	}

	tri := h.cfg.Triager.Triage(body)
	res, err := h.cfg.Store.RecordInboundSMS(r.Context(), store.InboundSMS{
		MessageSID: sid, From: from, Body: body, Triage: tri, Window: h.cfg.CaseWindow,
		RedactAtTwilio: h.cfg.RedactAtTwilio,
	}, h.cfg.OnInbound)
	if err != nil {
		// Twilio does not retry an inbound-message webhook that fails: it
		// calls the number's Fallback URL once (see the README's Twilio
		// setup). The log says why, without content.
		log.Error().Err(err).Msg("store inbound sms: NOT stored; Twilio does not retry it (its message log still has it)")
		http.Error(w, "could not store the message", http.StatusServiceUnavailable)
		return
	}
	if !res.Duplicate && h.cfg.AfterStore != nil {
		h.cfg.AfterStore()
	}
	if res.AlertPending {
		// The tip is safe; only its alert is late. The error names what
		// failed (rota, officer record), never tip content.
		log.Error().Err(res.AlertError).Str("case", res.Case.Code).
			Msg("could not open the alert: the tip is stored and the alert worker retries until it opens")
	}
	if res.Duplicate {
		log.Info().Str("case", res.Case.Code).Msg("retried sms answered from the first delivery")
	} else {
		log.Info().Str("case", res.Case.Code).Str("priority", string(res.Case.Priority)).
			Str("lang", string(res.Lang)).Bool("new_case", res.NewCase).Msg("sms tip stored")
	}
	if doc, ok := h.replyDocs[res.Lang]; ok {
		writeTwiML(w, log, strings.ReplaceAll(doc, "{code}", res.Case.Code))
		return
	}
	h.writeMessage(w, log, h.Reply(res.Lang, res.Case.Code))
}

// inboundSMSFields checks the fields of an inbound SMS the hotline relies
// on and returns the sender. A MessageSid of any other shape than Twilio's
// is refused: it is how a signed request re-split between two parameters
// (the signature joins names and values without a separator) would pass
// dedup as a new tip.
func inboundSMSFields(v *Verifier, form url.Values) (from string, rej *rejection) {
	sid, rej := requireField(form, "MessageSid")
	if rej != nil {
		return "", rej
	}
	if !messageSIDPattern.MatchString(sid) {
		return "", badSID("MessageSid", "SM or MM followed by 32 hex digits")
	}
	if from, rej = requireField(form, "From"); rej != nil {
		return "", rej
	}
	to, rej := requireField(form, "To")
	if rej != nil {
		return "", rej
	}
	if !v.ourNumber(to) {
		return "", errWrongNumber
	}
	return from, nil
}

// Reply is the text a reporter gets back for a case code in a language.
func (h *SMSHandler) Reply(lang hotline.Lang, code string) string {
	t, ok := h.replies[lang]
	if !ok {
		t = h.replies[hotline.LangAz]
	}
	return strings.ReplaceAll(t, "{code}", code)
}

func (h *SMSHandler) writeMessage(w http.ResponseWriter, log *zerolog.Logger, text string) {
	var verbs []twiml.Element
	if text != "" {
		verbs = append(verbs, &twiml.MessagingMessage{Body: text})
	}
	doc, err := twiml.Messages(verbs)
	if err != nil {
		log.Error().Err(err).Msg("build twiml")
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	writeTwiML(w, log, doc)
}
