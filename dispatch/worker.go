package dispatch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/dispatch/twilioapi"
	"github.com/hotline-az/hotline/store"
)

// AlertText is what an officer's phone shows: the case code, priority,
// channel and language, and how to acknowledge. Never tip content.
func AlertText(a hotline.Alert) string {
	what := "new"
	if a.Raised {
		what = "raised to"
	}
	return fmt.Sprintf("Hotline: %s %s case %s (%s, %s). Reply %da to acknowledge.",
		what, a.Priority, a.CaseCode, channelLabel(a.Channel), a.Lang, a.Number)
}

func channelLabel(c hotline.Channel) string {
	if c == hotline.ChannelVoice {
		return "call"
	}
	return "SMS"
}

// callbackURL carries only the opaque job id: the alert's state lives in
// our store, not in a URL that Twilio logs.
func (d *Dispatcher) callbackURL(path, jobID string) string {
	return d.cfg.PublicURL + path + "?job=" + url.QueryEscape(jobID)
}

// execute runs one outbox job: mark it sending (durably), call Twilio,
// record the outcome (durably). A crash between the two leaves "sending",
// which Recover turns into "uncertain" rather than a second alert.
func (d *Dispatcher) execute(ctx context.Context, jobID string) error {
	var job hotline.Job
	var alert hotline.Alert
	var to, replyBody string
	err := d.st.Update(ctx, func(tx *store.Tx) error {
		to = ""
		j, err := tx.Job(jobID)
		if err != nil || j.State != hotline.JobPending {
			job = j
			return err
		}
		if j.Kind == hotline.JobReplySMS {
			job, to, replyBody, err = prepareReply(tx, j)
			return err
		}
		a, err := tx.Alert(j.AlertID)
		if err != nil {
			return err
		}
		if a.State != hotline.AlertOpen {
			j.State = hotline.JobCancelled
			job = j
			return tx.PutJob(&j)
		}
		o, err := tx.Officer(j.OfficerID)
		if err != nil {
			j.State, j.LastError = hotline.JobDead, "officer no longer registered"
			job = j
			if err := tx.PutJob(&j); err != nil {
				return err
			}
			return d.deliveryFailed(tx, j)
		}
		j.State = hotline.JobSending
		j.Tries++
		if j.FirstTryAt.IsZero() {
			j.FirstTryAt = tx.Now()
		}
		job, alert, to = j, a, o.Phone
		return tx.PutJob(&j)
	})
	if err != nil || to == "" {
		return err
	}

	sendCtx, cancel := context.WithTimeout(ctx, d.cfg.SendTimeout)
	defer cancel()
	sid, found := "", false
	rec, canCheck := d.cfg.Sender.(Reconciler)
	if job.Unconfirmed && canCheck {
		// An earlier try got no answer: ask Twilio before sending again.
		since := job.FirstTryAt.Add(-time.Minute)
		switch job.Kind {
		case hotline.JobAlertCall:
			sid, found, err = rec.FindCall(sendCtx, to, since)
		case hotline.JobReplySMS:
			sid, found, err = rec.FindMessage(sendCtx, to, replyBody, since)
		default:
			sid, found, err = rec.FindMessage(sendCtx, to, AlertText(alert), since)
		}
		if found {
			d.log.Info().Str("job", job.ID).Msg("earlier try had reached Twilio; not resending")
		}
	}
	if err == nil && !found {
		switch job.Kind {
		case hotline.JobAlertSMS:
			sid, err = d.cfg.Sender.SendSMS(sendCtx, to, AlertText(alert), d.callbackURL("/twilio/status", job.ID))
		case hotline.JobReplySMS:
			sid, err = d.cfg.Sender.SendSMS(withReporterReply(sendCtx), to, replyBody, d.callbackURL("/twilio/status", job.ID))
		case hotline.JobAlertCall:
			sid, err = d.cfg.Sender.Call(sendCtx, to, d.callbackURL("/twilio/alert-call", job.ID), d.callbackURL("/twilio/status", job.ID))
		default:
			err = fmt.Errorf("unknown job kind %q", job.Kind)
		}
	}
	// Record the outcome even if ctx ended: the attempt happened.
	recordCtx := context.WithoutCancel(ctx)
	return d.st.Update(recordCtx, func(tx *store.Tx) error {
		j, terr := tx.Job(jobID)
		if terr != nil {
			return terr
		}
		j.Tries = job.Tries
		if err == nil {
			j.State, j.Unconfirmed = hotline.JobSent, false
			if j.Delivery == "" {
				j.Delivery = "queued"
			}
			j.LastError = ""
			if err := tx.PutJob(&j); err != nil {
				return err
			}
			return tx.SetJobSID(&j, sid)
		}
		j.LastError = err.Error()
		var ae *twilioapi.APIError
		if errors.As(err, &ae) {
			j.ErrorCode = ae.Code
		}
		unsure := mayHaveBeenSent(err)
		if unsure {
			j.Unconfirmed = true
		}
		switch {
		case unsure && !canCheck:
			j.State = hotline.JobUncertain
			d.log.Warn().Str("job", j.ID).Str("error", err.Error()).Msg("no answer from Twilio: the alert may have gone out; not resending")
		case twilioapi.IsRetryable(err) && j.Tries < d.cfg.Escalation.MaxTries:
			j.State = hotline.JobPending
			j.NextTryAt = tx.Now().Add(backoff(j.Tries))
			d.log.Warn().Str("job", j.ID).Int("tries", j.Tries).Str("error", err.Error()).Msg("outbox send failed; will retry")
		default:
			j.State = hotline.JobDead
			d.log.Error().Str("job", j.ID).Int("tries", j.Tries).Int("code", j.ErrorCode).Str("error", err.Error()).Msg("outbox job dead-lettered")
		}
		if err := tx.PutJob(&j); err != nil {
			return err
		}
		if j.State == hotline.JobDead || j.State == hotline.JobUncertain {
			return d.deliveryFailed(tx, j)
		}
		return nil
	})
}

// mayHaveBeenSent reports whether a failed request could still have
// reached Twilio: no answer came back, and the failure was not one that
// happens before the request leaves (dialing, refused connection).
func mayHaveBeenSent(err error) bool {
	var ae *twilioapi.APIError
	if !errors.As(err, &ae) || ae.Status != 0 {
		return false
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return false
	}
	return twilioapi.IsRetryable(err) && !errors.Is(err, context.Canceled)
}

// deliveryFailed moves the job's alert to its next step at once when the
// job belonged to the latest step run.
func (d *Dispatcher) deliveryFailed(tx *store.Tx, j hotline.Job) error {
	if j.AlertID == "" {
		return nil // a reply to a reporter: nothing escalates
	}
	a, err := tx.Alert(j.AlertID)
	if err != nil || a.State != hotline.AlertOpen || a.Exhausted {
		return err
	}
	if j.Round != a.Round || j.Step != a.Step-1 {
		return nil // a later step already ran
	}
	d.log.Info().Str("alert", a.ID).Int("step", j.Step).Msg("delivery failed: escalating now")
	if err := d.advance(tx, &a, tx.Now(), true); err != nil {
		return err
	}
	if err := tx.PutAlert(&a); err != nil {
		return err
	}
	d.Wake()
	return nil
}
