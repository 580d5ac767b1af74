package dispatch

import (
	"context"

	"github.com/hotline-az/hotline/config"
	"github.com/hotline-az/hotline/store"
)

// VoiceTarget is an officer a caller can be put through to. Phone is
// opened from the store for the <Dial> and must never be logged.
type VoiceTarget struct {
	OfficerID string
	// Role is "on duty" or "backup", for the call's path.
	Role  string
	Phone string
}

// VoiceTargets are the officers a caller rings, in order: the officer on
// duty now, then the backup (each once, and only with a phone number).
// Empty when the rota names no one.
func (d *Dispatcher) VoiceTargets() ([]VoiceTarget, error) {
	var out []VoiceTarget
	err := d.st.View(func(tx *store.Tx) error {
		now := tx.Now()
		seen := map[string]bool{}
		for _, t := range []struct{ target, role string }{
			{config.TargetOnDuty, "on duty"}, {config.TargetBackup, "backup"},
		} {
			ids, err := d.resolveTarget(tx, t.target, now)
			if err != nil {
				return err
			}
			for _, id := range ids {
				if seen[id] {
					continue
				}
				seen[id] = true
				o, err := tx.Officer(id)
				if err != nil {
					return err
				}
				if o.Phone != "" {
					out = append(out, VoiceTarget{OfficerID: id, Role: t.role, Phone: o.Phone})
				}
			}
		}
		return nil
	})
	return out, err
}

// AcceptedVoiceCall acknowledges the case's open alert, if any, for the
// officer who accepted the caller on the whisper: they are talking to the
// caller, so escalation stops and the jobs not yet sent are cancelled,
// as when they press 1 on an alert call.
func (d *Dispatcher) AcceptedVoiceCall(ctx context.Context, caseID, officerID string) (acked bool, err error) {
	var alertID string
	err = d.st.View(func(tx *store.Tx) error {
		a, ok, err := tx.OpenAlertForCase(caseID)
		if ok {
			alertID = a.ID
		}
		return err
	})
	if err != nil || alertID == "" {
		return false, err
	}
	res, err := d.Acknowledge(ctx, alertID, officerID, "call")
	return res.Changed, err
}
