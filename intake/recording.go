package intake

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/rs/zerolog/hlog"

	"github.com/hotline-az/hotline/store"
)

// recordingSIDPattern is a RecordingSid: RE and 32 hex digits.
var recordingSIDPattern = regexp.MustCompile(`^RE[0-9a-f]{32}$`)

// maxRecordingDuration bounds RecordingDuration: Twilio's <Record> stops
// at 4 hours.
const maxRecordingDuration = 4 * 3600

// CallCases finds the case a call was filed under, by its CallSid (the
// voice menu files every call under a case keyed by the CallSid's keyed
// hash).
type CallCases interface {
	CaseIDForCall(callSID string) (caseID string, found bool, err error)
}

// RecordingConfig wires the recording callback.
type RecordingConfig struct {
	Verifier *Verifier
	Store    *store.Store
	// Calls finds a call's case; nil, or a call it does not know, gives
	// the recording a voice case of its own (it is never dropped).
	Calls CallCases
	// AfterStore runs once a new recording's job is durable (wakes the
	// media worker).
	AfterStore func()
}

// RecordingHandler serves POST /twilio/recording, the
// recordingStatusCallback of the voice menu's <Record>: it queues the
// durable job that fetches the audio into the store and deletes it at
// Twilio, and answers 200 only once that job is fsynced.
type RecordingHandler struct {
	cfg RecordingConfig
}

// NewRecordingHandler returns the recording callback handler.
func NewRecordingHandler(cfg RecordingConfig) *RecordingHandler {
	return &RecordingHandler{cfg: cfg}
}

// ServeHTTP checks the callback like every webhook (signature, account),
// then its SIDs, and queues the recording.
func (h *RecordingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	log := hlog.FromRequest(r)
	v := h.cfg.Verifier
	form, rej := v.readSignedForm(w, r)
	if rej != nil {
		v.reject(w, r, rej)
		return
	}
	sid, rej := requireField(form, "RecordingSid")
	if rej != nil {
		v.reject(w, r, rej)
		return
	}
	if !recordingSIDPattern.MatchString(sid) {
		v.reject(w, r, badSID("RecordingSid", "RE followed by 32 hex digits"))
		return
	}
	callSID, rej := requireField(form, "CallSid")
	if rej != nil {
		v.reject(w, r, rej)
		return
	}
	if !callSIDPattern.MatchString(callSID) {
		v.reject(w, r, badSID("CallSid", "CA followed by 32 hex digits"))
		return
	}
	duration := 0
	if d := strings.TrimSpace(form.Get("RecordingDuration")); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n < -1 || n > maxRecordingDuration {
			v.reject(w, r, badField("RecordingDuration", "is not a number of seconds"))
			return
		}
		duration = n
	}
	switch status := strings.TrimSpace(form.Get("RecordingStatus")); status {
	case "", "completed":
	case "in-progress", "absent", "failed":
		// Nothing to fetch: in-progress is followed by completed, and an
		// absent or failed recording has no audio (the call's case says
		// what the caller did).
		log.Info().Str("status", status).Msg("recording callback without audio")
		w.WriteHeader(http.StatusOK)
		return
	default:
		v.reject(w, r, badField("RecordingStatus", "is not one Twilio sends"))
		return
	}

	caseID, err := h.caseFor(callSID)
	if err != nil {
		// Still queued: the recording opens a case of its own.
		log.Error().Err(err).Msg("find the call's case; the recording gets its own case")
	}
	res, err := h.cfg.Store.QueueRecording(r.Context(), store.RecordingCallback{
		RecordingSID: sid, CaseID: caseID, Duration: duration,
	})
	if err != nil {
		// Not stored: answering an error leaves the recording at Twilio,
		// where an admin can still find it (nothing deletes it).
		log.Error().Err(err).Msg("queue recording: NOT stored; the recording stays at Twilio")
		http.Error(w, "could not store the recording", http.StatusServiceUnavailable)
		return
	}
	if res.Duplicate {
		log.Info().Str("case", res.CaseCode).Msg("retried recording callback; already queued")
	} else {
		if h.cfg.AfterStore != nil {
			h.cfg.AfterStore()
		}
		msg := "voicemail queued for download"
		ev := log.Info()
		if res.NewCase {
			msg, ev = "voicemail of a call without a case queued for download; it opened a case of its own", log.Warn()
		}
		ev.Str("case", res.CaseCode).Str("recording", res.Recording.ID).Int("duration", duration).Msg(msg)
	}
	w.WriteHeader(http.StatusOK)
}

func (h *RecordingHandler) caseFor(callSID string) (string, error) {
	if h.cfg.Calls == nil {
		return "", nil
	}
	id, found, err := h.cfg.Calls.CaseIDForCall(callSID)
	if err != nil || !found {
		return "", err
	}
	return id, nil
}
