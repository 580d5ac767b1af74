package main

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/hotline-az/hotline/config"
	"github.com/hotline-az/hotline/dispatch"
	"github.com/hotline-az/hotline/intake"
	"github.com/hotline-az/hotline/store"
)

// newVoice wires the voice line: a caller who presses 9 goes through the
// same alert hook as a P1 text.
func newVoice(cfg config.Config, v *intake.Verifier, st *store.Store, disp *dispatch.Dispatcher) (*intake.VoiceHandlers, *intake.Prompts, error) {
	prompts, err := intake.NewPrompts()
	if err != nil {
		return nil, nil, err
	}
	voice, err := intake.NewVoiceHandlers(intake.VoiceConfig{
		Verifier: v, Store: st, Voice: cfg.Voice, Officers: disp, Prompts: prompts,
		OnInbound: disp.OnInbound, AfterStore: disp.Wake,
	})
	return voice, prompts, err
}

// routeVoice mounts the voice line's webhooks and its prompts on the
// public router.
func routeVoice(r *mux.Router, voice *intake.VoiceHandlers, prompts *intake.Prompts) {
	r.HandleFunc("/twilio/voice", voice.Incoming).Methods(http.MethodPost)
	r.HandleFunc("/twilio/voice/menu", voice.Menu).Methods(http.MethodPost)
	r.HandleFunc("/twilio/voice/dial", voice.Dial).Methods(http.MethodPost)
	r.HandleFunc("/twilio/voice/whisper", voice.Whisper).Methods(http.MethodPost)
	r.HandleFunc("/twilio/voice/recorded", voice.Recorded).Methods(http.MethodPost)
	r.HandleFunc("/twilio/voice/status", voice.Status).Methods(http.MethodPost)
	r.Handle("/prompts/{lang}/{name}.wav", prompts).Methods(http.MethodGet, http.MethodHead)
}
