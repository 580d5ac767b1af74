package dispatch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
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

// AlertTextWithCode is AlertText for escalation.sms_ack_code: the reply
// must carry the recipient's code.
func AlertTextWithCode(a hotline.Alert, code string) string {
	return strings.Replace(AlertText(a), fmt.Sprintf("Reply %da ", a.Number), fmt.Sprintf("Reply %da %s ", a.Number, code), 1)
}

// NoticeText tells an officer who was paged that someone else took the
// alert, so they can stand down.
func NoticeText(a hotline.Alert, event hotline.AlertState, byName string) string {
	return fmt.Sprintf("Hotline: alert %d (%s case %s) %s by %s. No action needed from you.",
		a.Number, a.Priority, a.CaseCode, event, byName)
}

// noticeMaxAge is how long a notice keeps being retried: after that it
// is news nobody needs.
const noticeMaxAge = time.Hour

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
	var to, body string
	err := d.st.Update(ctx, func(tx *store.Tx) error {
		to, body = "", ""
		j, err := tx.Job(jobID)
		if err != nil || j.State != hotline.JobPending {
			job = j
			return err
		}
		if j.Kind == hotline.JobReplySMS {
			job, to, body, err = prepareReply(tx, j)
			return err
		}
		if j.Kind == hotline.JobVerifySMS {
			return startVerify(tx, j, &job, &to, &body)
		}
		if isTest(j.Kind) {
			return startTest(tx, j, &job, &to, &body)
		}
		if j.Kind == hotline.JobGapSMS || j.Kind == hotline.JobReminderSMS {
			return d.startRotaSMS(tx, j, &job, &to, &body)
		}
		a, err := tx.Alert(j.AlertID)
		if err != nil {
			return err
		}
		if j.Kind == hotline.JobNoticeSMS {
			return d.startNotice(tx, &j, a, &job, &to, &body)
		}
		if a.State != hotline.AlertOpen {
			j.State = hotline.JobCancelled
			job = j
			if err := tx.PutJob(&j); err != nil {
				return err
			}
			return d.settleRiders(tx, j)
		}
		o, err := tx.Officer(j.OfficerID)
		if err != nil {
			j.State, j.LastError = hotline.JobDead, "officer no longer registered"
			job = j
			if err := tx.PutJob(&j); err != nil {
				return err
			}
			if err := d.settleRiders(tx, j); err != nil {
				return err
			}
			return d.deliveryFailed(tx, j)
		}
		if j.Kind == hotline.JobAlertCall {
			carrier, busy, err := carrierFor(tx, j.OfficerID, j.ID, tx.Now())
			if err != nil {
				return err
			}
			if busy {
				job = j
				return rideOn(tx, &carrier, &j)
			}
			if err := tx.PutSetting(callSetting(j.OfficerID), []byte(j.ID)); err != nil {
				return err
			}
			j.SharedCall = "" // it places its own call now
		}
		j.State = hotline.JobSending
		j.Tries++
		j.LastTryAt = tx.Now()
		if j.FirstTryAt.IsZero() {
			j.FirstTryAt = tx.Now()
		}
		job, to = j, o.Phone
		if j.Kind == hotline.JobAlertSMS {
			body = AlertText(a)
			if d.cfg.Escalation.SMSAckCode {
				body = AlertTextWithCode(a, d.st.AckCode(a.ID, j.OfficerID))
			}
		}
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
		// An earlier try got no answer: ask Twilio before sending again,
		// never adopting a message or call another job already owns.
		since := job.FirstTryAt.Add(-time.Minute)
		skip := func(sid string) bool { return d.ownedByOther(sid, job.ID) }
		if job.Kind == hotline.JobAlertCall {
			sid, found, err = rec.FindCall(sendCtx, to, since, skip)
		} else {
			sid, found, err = rec.FindMessage(sendCtx, to, body, since, skip)
		}
		if found {
			d.log.Info().Str("job", job.ID).Msg("earlier try had reached Twilio; not resending")
		}
	}
	if err == nil && !found {
		switch job.Kind {
		case hotline.JobAlertSMS, hotline.JobNoticeSMS, hotline.JobVerifySMS, hotline.JobTestSMS, hotline.JobGapSMS, hotline.JobReminderSMS:
			sid, err = d.cfg.Sender.SendSMS(sendCtx, to, body, d.callbackURL("/twilio/status", job.ID))
		case hotline.JobReplySMS:
			sid, err = d.cfg.Sender.SendSMS(withReporterReply(sendCtx), to, body, d.callbackURL("/twilio/status", job.ID))
		case hotline.JobAlertCall, hotline.JobTestCall:
			sid, err = d.cfg.Sender.Call(sendCtx, to, d.callbackURL("/twilio/alert-call", job.ID), d.callbackURL("/twilio/status", job.ID))
		default:
			err = fmt.Errorf("unknown job kind %q", job.Kind)
		}
	}
	switch {
	case err == nil:
		d.health.twilioOK()
	case twilioapi.IsRetryable(err) && !errors.Is(err, context.Canceled):
		d.health.twilioFailed(d.st.Now(), err.Error())
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
		// Notices and replies to reporters have no alert to keep them
		// going: they retry for a bounded time, then dead-letter.
		notice := j.Kind == hotline.JobNoticeSMS || j.Kind == hotline.JobReplySMS || j.Kind == hotline.JobVerifySMS ||
			j.Kind == hotline.JobGapSMS || j.Kind == hotline.JobReminderSMS
		switch {
		case isTest(j.Kind):
			// One try: the operator wants to know what Twilio said.
			j.State = hotline.JobDead
		case notice && twilioapi.IsRetryable(err) && tx.Now().Sub(j.CreatedAt) < noticeMaxAge:
			j.State = hotline.JobPending
			j.NextTryAt = tx.Now().Add(backoff(j.Tries))
		case notice:
			j.State = hotline.JobDead
			d.log.Warn().Str("job", j.ID).Int("code", j.ErrorCode).Str("error", err.Error()).Msg("notice not sent")
		case unsure && !canCheck:
			j.State = hotline.JobUncertain
			d.log.Warn().Str("job", j.ID).Str("error", err.Error()).Msg("no answer from Twilio: the alert may have gone out; not resending")
		case twilioapi.IsRetryable(err):
			// Retried for as long as the alert is open; the step timers
			// move the escalation on meanwhile.
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
		if !notice && (j.State == hotline.JobDead || j.State == hotline.JobUncertain) {
			if err := d.settleRiders(tx, j); err != nil {
				return err
			}
			return d.deliveryFailed(tx, j)
		}
		return nil
	})
}

