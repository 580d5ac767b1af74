package dispatch

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/store"
)

// MaxReplyLen bounds an officer's reply to a reporter, in characters:
// ten SMS segments of Unicode text. A long reply costs the reporter credit
// and is more likely to be read by the wrong person.
const MaxReplyLen = 670

// QueueReply stores an officer's reply to the reporter of a case (sealed)
// and queues the outbox job that sends it from the hotline number, in
// the caller's transaction. The reporter's number is opened only by the
// worker when it sends. Call Wake after the transaction commits.
func (d *Dispatcher) QueueReply(tx *store.Tx, caseID, officerID, body string) (hotline.Job, error) {
	body = strings.TrimSpace(body)
	switch {
	case body == "":
		return hotline.Job{}, hotline.Errorf(hotline.EINVALID, "the reply is empty")
	case !utf8.ValidString(body):
		return hotline.Job{}, hotline.Errorf(hotline.EINVALID, "the reply is not valid text")
	case utf8.RuneCountInString(body) > MaxReplyLen:
		return hotline.Job{}, hotline.Errorf(hotline.ETOOLARGE, "the reply is longer than %d characters", MaxReplyLen)
	}
	msgID, err := tx.AddReply(caseID, body)
	if err != nil {
		return hotline.Job{}, err
	}
	j := hotline.Job{Kind: hotline.JobReplySMS, CaseID: caseID, MessageID: msgID, OfficerID: officerID, State: hotline.JobPending}
	return j, tx.PutJob(&j)
}

// prepareReply marks a reply job sending and opens what it needs: the
// reporter's number and the reply. A case or message that is gone
// dead-letters the job.
func prepareReply(tx *store.Tx, j hotline.Job) (hotline.Job, string, string, error) {
	to, err := tx.ReporterPhone(j.CaseID)
	if err != nil {
		j.State, j.LastError = hotline.JobDead, "case no longer stored"
		return j, "", "", tx.PutJob(&j)
	}
	body, err := tx.MessageBody(j.MessageID)
	if err != nil {
		j.State, j.LastError = hotline.JobDead, "reply no longer stored"
		return j, "", "", tx.PutJob(&j)
	}
	j.State = hotline.JobSending
	j.Tries++
	if j.FirstTryAt.IsZero() {
		j.FirstTryAt = tx.Now()
	}
	return j, to, body, tx.PutJob(&j)
}

// RetryJob puts a dead or uncertain job back in the queue (an admin
// decided to try again); its tries start over.
func (d *Dispatcher) RetryJob(ctx context.Context, jobID string) (hotline.Job, error) {
	var out hotline.Job
	err := d.st.Update(ctx, func(tx *store.Tx) error {
		j, err := tx.Job(jobID)
		if err != nil {
			return err
		}
		if j.State != hotline.JobDead && j.State != hotline.JobUncertain && j.State != hotline.JobFailed {
			return hotline.Errorf(hotline.ECONFLICT, "job %s is %s, not dead", j.ID, j.State)
		}
		if j.AlertID != "" {
			a, err := tx.Alert(j.AlertID)
			if err != nil {
				return err
			}
			if a.State != hotline.AlertOpen {
				return hotline.Errorf(hotline.ECONFLICT, "alert %d is %s: nothing to resend", a.Number, a.State)
			}
		}
		// An uncertain job may have reached Twilio: the worker asks first.
		j.Unconfirmed = j.Unconfirmed || j.State == hotline.JobUncertain
		j.State, j.Tries, j.NextTryAt, j.LastError = hotline.JobPending, 0, tx.Now(), ""
		out = j
		return tx.PutJob(&j)
	})
	if err == nil {
		d.Wake()
	}
	return out, err
}

type reporterReplyKey struct{}

// withReporterReply marks a send as a reply to a reporter, so DevSink
// does not print its text.
func withReporterReply(ctx context.Context) context.Context {
	return context.WithValue(ctx, reporterReplyKey{}, true)
}

func isReporterReply(ctx context.Context) bool {
	v, _ := ctx.Value(reporterReplyKey{}).(bool)
	return v
}
