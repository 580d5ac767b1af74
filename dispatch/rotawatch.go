package dispatch

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/store"
)

// The rota watch looks ahead in the rota, as the worker runs: a
// supervisor is texted escalation.gap_warning before a stretch nobody
// covers (a P1 then would reach nobody until a supervisor is alerted at
// the end of its escalation), and each officer escalation.shift_reminder
// before their duty starts. Each is sent once: what was sent is kept in
// a setting (times and ids only).

// rotaSentSetting holds the keys of the rota SMS already queued, with the
// time each is about, so old ones can be dropped.
const rotaSentSetting = "rota-sms-sent"

// rotaWatchEvery is how often the rota is looked at.
const rotaWatchEvery = time.Minute

// maxRotaSteps bounds the walk through the rota's changes in a horizon.
const maxRotaSteps = 500

// watchRota queues the gap warnings and shift reminders due at now.
func (d *Dispatcher) watchRota(ctx context.Context, now time.Time) error {
	gapAhead, remindAhead := d.cfg.Escalation.GapWarning.Duration, d.cfg.Escalation.ShiftReminder.Duration
	if gapAhead <= 0 && remindAhead <= 0 {
		return nil
	}
	d.mu.Lock()
	if !d.lastRotaWatch.IsZero() && now.Sub(d.lastRotaWatch) < rotaWatchEvery && !now.Before(d.lastRotaWatch) {
		d.mu.Unlock()
		return nil
	}
	d.lastRotaWatch = now
	d.mu.Unlock()
	// Most minutes nothing is due: look first, and write (a commit is an
	// fsync) only when there is something to send.
	queued := false
	var err error
	plan := func(tx *store.Tx, write bool) error {
		queued = false
		rota, err := LoadRota(tx)
		if err != nil {
			return err
		}
		if len(rota.Shifts) == 0 && len(rota.Overrides) == 0 {
			return nil // no rota yet: serve's coverage check says so
		}
		if rota.TimeZone == "" {
			rota.TimeZone = d.cfg.Escalation.TimeZone
		}
		sent, err := loadRotaSent(tx, now)
		if err != nil {
			return err
		}
		var jobs []hotline.Job
		if gapAhead > 0 {
			if from, to, ok := nextGap(rota, now, now.Add(gapAhead)); ok {
				// Keyed by its end, which stays put while the gap runs
				// (its start, seen from inside it, is always now).
				key := "gap/" + strconv.FormatInt(to.Unix(), 10)
				if _, done := sent[key]; !done {
					sent[key] = from.Unix()
					ids, err := d.gapRecipients(tx, rota, now)
					if err != nil {
						return err
					}
					for _, id := range ids {
						jobs = append(jobs, hotline.Job{Kind: hotline.JobGapSMS, OfficerID: id, SpanFrom: from, SpanTo: to})
					}
					d.log.Warn().Time("from", from).Time("to", to).Int("supervisors", len(ids)).Msg("nobody on duty ahead: supervisors texted")
				}
			}
		}
		if remindAhead > 0 {
			for _, s := range dutyStarts(rota, now, now.Add(remindAhead)) {
				key := "remind/" + s.officer + "/" + strconv.FormatInt(s.from.Unix(), 10)
				if _, done := sent[key]; done {
					continue
				}
				sent[key] = s.from.Unix()
				jobs = append(jobs, hotline.Job{Kind: hotline.JobReminderSMS, OfficerID: s.officer, SpanFrom: s.from, SpanTo: s.to})
			}
		}
		if len(jobs) == 0 || !write {
			queued = len(jobs) > 0
			return nil
		}
		for i := range jobs {
			jobs[i].State = hotline.JobPending
			if err := tx.PutJob(&jobs[i]); err != nil {
				return err
			}
		}
		queued = true
		return putRotaSent(tx, sent)
	}
	if err := d.st.View(func(tx *store.Tx) error { return plan(tx, false) }); err != nil || !queued {
		return err
	}
	err = d.st.Update(ctx, func(tx *store.Tx) error { return plan(tx, true) })
	if queued {
		d.Wake()
	}
	return err
}

// nextGap finds the first instant in [now, until] that nobody covers, and
// when that stretch ends (zero: nothing ends it).
func nextGap(r Rota, now, until time.Time) (from, to time.Time, ok bool) {
	t := now
	for range maxRotaSteps {
		if t.After(until) {
			return time.Time{}, time.Time{}, false
		}
		d := r.OnDuty(t)
		if d.Officer == "" {
			return t, d.Until, true
		}
		if d.Until.IsZero() || !d.Until.After(t) {
			return time.Time{}, time.Time{}, false
		}
		t = d.Until
	}
	return time.Time{}, time.Time{}, false
}

