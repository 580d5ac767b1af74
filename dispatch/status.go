package dispatch

import (
	"context"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/store"
)

// deliveryRank orders Twilio's message and call statuses so a late
// "sent" cannot overwrite an earlier "delivered". Final statuses share
// the top rank; anything not listed is unknown and rejected.
// It lists every status Twilio documents for messages and calls.
var deliveryRank = map[string]int{
	// messages
	"accepted": 1, "scheduled": 1, "queued": 1, "receiving": 1, "sending": 2, "sent": 3,
	"delivered": 9, "partially_delivered": 9, "read": 9, "received": 9,
	"undelivered": 9, "failed": 9, "canceled": 9,
	// calls
	"initiated": 2, "ringing": 3, "in-progress": 4, "completed": 9, "busy": 9, "no-answer": 9,
}

// failedStatuses mean the officer was not reached.
var failedStatuses = map[string]bool{
	"undelivered": true, "failed": true, "busy": true, "no-answer": true, "canceled": true,
}

// KnownStatus reports whether Twilio's status string is one we map.
func KnownStatus(status string) bool { _, ok := deliveryRank[status]; return ok }

// Status applies a Twilio status callback to the job it names. Out-of-order
// updates are ignored; a failure moves the alert to its next step at once.
// sid must match the SID recorded for the job (when one is recorded).
func (d *Dispatcher) Status(ctx context.Context, jobID, sid, status string, errorCode int) error {
	if !KnownStatus(status) {
		return hotline.Errorf(hotline.EINVALID, "unknown status")
	}
	err := d.st.Update(ctx, func(tx *store.Tx) error {
		j, err := tx.Job(jobID)
		if err != nil {
			return err
		}
		if j.HasSID {
			owner, found, err := tx.JobBySID(sid)
			if err != nil {
				return err
			}
			if !found || owner.ID != j.ID {
				return hotline.Errorf(hotline.EFORBIDDEN, "status callback does not match the job")
			}
		}
		if deliveryRank[status] <= deliveryRank[j.Delivery] {
			return nil // stale or repeated
		}
		j.Delivery = status
		if errorCode != 0 {
			j.ErrorCode = errorCode
		}
		failed := failedStatuses[status]
		if status == "completed" && (j.Kind == hotline.JobAlertCall || j.Kind == hotline.JobTestCall) && !j.Pressed {
			// Answered by a mailbox, or hung up before the key: nobody
			// took the alert.
			failed = true
			j.LastError = "call ended without the acknowledgement key (voicemail or hung up)"
		}
		switch {
		case failed:
			j.State = hotline.JobFailed
		case deliveryRank[status] == 9:
			j.State = hotline.JobDelivered
		}
		if err := tx.PutJob(&j); err != nil {
			return err
		}
		if !j.HasSID && sid != "" {
			if err := tx.SetJobSID(&j, sid); err != nil {
				return err
			}
		}
		if deliveryRank[status] == 9 {
			if err := d.settleRiders(tx, j); err != nil {
				return err
			}
		}
		if failed {
			return d.deliveryFailed(tx, j)
		}
		return nil
	})
	return err
}
