package dispatch

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/store"
)

// AckResult says what an acknowledgement or close did, in words safe to
// send back to the officer.
type AckResult struct {
	Alert hotline.Alert
	// Changed is false when the alert was already acknowledged or closed.
	Changed bool
	// ByName is who acknowledged first (opened from the sealed officer).
	ByName string
	// Count is how many alerts changed: one, or for a keypress on a call
	// that named several alerts, all it acknowledged.
	Count int
}

// Acknowledge records that officerID has the alert (via "sms", "call" or
// "console") and stops its escalation: the timer is removed and pending
// jobs are cancelled in the same transaction. It is the one function every
// acknowledgement path calls.
func (d *Dispatcher) Acknowledge(ctx context.Context, alertID, officerID, via string) (AckResult, error) {
	return d.settle(ctx, alertID, officerID, via, hotline.AlertAcknowledged)
}

// CloseAlert acknowledges and closes an alert ("12c").
func (d *Dispatcher) CloseAlert(ctx context.Context, alertID, officerID, via string) (AckResult, error) {
	return d.settle(ctx, alertID, officerID, via, hotline.AlertClosed)
}

func (d *Dispatcher) settle(ctx context.Context, alertID, officerID, via string, to hotline.AlertState) (AckResult, error) {
	var res AckResult
	err := d.st.Update(ctx, func(tx *store.Tx) error {
		var err error
		res, err = d.settleTx(tx, alertID, officerID, via, to)
		return err
	})
	if err == nil && res.Changed {
		d.logSettled(res.Alert, via)
	}
	return res, err
}

func (d *Dispatcher) logSettled(a hotline.Alert, via string) {
	d.log.Info().Str("alert", a.ID).Int("number", a.Number).Str("officer", a.AckedBy).
		Str("via", via).Str("state", string(a.State)).Msg("alert settled")
}

// settleTx acknowledges or closes an alert inside tx: the timer goes and
// pending jobs are cancelled in the same transaction.
func (d *Dispatcher) settleTx(tx *store.Tx, alertID, officerID, via string, to hotline.AlertState) (AckResult, error) {
	a, err := tx.Alert(alertID)
	if err != nil {
		return AckResult{}, err
	}
	o, err := tx.Officer(officerID)
	if err != nil {
		return AckResult{}, err
	}
	switch {
	case a.State == hotline.AlertOpen:
		a.AckedBy, a.AckedAt, a.AckedVia = officerID, tx.Now(), via
	case a.State == hotline.AlertAcknowledged && to == hotline.AlertClosed:
	default:
		res := AckResult{Alert: a}
		if a.AckedBy != "" {
			if by, err := tx.Officer(a.AckedBy); err == nil {
				res.ByName = by.Name
			}
		}
		return res, nil
	}
	a.State = to
	if err := tx.PutAlert(&a); err != nil {
		return AckResult{}, err
	}
	if err := d.cancelPending(tx, a.ID); err != nil {
		return AckResult{}, err
	}
	return AckResult{Alert: a, Changed: true, ByName: o.Name, Count: 1}, nil
}

var (
	ackNumberFirst = regexp.MustCompile(`^#?(\d{1,9})\s*([ac])$`)
	ackWordFirst   = regexp.MustCompile(`^(ack|ok|a|close|c)\s*#?(\d{1,9})$`)
)

// helpLimit is how many help replies one officer gets per hour: enough to
// learn the syntax, too few to run up a bill in a loop with an autoresponder.
const helpLimit = 3

const helpText = "Hotline: reply with the alert number and a to acknowledge (12a), or c to close (12c). Reply a alone for your latest alert."

// Handle implements intake.OfficerCommands: a text from a registered
// officer's number is a command, never a tip.
func (d *Dispatcher) Handle(ctx context.Context, from, body string) (string, bool, error) {
	officerID, ok := d.st.IsOfficerPhone(from)
	if !ok {
		return "", false, nil
	}
	cmd := strings.ToLower(strings.Join(strings.Fields(body), " "))
	number, action := 0, byte(0)
	switch {
	case cmd == "a" || cmd == "ack" || cmd == "ok":
		action = 'a'
	case cmd == "c" || cmd == "close":
		action = 'c'
	default:
		if m := ackNumberFirst.FindStringSubmatch(cmd); m != nil {
			number, _ = strconv.Atoi(m[1])
			action = m[2][0]
		} else if m := ackWordFirst.FindStringSubmatch(cmd); m != nil {
			number, _ = strconv.Atoi(m[2])
			action = m[1][0]
			if m[1] == "ok" {
				action = 'a'
			}
		}
	}
	if action == 0 {
		return d.help(officerID, ""), true, nil
	}
	var alertID string
	err := d.st.View(func(tx *store.Tx) error {
		if number > 0 {
			a, found, err := tx.AlertByNumber(number)
			if found {
				alertID = a.ID
			}
			return err
		}
		alerts, err := tx.Alerts()
		if err != nil {
			return err
		}
		for _, a := range alerts { // newest first
			if a.State != hotline.AlertOpen && a.State != hotline.AlertAcknowledged {
				continue
			}
			for _, r := range a.Recipients {
				if r == officerID {
					alertID = a.ID
					return nil
				}
			}
		}
		return nil
	})
	if err != nil {
		return "", true, err
	}
	if alertID == "" {
		if number > 0 {
			return d.help(officerID, fmt.Sprintf("Hotline: no alert %d. ", number)), true, nil
		}
		return d.help(officerID, "Hotline: you have no open alert. "), true, nil
	}
	var res AckResult
	if action == 'c' {
		res, err = d.CloseAlert(ctx, alertID, officerID, "sms")
	} else {
		res, err = d.Acknowledge(ctx, alertID, officerID, "sms")
	}
	if err != nil {
		return "", true, err
	}
	return ackReply(res), true, nil
}

func ackReply(res AckResult) string {
	a := res.Alert
	if !res.Changed {
		if res.ByName != "" {
			return fmt.Sprintf("Hotline: alert %d (case %s) is already %s by %s.", a.Number, a.CaseCode, a.State, res.ByName)
		}
		return fmt.Sprintf("Hotline: alert %d (case %s) is %s.", a.Number, a.CaseCode, a.State)
	}
	if a.State == hotline.AlertClosed {
		return fmt.Sprintf("Hotline: alert %d (case %s) closed.", a.Number, a.CaseCode)
	}
	return fmt.Sprintf("Hotline: alert %d (%s case %s) acknowledged. Open it in the console.", a.Number, a.Priority, a.CaseCode)
}

// help returns the help text unless this officer had helpLimit replies in
// the last hour, in which case it returns "" (no reply is sent).
func (d *Dispatcher) help(officerID, prefix string) string {
	now := d.st.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	recent := d.helpReplies[officerID][:0]
	for _, t := range d.helpReplies[officerID] {
		if now.Sub(t) < time.Hour {
			recent = append(recent, t)
		}
	}
	if len(recent) >= helpLimit {
		d.helpReplies[officerID] = recent
		return ""
	}
	d.helpReplies[officerID] = append(recent, now)
	return prefix + helpText
}