type dutyStart struct {
	officer  string
	from, to time.Time
}

// dutyStarts lists who comes on duty in (now, until]: an officer whose
// duty goes on without a break is not reminded at each change of shift.
func dutyStarts(r Rota, now, until time.Time) []dutyStart {
	var out []dutyStart
	prev := r.OnDuty(now)
	t := prev.Until
	for range maxRotaSteps {
		if t.IsZero() || t.After(until) {
			break
		}
		d := r.OnDuty(t)
		if d.Officer != "" && d.Officer != prev.Officer {
			out = append(out, dutyStart{officer: d.Officer, from: t, to: dutyEnd(r, d.Officer, t)})
		}
		if !d.Until.After(t) {
			break
		}
		prev, t = d, d.Until
	}
	return out
}

// dutyEnd is when officer's duty that runs at t ends (zero: never), over
// back-to-back shifts, looking at most a week ahead.
func dutyEnd(r Rota, officer string, t time.Time) time.Time {
	limit := t.Add(7 * 24 * time.Hour)
	for range maxRotaSteps {
		d := r.OnDuty(t)
		if d.Officer != officer {
			return t
		}
		if d.Until.IsZero() || d.Until.After(limit) {
			return d.Until
		}
		t = d.Until
	}
	return t
}

// gapRecipients are the supervisor on duty now, or every supervisor when
// the rota names none.
func (d *Dispatcher) gapRecipients(tx *store.Tx, r Rota, now time.Time) ([]string, error) {
	if id := r.OnDuty(now).Supervisor; id != "" {
		if _, err := tx.Officer(id); err == nil {
			return []string{id}, nil
		}
	}
	officers, err := tx.Officers()
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, o := range officers {
		if o.Role == hotline.RoleSupervisor {
			ids = append(ids, o.ID)
		}
	}
	return ids, nil
}

func loadRotaSent(tx *store.Tx, now time.Time) (map[string]int64, error) {
	sent := map[string]int64{}
	raw, err := tx.Setting(rotaSentSetting)
	if err != nil || raw == nil {
		return sent, err
	}
	if err := json.Unmarshal(raw, &sent); err != nil {
		return nil, fmt.Errorf("setting %s: %w", rotaSentSetting, err)
	}
	// What is over is forgotten: a week back is more than any horizon.
	for k, at := range sent {
		if time.Unix(at, 0).Before(now.Add(-7 * 24 * time.Hour)) {
			delete(sent, k)
		}
	}
	return sent, nil
}

func putRotaSent(tx *store.Tx, sent map[string]int64) error {
	b, err := json.Marshal(sent)
	if err != nil {
		return err
	}
	return tx.PutSetting(rotaSentSetting, b)
}

// RotaText is the SMS of a gap warning or a shift reminder, with times in
// the rota's zone.
func RotaText(kind hotline.JobKind, from, to, now time.Time, loc *time.Location) string {
	at := func(t time.Time) string { return t.In(loc).Format("Mon 02 Jan 15:04") }
	until := "with no shift after it"
	if !to.IsZero() {
		until = "to " + at(to)
	}
	if kind == hotline.JobGapSMS {
		when := "now"
		if in := from.Sub(now).Round(time.Minute); in > 0 {
			when = "in " + strings.TrimSuffix(strings.TrimSuffix(in.String(), "0s"), "0m")
		}
		return fmt.Sprintf("Hotline: nobody is on duty from %s %s (%s, starts %s). Alerts then reach nobody until escalation ends: set a shift or an override.",
			at(from), until, loc, when)
	}
	return fmt.Sprintf("Hotline: your duty starts %s and runs %s (%s). Alerts come to this phone; reply with the alert number and a to acknowledge.",
		at(from), until, loc)
}

// startRotaSMS marks a gap warning or shift reminder sending and fills in
// the officer's number and the text; an officer removed since is skipped.
func (d *Dispatcher) startRotaSMS(tx *store.Tx, j hotline.Job, job *hotline.Job, to, body *string) error {
	o, err := tx.Officer(j.OfficerID)
	if err != nil {
		j.State, j.LastError = hotline.JobCancelled, "officer no longer registered"
		*job = j
		return tx.PutJob(&j)
	}
	rota, err := LoadRota(tx)
	if err != nil {
		return err
	}
	if rota.TimeZone == "" {
		rota.TimeZone = d.cfg.Escalation.TimeZone
	}
	j.State = hotline.JobSending
	j.Tries++
	if j.FirstTryAt.IsZero() {
		j.FirstTryAt = tx.Now()
	}
	*job, *to, *body = j, o.Phone, RotaText(j.Kind, j.SpanFrom, j.SpanTo, tx.Now(), rota.location())
	return tx.PutJob(&j)
}
