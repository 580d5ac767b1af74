package dispatch

import (
	"context"
	"crypto/subtle"
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
	if err := queueNotices(tx, a, to, officerID); err != nil {
		return AckResult{}, err
	}
	d.moveCaseToAcknowledged(tx, a, officerID)
	if err := auditAlert(tx, a, "alert."+string(to), officerID, via); err != nil {
		return AckResult{}, err
	}
	d.Wake()
	return AckResult{Alert: a, Changed: true, ByName: o.Name, Count: 1}, nil
}

// moveCaseToAcknowledged moves a new case to acknowledged, whichever way
// the alert was settled, so the console and `hotline cases` show one
// state. That is bookkeeping: a case that cannot be read (missing, or
// failing its integrity check) is logged and never stops the
// acknowledgement, which is what ends the escalation. The audit entry is
// auditAlert's, for every way in.
func (d *Dispatcher) moveCaseToAcknowledged(tx *store.Tx, a hotline.Alert, officerID string) {
	w, err := tx.CaseWork(a.CaseID)
	if err == nil && w.State == hotline.WorkNew {
		err = tx.SetCaseState(a.CaseID, hotline.WorkAcknowledged, officerID, "")
	}
	if err != nil {
		d.log.Warn().Err(err).Str("alert", a.ID).Msg("alert settled, but its case's workflow state could not be moved to acknowledged")
	}
}

// Escalate runs an open alert's next step now instead of at its time.
// via says who asked, for the log.
func (d *Dispatcher) Escalate(ctx context.Context, alertID, via string) (hotline.Alert, error) {
	var a hotline.Alert
	err := d.st.Update(ctx, func(tx *store.Tx) error {
		var err error
		if a, err = tx.Alert(alertID); err != nil {
			return err
		}
		if a.State != hotline.AlertOpen {
			return hotline.Errorf(hotline.ECONFLICT, "alert %d is %s; only an open alert escalates", a.Number, a.State)
		}
		if err := d.advance(tx, &a, tx.Now(), true); err != nil {
			return err
		}
		if err := auditAlert(tx, a, "alert.escalated", via, via); err != nil {
			return err
		}
		return tx.PutAlert(&a)
	})
	if err == nil {
		d.log.Warn().Str("alert", a.ID).Int("number", a.Number).Int("step", a.Step).Str("via", via).Msg("alert escalated by hand")
		d.Wake()
	}
	return a, err
}

// Reopen puts an acknowledged or closed alert back to open and starts its
// escalation again from the first step, as if it had just come in. via
// says who asked ("cli", "console") for the log. A case with another open
// alert is refused.
func (d *Dispatcher) Reopen(ctx context.Context, alertID, via string) (hotline.Alert, error) {
	var a hotline.Alert
	err := d.st.Update(ctx, func(tx *store.Tx) error {
		var err error
		if a, err = tx.Alert(alertID); err != nil {
			return err
		}
		if a.State != hotline.AlertAcknowledged && a.State != hotline.AlertClosed {
			return hotline.Errorf(hotline.ECONFLICT, "alert %d is %s; only an acknowledged or closed alert can be reopened", a.Number, a.State)
		}
		if other, open, err := tx.OpenAlertForCase(a.CaseID); err != nil {
			return err
		} else if open {
			return hotline.Errorf(hotline.ECONFLICT, "case %s already has open alert %d", a.CaseCode, other.Number)
		}
		now := tx.Now()
		a.State, a.AckedBy, a.AckedAt, a.AckedVia = hotline.AlertOpen, "", time.Time{}, ""
		a.Round, a.Step, a.RoundStart, a.Exhausted = 0, 0, now, false
		if err := d.advance(tx, &a, now, false); err != nil {
			return err
		}
		if err := auditAlert(tx, a, "alert.reopened", via, via); err != nil {
			return err
		}
		return tx.PutAlert(&a)
	})
	if err == nil {
		d.log.Warn().Str("alert", a.ID).Int("number", a.Number).Str("via", via).Msg("alert reopened: escalation starts again")
		d.Wake()
	}
	return a, err
}

