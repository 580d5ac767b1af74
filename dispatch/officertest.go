package dispatch

import (
	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/store"
)

// TestText is the SMS of `hotline officers test`: it names no case.
const TestText = "Hotline: test message. This phone receives hotline alerts. No reply needed."

// QueueOfficerTest puts a test SMS and a test call to the officer's
// number in the outbox, in tx: they go out through the worker, the
// Twilio client and the status webhook like an alert, but belong to no
// alert and no case. Each is tried once, so what Twilio said is reported
// rather than retried away. It returns the SMS and call job ids.
func QueueOfficerTest(tx *store.Tx, officerID string) (smsJob, callJob string, err error) {
	if _, err := tx.Officer(officerID); err != nil {
		return "", "", err
	}
	sms := hotline.Job{Kind: hotline.JobTestSMS, OfficerID: officerID, State: hotline.JobPending}
	if err := tx.PutJob(&sms); err != nil {
		return "", "", err
	}
	call := hotline.Job{Kind: hotline.JobTestCall, OfficerID: officerID, State: hotline.JobPending}
	if err := tx.PutJob(&call); err != nil {
		return "", "", err
	}
	return sms.ID, call.ID, nil
}

// isTest reports whether a job tests an officer's phone.
func isTest(k hotline.JobKind) bool { return k == hotline.JobTestSMS || k == hotline.JobTestCall }

// startTest marks a test job sending and fills in the officer's number
// and the text.
func startTest(tx *store.Tx, j hotline.Job, job *hotline.Job, to, body *string) error {
	o, err := tx.Officer(j.OfficerID)
	if err != nil {
		j.State, j.LastError = hotline.JobCancelled, "officer no longer registered"
		*job = j
		return tx.PutJob(&j)
	}
	j.State = hotline.JobSending
	j.Tries++
	if j.FirstTryAt.IsZero() {
		j.FirstTryAt = tx.Now()
	}
	*job, *to = j, o.Phone
	if j.Kind == hotline.JobTestSMS {
		*body = TestText
	}
	return tx.PutJob(&j)
}
