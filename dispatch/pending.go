package dispatch

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/store"
)

// retryPendingAlerts opens the alerts that failed to open when their tip
// was stored (store.PendingAlert). Each try is its own transaction: a
// failure rolls back whatever the try wrote, then the mark records the
// error and the next try's time.
func (d *Dispatcher) retryPendingAlerts(ctx context.Context, now time.Time) error {
	var due []store.PendingAlert
	var badMarks error
	if err := d.st.View(func(tx *store.Tx) error {
		due, badMarks = tx.DueAlertsPending(now, 64)
		return nil
	}); err != nil {
		return err
	}
	for _, p := range due {
		var opened hotline.Alert
		openErr := d.st.Update(ctx, func(tx *store.Tx) error {
			var err error
			opened, err = d.openPending(tx, p.CaseID, now)
			return err
		})
		if openErr == nil {
			if opened.ID != "" {
				d.log.Info().Str("case", p.CaseCode).Str("alert", opened.ID).Int("number", opened.Number).
					Int("tries", p.Tries+1).Dur("late_by", now.Sub(p.Since)).Msg("opened an alert that had failed to open when its tip was stored")
				d.Wake()
			}
			continue
		}
		if ctx.Err() != nil {
			return badMarks
		}
		var tries int
		var next time.Time
		uerr := d.st.Update(ctx, func(tx *store.Tx) error {
			cur, ok, err := tx.AlertPending(p.CaseID)
			if err != nil || !ok {
				return err
			}
			cur.Tries++
			cur.NextTryAt = now.Add(pendingBackoff(cur.Tries))
			cur.LastError = openErr.Error()
			tries, next = cur.Tries, cur.NextTryAt
			return tx.PutAlertPending(cur)
		})
		if uerr != nil {
			return errors.Join(badMarks, uerr)
		}
		d.log.Error().Err(openErr).Str("case", p.CaseCode).Int("tries", tries).Time("next_try", next).
			Msg("an alert still fails to open; its tip is stored and the worker keeps retrying")
	}
	return badMarks
}

// openPending opens the alert a pending mark stands for, unless it is no
// longer needed, and clears the mark. It returns the alert opened (zero
// if none was needed).
func (d *Dispatcher) openPending(tx *store.Tx, caseID string, now time.Time) (hotline.Alert, error) {
	p, ok, err := tx.AlertPending(caseID)
	if err != nil || !ok {
		return hotline.Alert{}, err // cleared meanwhile: a later tip opened it
	}
	c, err := tx.Case(caseID)
	if err != nil {
		return hotline.Alert{}, err
	}
	needed := c.Status == hotline.CaseOpen && (c.Priority == hotline.P1 || c.Priority == hotline.P2)
	if a, open, err := tx.OpenAlertForCase(c.ID); err != nil {
		return hotline.Alert{}, err
	} else if open && a.Priority.Rank() >= c.Priority.Rank() {
		needed = false
	}
	if !needed {
		d.log.Info().Str("case", c.Code).Msg("a pending alert is no longer needed (case closed, not urgent, or already alerted)")
		return hotline.Alert{}, tx.ClearAlertPending(caseID)
	}
	if err := d.openAlert(tx, c, p.Lang, !p.NewCase, now); err != nil {
		return hotline.Alert{}, err
	}
	a, _, err := tx.OpenAlertForCase(c.ID)
	return a, err
}

// pendingBackoff spaces retries of an alert that fails to open: 2 s, 4 s
// ... capped at one minute (a P1 must not wait long once the fault is
// fixed), with jitter.
func pendingBackoff(tries int) time.Duration {
	base := min(2*time.Second<<min(tries-1, 8), time.Minute)
	return base/2 + rand.N(base/2+1)
}