// auditAlert writes an alert's change to the audit log in the same
// transaction: the case code as the object, the alert number and the step
// it reached as detail (no content, no numbers). An SMS, call, console or
// CLI acknowledgement is audited alike; a reopen or escalation names no
// officer, so its actor is the way in ("cli", as the console package
// writes admin socket entries).
func auditAlert(tx *store.Tx, a hotline.Alert, action, actor, via string) error {
	detail := fmt.Sprintf("alert=%d", a.Number)
	if a.State == hotline.AlertOpen {
		detail += fmt.Sprintf(" round=%d step=%d", a.Round, a.Step)
	}
	return tx.AppendAudit(store.AuditEntry{Actor: actor, Action: action, Object: a.CaseCode, Via: via, Detail: detail})
}

var (
	ackNumberFirst = regexp.MustCompile(`^#?(\d{1,9})\s*([ac])(?:\s+(\d{4}))?$`)
	ackWordFirst   = regexp.MustCompile(`^(ack|ok|a|close|c)\s*#?(\d{1,9})(?:\s+(\d{4}))?$`)
)

// helpLimit is how many help replies one officer gets per hour: enough to
// learn the syntax, too few to run up a bill in a loop with an autoresponder.
const helpLimit = 3

const helpText = "Hotline: reply with the alert number and a to acknowledge (12a) or c to close (12c); a alone for your newest open alert, aa for all of yours."

// helpTextWithCode is the help under escalation.sms_ack_code.
const helpTextWithCode = "Hotline: reply with the alert number, a to acknowledge or c to close, and the code from its SMS: 12a 4821."

// confirmWindow is how long a request to close a P1 by SMS waits for YES.
const confirmWindow = 5 * time.Minute

// pendingClose is a P1 close waiting for the officer's YES.
type pendingClose struct {
	alertID string
	at      time.Time
}

// command is one parsed officer text.
type command struct {
	action byte // 'a' acknowledge, 'c' close, 'y' confirm a close
	number int  // 0: the officer's newest alert
	all    bool // aa: every open alert of theirs
	// code is the four digits after the alert number ("12a 4821"),
	// needed when escalation.sms_ack_code is on.
	code string
}

func parseCommand(body string) (command, bool) {
	cmd := strings.ToLower(strings.Join(strings.Fields(body), " "))
	switch cmd {
	case "a", "ack", "ok":
		return command{action: 'a'}, true
	case "aa", "ack all", "a all":
		return command{action: 'a', all: true}, true
	case "c", "close":
		return command{action: 'c'}, true
	case "yes", "y":
		return command{action: 'y'}, true
	}
	if m := ackNumberFirst.FindStringSubmatch(cmd); m != nil {
		n, _ := strconv.Atoi(m[1])
		return command{action: m[2][0], number: n, code: m[3]}, true
	}
	if m := ackWordFirst.FindStringSubmatch(cmd); m != nil {
		n, _ := strconv.Atoi(m[2])
		action := m[1][0]
		if m[1] == "ok" {
			action = 'a'
		}
		return command{action: action, number: n, code: m[3]}, true
	}
	return command{}, false
}

