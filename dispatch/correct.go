package dispatch

import (
	"context"
	"fmt"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/store"
)

// PriorityChange is an officer's correction of a case's priority.
type PriorityChange struct {
	CaseID string
	To     hotline.Priority
	// OfficerID is who changes it; "" only for an admin on the server,
	// who cannot lower a case whose alert is open (someone must take it).
	OfficerID string
	Via       string // console or cli
	Reason    string // sealed; never logged
}

// CorrectionResult says what a priority change did to the case's alerts.
type CorrectionResult struct {
	Case       hotline.Case
	Correction hotline.Correction
	// Acknowledged is the open alert that lowering the case acknowledged
	// in the officer's name (zero Number if none).
	Acknowledged hotline.Alert
	// Opened is the alert that raising an open case to P1 or P2 opened.
	Opened hotline.Alert
}

// CorrectPriority stores a priority change and makes the case's alert
// follow it, in one transaction with audit (which may be nil):
//
//   - Lowering a case acknowledges its open alert in the officer's name:
//     the officer has read the case, which is what an acknowledgement
//     says, so the escalation stops and everyone paged is told who took
//     it; a new case becomes acknowledged. The alert keeps the priority
//     it was sent with.
//   - Raising an open case to P1 or P2 opens an alert at the new priority
//     (superseding a less urgent one), as when a new text raises it: the
//     duty officer is paged even if the one who raised it is reading it.
//
// A later text that triages higher than the correction raises the case
// again, with its alert, as for any case.
func (d *Dispatcher) CorrectPriority(ctx context.Context, ch PriorityChange, audit func(*store.Tx, CorrectionResult) error) (CorrectionResult, error) {
	var res CorrectionResult
	err := d.st.Update(ctx, func(tx *store.Tx) error {
		res = CorrectionResult{}
		corr, err := tx.CorrectPriority(ch.CaseID, ch.To, ch.OfficerID, ch.Via, ch.Reason)
		if err != nil {
			return err
		}
		res.Correction = corr
		if res.Case, err = tx.Case(ch.CaseID); err != nil {
			return err
		}
		open, isOpen, err := tx.OpenAlertForCase(ch.CaseID)
		if err != nil {
			return err
		}
		switch {
		case corr.Lowered() && isOpen:
			if ch.OfficerID == "" {
				return hotline.Errorf(hotline.EINVALID, "case %s has open alert %d: lowering the case acknowledges it, so name the officer who takes it", res.Case.Code, open.Number)
			}
			ack, err := d.settleTx(tx, open.ID, ch.OfficerID, ch.Via, hotline.AlertAcknowledged)
			if err != nil {
				return err
			}
			res.Acknowledged = ack.Alert
			// As with the console's Acknowledge button, a new case
			// becomes acknowledged.
			if work, err := tx.CaseWork(ch.CaseID); err != nil {
				return err
			} else if work.State == hotline.WorkNew {
				if err := tx.SetCaseState(ch.CaseID, hotline.WorkAcknowledged, ch.OfficerID, ""); err != nil {
					return err
				}
			}
		case !corr.Lowered() && res.Case.Status == hotline.CaseOpen && (ch.To == hotline.P1 || ch.To == hotline.P2) &&
			(!isOpen || open.Priority.Rank() < ch.To.Rank()):
			if err := d.openAlert(tx, res.Case, res.Case.Lang, true, tx.Now()); err != nil {
				return err
			}
			if res.Opened, _, err = tx.OpenAlertForCase(ch.CaseID); err != nil {
				return err
			}
		}
		if audit != nil {
			return audit(tx, res)
		}
		return nil
	})
	if err != nil {
		return CorrectionResult{}, err
	}
	d.log.Info().Str("case", res.Case.Code).Str("from", string(res.Correction.From)).Str("to", string(res.Correction.To)).
		Str("via", ch.Via).Int("acknowledged_alert", res.Acknowledged.Number).Int("opened_alert", res.Opened.Number).
		Msg("case priority corrected")
	if res.Acknowledged.Number != 0 {
		d.logSettled(res.Acknowledged, ch.Via)
	}
	if res.Opened.Number != 0 {
		d.Wake()
	}
	return res, nil
}

// AuditDetail is the audit log's detail of a priority change: the change,
// triage's priority and the alert it acknowledged or opened; nothing the
// officer wrote.
func (r CorrectionResult) AuditDetail() string {
	d := fmt.Sprintf("%s>%s triage=%s", r.Correction.From, r.Correction.To, r.Correction.TriagePriority)
	if r.Acknowledged.Number != 0 {
		d += fmt.Sprintf(" acked_alert=%d", r.Acknowledged.Number)
	}
	if r.Opened.Number != 0 {
		d += fmt.Sprintf(" opened_alert=%d", r.Opened.Number)
	}
	return d
}
