package dispatch

import (
	"context"
	"errors"
	"sort"
	"time"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/store"
)

// An officer gets one alert call at a time. The call names every open alert
// paged to them and one keypress acknowledges them all; a call job that
// falls due while another call to the same officer is in flight rides on
// that call instead of ringing the same phone again (twenty calls at once
// come back busy, and a lost answer could not be told apart from another
// alert's call when reconciling).

// callSetting names the setting that holds the id of the call job whose
// call to an officer was placed last (ids only).
func callSetting(officerID string) string { return "alert-call/" + officerID }

// maxCallTime bounds how long a placed call counts as in flight when its
// final status never arrives: longer than ringing (18 s), machine
// detection and the prompt said twice.
const maxCallTime = 3 * time.Minute

// riderRecheck is how often a call job waiting on another call looks
// again: if that call's outcome never comes, the job rings on its own.
const riderRecheck = 20 * time.Second

// carrierFor returns the call job whose call to officerID is in flight at
// now (being placed, placed with its answer lost, or ringing or
// connected), other than self.
func carrierFor(tx *store.Tx, officerID, self string, now time.Time) (hotline.Job, bool, error) {
	raw, err := tx.Setting(callSetting(officerID))
	if err != nil {
		// A damaged marker must not silence the officer's phone: better
		// a second call than none.
		return hotline.Job{}, false, nil
	}
	id := string(raw)
	if id == "" || id == self {
		return hotline.Job{}, false, nil
	}
	j, err := tx.Job(id)
	if err != nil {
		var he *hotline.Error
		if errors.As(err, &he) && he.Code == hotline.ENOTFOUND {
			return hotline.Job{}, false, nil
		}
		return hotline.Job{}, false, err
	}
	// Counted from when the call was placed: riders joining it rewrite
	// the job (UpdatedAt) and must not keep a call with no outcome alive.
	placedAt := j.LastTryAt
	if placedAt.IsZero() {
		placedAt = j.UpdatedAt // a job written before LastTryAt existed
	}
	switch {
	case j.State == hotline.JobSending:
	case j.State == hotline.JobPending && j.Unconfirmed:
	case j.State == hotline.JobSent && now.Sub(placedAt) < maxCallTime:
	default:
		return hotline.Job{}, false, nil
	}
	return j, true, nil
}

// rideOn makes job j wait on carrier's call, which names j's alert too.
// It stays queued (looking again every riderRecheck) so that a call whose
// outcome never arrives cannot hold it for ever.
func rideOn(tx *store.Tx, carrier, j *hotline.Job) error {
	j.State, j.NextTryAt = hotline.JobPending, tx.Now().Add(riderRecheck)
	if j.SharedCall != carrier.ID {
		j.SharedCall = carrier.ID
		carrier.Riders = append(carrier.Riders, j.ID)
		if err := tx.PutJob(carrier); err != nil {
			return err
		}
	}
	return tx.PutJob(j)
}

// settleRiders gives the jobs riding on carrier its outcome once carrier
// is final: a call that was not answered fails them all (their alerts move
// on at once); an acknowledged call delivers them; a call that was never
// placed (cancelled, dead, uncertain) sends them back to the queue to ring
// on their own.
func (d *Dispatcher) settleRiders(tx *store.Tx, carrier hotline.Job) error {
	for _, id := range carrier.Riders {
		r, err := tx.Job(id)
		if err != nil {
			return err
		}
		if r.SharedCall != carrier.ID || r.State != hotline.JobPending {
			continue
		}
		switch carrier.State {
		case hotline.JobDelivered:
			r.State, r.Delivery = hotline.JobDelivered, carrier.Delivery
		case hotline.JobFailed:
			r.State, r.Delivery, r.ErrorCode, r.LastError = hotline.JobFailed, carrier.Delivery, carrier.ErrorCode, carrier.LastError
		default:
			r.SharedCall, r.NextTryAt = "", tx.Now()
		}
		if err := tx.PutJob(&r); err != nil {
			return err
		}
		if r.State == hotline.JobFailed {
			if err := d.deliveryFailed(tx, r); err != nil {
				return err
			}
		}
	}
	if len(carrier.Riders) > 0 {
		d.Wake()
	}
	return nil
}

// openAlertsPagedTo lists the open alerts paged to officerID, most urgent
// first (P1 before P2, then newest).
func openAlertsPagedTo(tx *store.Tx, officerID string) ([]hotline.Alert, error) {
	all, err := tx.Alerts() // newest first
	if err != nil {
		return nil, err
	}
	var out []hotline.Alert
	for _, a := range all {
		if a.State == hotline.AlertOpen && pagedTo(a, officerID) {
			out = append(out, a)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Priority.Rank() > out[j].Priority.Rank() })
	return out, nil
}

