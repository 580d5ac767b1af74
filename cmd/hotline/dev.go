package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/rs/zerolog"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/config"
	"github.com/hotline-az/hotline/dispatch"
	"github.com/hotline-az/hotline/store"
	"github.com/hotline-az/hotline/twiliotest"
)

// Demo officers for `serve --dev`: their numbers are what the README's
// walk-through replies from.
const (
	devOfficerPhone    = "+994500000001"
	devSupervisorPhone = "+994500000002"
)

// seedDevOfficers puts a demo officer on duty all week (with a demo
// supervisor as backup and supervisor) when no officer exists yet.
func seedDevOfficers(ctx context.Context, st *store.Store, log zerolog.Logger) error {
	return st.Update(ctx, func(tx *store.Tx) error {
		existing, err := tx.Officers()
		if err != nil || len(existing) > 0 {
			return err
		}
		officer, err := tx.AddOfficer(hotline.Officer{Name: "Demo Officer", Phone: devOfficerPhone, Role: hotline.RoleOfficer})
		if err != nil {
			return err
		}
		super, err := tx.AddOfficer(hotline.Officer{Name: "Demo Supervisor", Phone: devSupervisorPhone, Role: hotline.RoleSupervisor})
		if err != nil {
			return err
		}
		rota := dispatch.Rota{TimeZone: "Asia/Baku"}
		for _, day := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
			rota.Shifts = append(rota.Shifts, dispatch.Shift{Day: day, Start: "00:00", End: "24:00", Officer: officer.ID, Backup: super.ID, Supervisor: super.ID})
		}
		log.Warn().Msg("DEV MODE: added Demo Officer (on duty all week) and Demo Supervisor")
		return dispatch.SaveRota(tx, rota)
	})
}

// newDevSink is the outbox of serve --dev without a Twilio account. With
// --dev-fail or --dev-unanswered it reports the failures to this server's
// own status webhook, signed with the dev auth token as Twilio would sign
// them, so the escalation can be watched on a failed delivery.
func (m *Main) newDevSink(out io.Writer) *dispatch.DevSink {
	cfg := m.Config
	report := func(ctx context.Context, callbackURL string, form url.Values) error {
		form.Set("AccountSid", cfg.WebhookAccountSID())
		form.Set("From", cfg.WebhookNumbers()[0])
		form.Set("ApiVersion", "2010-04-01")
		u, err := url.Parse(callbackURL)
		if err != nil {
			return err
		}
		// Twilio posts to the public URL; here that is this process, so
		// post to its own listener and sign for the public URL.
		target := "http://" + m.listener.Addr().String() + u.RequestURI()
		req, err := twiliotest.NewSignedRequest(cfg.Twilio.AuthToken, target, callbackURL, form)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req.WithContext(ctx))
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			return fmt.Errorf("the status webhook answered %s", resp.Status)
		}
		return nil
	}
	m.devSink = dispatch.NewDevSinkWith(dispatch.DevSinkConfig{Out: out, Fail: m.DevFail, Unanswered: m.DevUnanswered, Report: report, After: m.DevRingTime})
	return m.devSink
}

// devFailFlag reads --dev-fail: numbers (repeated, or separated by commas)
// in E.164 or national form.
type devFailFlag struct{ numbers *[]string }

func (f devFailFlag) String() string {
	if f.numbers == nil {
		return ""
	}
	return strings.Join(*f.numbers, ",")
}

func (f devFailFlag) Set(s string) error {
	for _, n := range strings.Split(s, ",") {
		e164, err := config.NormalizePhone(n)
		if err != nil {
			return err
		}
		*f.numbers = append(*f.numbers, e164)
	}
	return nil
}
