package main

import (
	"context"

	"github.com/hotline-az/hotline/dispatch"
	"github.com/hotline-az/hotline/dispatch/twilioapi"
	"github.com/hotline-az/hotline/store"
)

// newMediaWorker returns the worker that downloads voicemail into the
// store and erases tips at Twilio, or nil when there is no Twilio account
// to speak to (dev without one: recordings then wait in the queue).
func (m *Main) newMediaWorker(st *store.Store, sender dispatch.Sender) (*dispatch.MediaWorker, error) {
	client, ok := sender.(*twilioapi.Client)
	if !ok {
		m.Logger.Warn().Msg("no Twilio account: voicemail is not downloaded and nothing is erased at Twilio")
		return nil, nil
	}
	if !m.Config.Twilio.EraseAtTwilio {
		m.Logger.Warn().Msg("erase_at_twilio = false: SMS bodies and recordings stay in Twilio's logs")
	}
	return dispatch.NewMediaWorker(dispatch.MediaConfig{
		Store: st, API: client, Logger: m.Logger, PollInterval: m.PollInterval,
		KeepAtTwilio: !m.Config.Twilio.EraseAtTwilio,
	})
}

// startMediaWorker runs the media worker until ctx ends; Close waits for
// it (mediaDone) before closing the store.
func (m *Main) startMediaWorker(ctx context.Context) {
	if m.media == nil {
		return
	}
	m.mediaDone = make(chan struct{})
	go func() {
		defer close(m.mediaDone)
		m.media.Run(ctx)
	}()
}