// Handle implements intake.OfficerCommands: a text from a registered
// officer's number is a command, never a tip. An officer's commands act
// only on alerts that were paged to them; a supervisor's on any alert.
func (d *Dispatcher) Handle(ctx context.Context, from, body string) (string, bool, error) {
	officerID, ok, err := d.st.IsOfficerPhone(from)
	if err != nil {
		return "", true, err
	}
	if !ok {
		return "", false, nil
	}
	// A number waiting for verification takes its code and nothing else;
	// other texts from it are received like anyone's.
	if reply, pendingNumber, err := d.handleVerification(ctx, officerID, from, body); pendingNumber || err != nil {
		return reply, reply != "", err
	}
	cmd, ok := parseCommand(body)
	if !ok {
		return d.help(officerID, ""), true, nil
	}
	if d.cfg.Escalation.SMSAckCode && cmd.action != 'y' && cmd.number == 0 {
		return d.help(officerID, ""), true, nil
	}
	if cmd.action == 'y' {
		return d.confirmClose(ctx, officerID)
	}
	var targets []hotline.Alert
	var refusal string
	err = d.st.View(func(tx *store.Tx) error {
		targets, refusal = nil, ""
		o, err := tx.Officer(officerID)
		if err != nil {
			return err
		}
		if cmd.number > 0 {
			a, found, err := tx.AlertByNumber(cmd.number)
			switch {
			case err != nil:
				return err
			case !found:
				refusal = fmt.Sprintf("Hotline: no alert %d. ", cmd.number)
			case o.Role != hotline.RoleSupervisor && !pagedTo(a, officerID):
				refusal = fmt.Sprintf("Hotline: alert %d was not sent to you. ", cmd.number)
			case d.cfg.Escalation.SMSAckCode && !d.codeTriesLeft(officerID):
				refusal = "Hotline: too many wrong codes from this number; acknowledge by the alert call or in the console. "
			case d.cfg.Escalation.SMSAckCode && subtle.ConstantTimeCompare([]byte(cmd.code), []byte(d.st.AckCode(a.ID, officerID))) != 1:
				// Wrong, missing, or someone else's code: the sender
				// number alone proves nothing. Logged without the text.
				d.badCode(officerID)
				d.log.Warn().Str("officer", officerID).Int("alert", a.Number).Msg("SMS command without the alert's code refused")
				refusal = fmt.Sprintf("Hotline: alert %d needs the code from its SMS. ", cmd.number)
			default:
				targets = []hotline.Alert{a}
			}
			return nil
		}
		alerts, err := tx.Alerts() // newest first
		if err != nil {
			return err
		}
		for _, a := range alerts {
			wanted := a.State == hotline.AlertOpen || (cmd.action == 'c' && a.State == hotline.AlertAcknowledged)
			if !wanted || !pagedTo(a, officerID) {
				continue
			}
			targets = append(targets, a)
			if !cmd.all {
				break
			}
		}
		if len(targets) == 0 {
			refusal = "Hotline: you have no open alert. "
		}
		return nil
	})
	if err != nil {
		return "", true, err
	}
	if refusal != "" {
		return d.help(officerID, refusal), true, nil
	}
	if cmd.action == 'c' {
		a := targets[0]
		if a.Priority == hotline.P1 && a.State != hotline.AlertClosed {
			d.mu.Lock()
			d.closes[officerID] = pendingClose{alertID: a.ID, at: d.st.Now()}
			d.mu.Unlock()
			return fmt.Sprintf("Hotline: closing P1 alert %d (case %s) needs a second reply: YES within 5 minutes closes it.", a.Number, a.CaseCode), true, nil
		}
		res, err := d.CloseAlert(ctx, a.ID, officerID, "sms")
		if err != nil {
			return "", true, err
		}
		return ackReply(res), true, nil
	}
	var replies []string
	for _, a := range targets {
		res, err := d.Acknowledge(ctx, a.ID, officerID, "sms")
		if err != nil {
			return "", true, err
		}
		replies = append(replies, ackReply(res))
	}
	if len(replies) == 1 {
		return replies[0], true, nil
	}
	numbers := make([]string, len(targets))
	for i, a := range targets {
		numbers[i] = strconv.Itoa(a.Number)
	}
	return fmt.Sprintf("Hotline: alerts %s acknowledged. Open them in the console.", strings.Join(numbers, ", ")), true, nil
}

// confirmClose closes the P1 alert the officer asked to close within the
// last confirmWindow.
func (d *Dispatcher) confirmClose(ctx context.Context, officerID string) (string, bool, error) {
	now := d.st.Now()
	d.mu.Lock()
	p, ok := d.closes[officerID]
	delete(d.closes, officerID)
	d.mu.Unlock()
	if !ok || now.Sub(p.at) > confirmWindow {
		return d.help(officerID, "Hotline: nothing to confirm. "), true, nil
	}
	res, err := d.CloseAlert(ctx, p.alertID, officerID, "sms")
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

// maxBadCodes is how many wrong acknowledgement codes one officer's
// number may send in an hour before SMS commands from it are refused
// (guessing one of 10,000 codes then takes years, not minutes).
const maxBadCodes = 5

// codeTriesLeft reports whether officerID's number may try a code now.
func (d *Dispatcher) codeTriesLeft(officerID string) bool {
	now := d.st.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	recent := d.badCodes[officerID][:0]
	for _, t := range d.badCodes[officerID] {
		if now.Sub(t) < time.Hour {
			recent = append(recent, t)
		}
	}
	d.badCodes[officerID] = recent
	return len(recent) < maxBadCodes
}

func (d *Dispatcher) badCode(officerID string) {
	d.mu.Lock()
	d.badCodes[officerID] = append(d.badCodes[officerID], d.st.Now())
	d.mu.Unlock()
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
	if d.cfg.Escalation.SMSAckCode {
		return prefix + helpTextWithCode
	}
	return prefix + helpText
}