func pagedTo(a hotline.Alert, officerID string) bool {
	for _, r := range a.Recipients {
		if r == officerID {
			return true
		}
	}
	return false
}

// CallPrompt is what the alert call says, looked up by the job that placed it.
type CallPrompt struct {
	// AlertNumber, CaseCode and Priority are the most urgent alert named.
	AlertNumber int
	CaseCode    string
	Priority    hotline.Priority
	// Count is how many open alerts the call names (and a keypress
	// acknowledges).
	Count int
	// Open is false when no alert needs acknowledging any more.
	Open bool
	// Lang is the officer's language (hotline.Officer.Lang); empty when
	// the officer has none or is gone, and the call takes its default.
	Lang hotline.Lang
	// Test is set for the call of `hotline officers test`, which names no
	// alert: a keypress confirms the phone works.
	Test bool
}

// CallPrompt returns what the call placed by job jobID announces: every
// open alert paged to its officer. The first answer fixes the list, so the
// keypress acknowledges exactly what the officer heard.
func (d *Dispatcher) CallPrompt(jobID string) (CallPrompt, error) {
	var p CallPrompt
	err := d.st.Update(context.Background(), func(tx *store.Tx) error {
		p = CallPrompt{}
		j, err := tx.Job(jobID)
		if err != nil {
			return err
		}
		lang, err := officerLang(tx, j.OfficerID)
		if err != nil {
			return err
		}
		if j.Kind == hotline.JobTestCall {
			p.Test, p.Lang = true, lang
			return nil
		}
		if j.Kind != hotline.JobAlertCall {
			return hotline.Errorf(hotline.ENOTFOUND, "not a call job")
		}
		var named []hotline.Alert
		if j.Announced == nil {
			if named, err = openAlertsPagedTo(tx, j.OfficerID); err != nil {
				return err
			}
			j.Announced = []string{}
			for _, a := range named {
				j.Announced = append(j.Announced, a.ID)
			}
			if err := tx.PutJob(&j); err != nil {
				return err
			}
		} else {
			for _, id := range j.Announced {
				a, err := tx.Alert(id)
				if err != nil {
					return err
				}
				if a.State == hotline.AlertOpen {
					named = append(named, a)
				}
			}
		}
		if len(named) == 0 {
			a, err := tx.Alert(j.AlertID)
			if err != nil {
				return err
			}
			p = CallPrompt{AlertNumber: a.Number, CaseCode: a.CaseCode, Priority: a.Priority, Lang: lang}
			return nil
		}
		a := named[0]
		p = CallPrompt{AlertNumber: a.Number, CaseCode: a.CaseCode, Priority: a.Priority, Count: len(named), Open: true, Lang: lang}
		return nil
	})
	return p, err
}

// officerLang is the language of officerID's alert call: empty for an
// officer without one, or removed while the call rang (the call still
// has to say something).
func officerLang(tx *store.Tx, officerID string) (hotline.Lang, error) {
	o, err := tx.Officer(officerID)
	var he *hotline.Error
	if errors.As(err, &he) && he.Code == hotline.ENOTFOUND {
		return "", nil
	}
	return o.Lang, err
}

// AcknowledgeByCall acknowledges, as the officer the call went to, every
// alert the call announced (its own alert if no prompt was recorded), and
// marks the call answered. The result is about the most urgent of them;
// Count says how many it acknowledged.
func (d *Dispatcher) AcknowledgeByCall(ctx context.Context, jobID string) (AckResult, error) {
	var res AckResult
	var changed []hotline.Alert
	err := d.st.Update(ctx, func(tx *store.Tx) error {
		res, changed = AckResult{}, nil
		j, err := tx.Job(jobID)
		if err != nil {
			return err
		}
		if j.Kind == hotline.JobTestCall {
			j.Pressed = true // the test call's key press confirms the phone
			return tx.PutJob(&j)
		}
		if j.Kind != hotline.JobAlertCall {
			return hotline.Errorf(hotline.ENOTFOUND, "not a call job")
		}
		ids := j.Announced
		if len(ids) == 0 {
			ids = []string{j.AlertID}
		}
		for i, id := range ids {
			r, err := d.settleTx(tx, id, j.OfficerID, "call", hotline.AlertAcknowledged)
			if err != nil {
				return err
			}
			if i == 0 {
				res, res.Count = r, 0
			}
			if r.Changed {
				res.Count++
				changed = append(changed, r.Alert)
			}
		}
		j.Pressed = true
		return tx.PutJob(&j)
	})
	if err == nil {
		for _, a := range changed {
			d.logSettled(a, "call")
		}
	}
	return res, err
}