// ownedByOther reports whether a Twilio SID is recorded for a job other
// than jobID (an error counts as owned: better a second alert than a
// stolen one).
func (d *Dispatcher) ownedByOther(sid, jobID string) bool {
	owned := true
	d.st.View(func(tx *store.Tx) error {
		j, found, err := tx.JobBySID(sid)
		owned = err != nil || (found && j.ID != jobID)
		return nil
	})
	return owned
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
	if j.Kind != hotline.JobAlertSMS && j.Kind != hotline.JobAlertCall {
		return nil // a notice or a reply to a reporter failing changes nothing
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

// startNotice marks a notice job sending and fills in its number and text;
// an officer removed since is skipped.
func (d *Dispatcher) startNotice(tx *store.Tx, j *hotline.Job, a hotline.Alert, job *hotline.Job, to, body *string) error {
	o, err := tx.Officer(j.OfficerID)
	if err != nil {
		j.State, j.LastError = hotline.JobCancelled, "officer no longer registered"
		*job = *j
		return tx.PutJob(j)
	}
	byName := "an administrator"
	if by, err := tx.Officer(j.By); err == nil {
		byName = by.Name
	}
	j.State = hotline.JobSending
	j.Tries++
	if j.FirstTryAt.IsZero() {
		j.FirstTryAt = tx.Now()
	}
	*job, *to, *body = *j, o.Phone, NoticeText(a, j.Event, byName)
	return tx.PutJob(j)
}

// queueNotices queues a notice of event to every officer the alert reached
// (or may have reached), but the one who caused it.
func queueNotices(tx *store.Tx, a hotline.Alert, event hotline.AlertState, by string) error {
	jobs, err := tx.Jobs(a.ID)
	if err != nil {
		return err
	}
	told := map[string]bool{by: true}
	for _, j := range jobs {
		if j.Kind == hotline.JobNoticeSMS || told[j.OfficerID] {
			continue
		}
		reached := j.State == hotline.JobSent || j.State == hotline.JobDelivered || j.State == hotline.JobFailed ||
			j.State == hotline.JobSending || j.State == hotline.JobUncertain || j.Unconfirmed
		if !reached {
			continue
		}
		told[j.OfficerID] = true
		n := hotline.Job{Kind: hotline.JobNoticeSMS, AlertID: a.ID, OfficerID: j.OfficerID, Round: a.Round,
			State: hotline.JobPending, Event: event, By: by}
		if err := tx.PutJob(&n); err != nil {
			return err
		}
	}
	return nil
}
