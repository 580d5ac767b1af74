// Package dispatch turns urgent cases into alerts that reach a human: it
// keeps the officers' rota, opens alerts, runs the escalation policy on
// timers stored in bbolt, and drains the durable outbox of SMS and calls
// through Twilio. Decisions are written in the same transaction as the
// data that caused them; the outbox worker only executes them.
package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/config"
	"github.com/hotline-az/hotline/store"
)

// Sender performs outbound SMS and calls. twilioapi.Client is the real
// one; DevSink prints instead.
type Sender interface {
	SendSMS(ctx context.Context, to, body, statusCallback string) (sid string, err error)
	Call(ctx context.Context, to, twimlURL, statusCallback string) (sid string, err error)
}

// Reconciler is implemented by a Sender that can tell whether an earlier
// try that got no answer did reach Twilio (twilioapi.Client does, by
// listing recent messages and calls). Without it such a job is left
// "uncertain" and never resent.
type Reconciler interface {
	// FindMessage finds a message to to with exactly body created since
	// about since, whose SID skip does not refuse.
	FindMessage(ctx context.Context, to, body string, since time.Time, skip func(sid string) bool) (sid string, found bool, err error)
	// FindCall finds a call to to created since about since, whose SID
	// skip does not refuse.
	FindCall(ctx context.Context, to string, since time.Time, skip func(sid string) bool) (sid string, found bool, err error)
}

// Config wires a Dispatcher.
type Config struct {
	Store      *store.Store
	Sender     Sender
	Escalation config.Escalation
	// PublicURL is where Twilio reaches us for status callbacks and call TwiML.
	PublicURL string
	Logger    zerolog.Logger
	// PollInterval is how often due timers and jobs are checked even when
	// nothing wakes the worker. Default 1s.
	PollInterval time.Duration
	// SendTimeout bounds one Twilio call. Default 20s.
	SendTimeout time.Duration
}

// Dispatcher runs alerting. It is safe for concurrent use.
type Dispatcher struct {
	cfg  Config
	st   *store.Store
	log  zerolog.Logger
	wake chan struct{}

	mu          sync.Mutex
	helpReplies map[string][]time.Time  // officer id → recent help replies
	closes      map[string]pendingClose // officer id → P1 close awaiting YES
	badCodes    map[string][]time.Time  // officer id → recent wrong ack codes
	// lastRotaWatch is when the rota was last looked at for gaps and
	// shifts ahead (rotawatch.go).
	lastRotaWatch time.Time

	health health
}

// rotaSetting is where the rota lives in the store (ids and times only).
const rotaSetting = "rota"

// New returns a Dispatcher; Run starts its worker.
func New(cfg Config) (*Dispatcher, error) {
	if cfg.Store == nil || cfg.Sender == nil {
		return nil, errors.New("dispatch: Store and Sender are required")
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.SendTimeout <= 0 {
		cfg.SendTimeout = 20 * time.Second
	}
	if cfg.Escalation.OutageAlarm.Duration <= 0 {
		cfg.Escalation.OutageAlarm = config.DefaultEscalation().OutageAlarm
	}
	if _, err := time.LoadLocation(cfg.Escalation.TimeZone); err != nil {
		return nil, fmt.Errorf("escalation.time_zone: %w", err)
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	return &Dispatcher{
		cfg: cfg, st: cfg.Store, wake: make(chan struct{}, 1),
		log:         cfg.Logger.With().Str("component", "dispatch").Logger(),
		helpReplies: map[string][]time.Time{},
		closes:      map[string]pendingClose{},
		badCodes:    map[string][]time.Time{},
	}, nil
}

// Wake makes the worker look for due work now (call it after a commit
// that added alerts or jobs).
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run works until ctx ends: first it settles jobs a crash left in flight,
// then it runs due escalation steps and outbox jobs as they fall due. It
// does not give up on an error (a failed Recover is tried again each
// poll); while it is not running, Health reports so.
func (d *Dispatcher) Run(ctx context.Context) error {
	d.health.setRunning(true, d.st.Now())
	defer d.health.setRunning(false, d.st.Now())
	ticker := time.NewTicker(d.cfg.PollInterval)
	defer ticker.Stop()
	recovered := false
	for {
		if !recovered {
			if err := d.Recover(ctx); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				d.health.workerFailed(d.st.Now(), "settling jobs left in flight: "+err.Error())
			} else {
				recovered = true
				d.health.workerOK()
			}
		}
		if recovered {
			if err := d.RunDue(ctx); err != nil && ctx.Err() == nil {
				d.log.Error().Err(err).Msg("run due work")
			}
		}
		d.alarm(d.st.Now())
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		case <-d.wake:
		}
	}
}

// Recover settles jobs that were being handed to Twilio when the process
// died: they may have been sent. With a Reconciler they are retried after
// asking Twilio whether they exist; without one they are marked uncertain
// and not resent. Escalation carries on from its stored timers regardless.
func (d *Dispatcher) Recover(ctx context.Context) error {
	_, canCheck := d.cfg.Sender.(Reconciler)
	return d.st.Update(ctx, func(tx *store.Tx) error {
		jobs, err := tx.JobsInState(hotline.JobSending)
		if err != nil {
			// The worker must start even if a job record is bad.
			d.log.Error().Err(err).Msg("jobs that cannot be trusted were left as they are")
		}
		for i := range jobs {
			j := jobs[i]
			if j.Kind.MediaJob() {
				continue // MediaWorker.Recover puts these back
			}
			j.LastError = "interrupted while sending (process restarted)"
			if canCheck {
				j.State, j.Unconfirmed, j.NextTryAt = hotline.JobPending, true, tx.Now()
			} else {
				j.State = hotline.JobUncertain
				j.LastError += "; not resent to avoid a double alert"
			}
			if err := tx.PutJob(&j); err != nil {
				return err
			}
			d.log.Warn().Str("job", j.ID).Str("alert", j.AlertID).Str("state", string(j.State)).Msg("job was in flight at restart")
		}
		return nil
	})
}

// RunDue runs every escalation step and outbox job due now. Tests with a
// fake clock call it directly.
func (d *Dispatcher) RunDue(ctx context.Context) error {
	now := d.st.Now()
	// One bad record (damaged, or changed outside hotline) is reported but
	// never holds up the other alerts and jobs.
	var errs []error
	if err := d.retryPendingAlerts(ctx, now); err != nil {
		errs = append(errs, err)
	}
	if err := d.watchRota(ctx, now); err != nil && ctx.Err() == nil {
		// A rota that does not load already holds up alerts, which say
		// so; the look ahead logs it (once a minute) and waits.
		d.log.Error().Err(err).Msg("rota watch: gaps and shifts ahead not checked")
	}
	var due []string
	if err := d.st.View(func(tx *store.Tx) error { due = tx.DueAlerts(now, 256); return nil }); err != nil {
		return err
	}
	for _, id := range due {
		err := d.st.Update(ctx, func(tx *store.Tx) error {
			a, err := tx.Alert(id)
			if err != nil || a.State != hotline.AlertOpen || a.NextAt.IsZero() || a.NextAt.After(now) {
				return err
			}
			if err := d.advance(tx, &a, now, false); err != nil {
				return err
			}
			return tx.PutAlert(&a)
		})
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			errs = append(errs, fmt.Errorf("escalate alert %s: %w", id, err))
		}
	}
	var jobs []hotline.Job
	if err := d.st.View(func(tx *store.Tx) error {
		var err error
		jobs, err = tx.DueJobs(now, 64)
		if err != nil {
			errs = append(errs, err)
		}
		return nil
	}); err != nil {
		return err
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for _, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := d.execute(ctx, j.ID); err != nil && ctx.Err() == nil {
				d.log.Error().Err(err).Str("job", j.ID).Msg("outbox job")
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (d *Dispatcher) policy(p hotline.Priority) config.EscalationPolicy {
	if p == hotline.P1 {
		return d.cfg.Escalation.P1
	}
	return d.cfg.Escalation.P2
}

// OnInbound is the store hook run inside the transaction that records a
// tip: a new P1/P2 case, or a case whose priority rose, opens an alert and
// runs its first step, so tip, alert and outbox rows commit together. If
// it fails, the store keeps the tip with an alert-pending mark and the
// worker retries (RunDue).
func (d *Dispatcher) OnInbound(tx *store.Tx, res *store.InboundResult) error {
	c := res.Case
	if c.Priority != hotline.P1 && c.Priority != hotline.P2 {
		return nil
	}
	if !res.NewCase && c.Priority.Rank() <= res.PreviousPriority.Rank() {
		return nil // same urgency as before: an alert already went out (or is pending)
	}
	return d.openAlert(tx, c, res.Lang, !res.NewCase, tx.Now())
}

// openAlert supersedes the case's open alert, if any, opens a new one at
// the case's priority and runs its first step. The case's pending mark,
// if any, is cleared: this alert covers it.
func (d *Dispatcher) openAlert(tx *store.Tx, c hotline.Case, lang hotline.Lang, raised bool, now time.Time) error {
	if old, ok, err := tx.OpenAlertForCase(c.ID); err != nil {
		return err
	} else if ok {
		old.State = hotline.AlertSuperseded
		if err := tx.PutAlert(&old); err != nil {
			return err
		}
		if err := d.cancelPending(tx, old.ID); err != nil {
			return err
		}
	}
	a := hotline.Alert{
		CaseID: c.ID, CaseCode: c.Code, Priority: c.Priority, Channel: c.Channel, Lang: lang,
		Raised: raised, State: hotline.AlertOpen, OpenedAt: now, RoundStart: now,
	}
	// PutAlert first to get the number the alert text quotes.
	if err := tx.PutAlert(&a); err != nil {
		return err
	}
	if err := d.advance(tx, &a, now, false); err != nil {
		return err
	}
	if err := tx.PutAlert(&a); err != nil {
		return err
	}
	return tx.ClearAlertPending(c.ID)
}

// advance runs the alert's steps that are due at now (or, with force, the
// next one at once, as when a delivery failed) and sets NextAt to the next.
func (d *Dispatcher) advance(tx *store.Tx, a *hotline.Alert, now time.Time, force bool) error {
	pol := d.policy(a.Priority)
	for guard := 0; a.State == hotline.AlertOpen && guard < 1000; guard++ {
		if a.Step >= len(pol.Steps) {
			last := pol.Steps[len(pol.Steps)-1].After.Duration
			next := a.RoundStart.Add(last + pol.RoundGap.Duration)
			if next.After(now) && !force {
				a.NextAt = next
				return nil
			}
			a.Round++
			if a.Round >= pol.Repeat {
				if !a.Exhausted {
					a.Exhausted = true
					d.log.Warn().Str("alert", a.ID).Int("number", a.Number).Msg("escalation exhausted without acknowledgement: alerting every supervisor")
					if err := d.alertSupervisors(tx, a, now); err != nil {
						return err
					}
				}
				a.NextAt = time.Time{}
				return nil
			}
			a.Step = 0
			if force {
				a.RoundStart = now
			} else {
				a.RoundStart = next
			}
			force = false
			continue
		}
		st := pol.Steps[a.Step]
		due := a.RoundStart.Add(st.After.Duration)
		if due.After(now) && !force {
			a.NextAt = due
			return nil
		}
		force = false
		reached, err := d.runStep(tx, a, st, now)
		if err != nil {
			return err
		}
		a.Step++
		if !reached {
			// Nobody to alert at this step (a gap in the rota, no backup):
			// move on at once rather than wait in silence.
			d.log.Warn().Str("alert", a.ID).Int("step", a.Step-1).Str("target", st.Target).Msg("no officer for this escalation step; moving to the next")
			force = true
		}
	}
	return nil
}

// runStep queues the jobs of one step; it reports whether anyone was found.
func (d *Dispatcher) runStep(tx *store.Tx, a *hotline.Alert, st config.EscalationStep, now time.Time) (bool, error) {
	ids, err := d.resolveTarget(tx, st.Target, now)
	if err != nil {
		return false, err
	}
	for _, id := range ids {
		if err := d.queue(tx, a, id, st.Channels); err != nil {
			return false, err
		}
	}
	return len(ids) > 0, nil
}

func (d *Dispatcher) queue(tx *store.Tx, a *hotline.Alert, officerID string, channels []string) error {
	jobs, err := tx.Jobs(a.ID)
	if err != nil {
		return err
	}
	for _, ch := range channels {
		kind := hotline.JobAlertSMS
		if ch == "call" {
			kind = hotline.JobAlertCall
		}
		if stillTrying(jobs, officerID, kind) {
			continue // an earlier step's send to them is still retrying: it is the same news
		}
		j := hotline.Job{Kind: kind, AlertID: a.ID, OfficerID: officerID, Round: a.Round, Step: a.Step, State: hotline.JobPending}
		if err := tx.PutJob(&j); err != nil {
			return err
		}
	}
	for _, r := range a.Recipients {
		if r == officerID {
			return nil
		}
	}
	a.Recipients = append(a.Recipients, officerID)
	return nil
}

func (d *Dispatcher) alertSupervisors(tx *store.Tx, a *hotline.Alert, now time.Time) error {
	officers, err := tx.Officers()
	if err != nil {
		return err
	}
	n := 0
	for _, o := range officers {
		if o.Role == hotline.RoleSupervisor {
			if err := d.queue(tx, a, o.ID, []string{"sms", "call"}); err != nil {
				return err
			}
			n++
		}
	}
	if n == 0 {
		d.log.Error().Str("alert", a.ID).Msg("no supervisors registered: an unacknowledged alert has nobody left to reach")
	}
	return nil
}

// resolveTarget turns a policy target into officer ids at time now.
func (d *Dispatcher) resolveTarget(tx *store.Tx, target string, now time.Time) ([]string, error) {
	if name, ok := strings.CutPrefix(target, "officer:"); ok {
		o, found, err := tx.OfficerByName(strings.TrimSpace(name))
		if err != nil || !found {
			return nil, err
		}
		return []string{o.ID}, nil
	}
	rota, err := LoadRota(tx)
	if err != nil {
		return nil, err
	}
	if rota.TimeZone == "" {
		// The configured zone is the default for a rota that names none.
		rota.TimeZone = d.cfg.Escalation.TimeZone
	}
	duty := rota.OnDuty(now)
	var id string
	switch target {
	case config.TargetOnDuty:
		id = duty.Officer
	case config.TargetBackup:
		id = duty.Backup
	case config.TargetSupervisor:
		id = duty.Supervisor
	}
	if id == "" {
		return nil, nil
	}
	return []string{id}, nil
}

// LoadRota reads the rota from the store (an empty rota if none is set).
func LoadRota(tx *store.Tx) (Rota, error) {
	raw, err := tx.Setting(rotaSetting)
	if err != nil {
		return Rota{}, fmt.Errorf("stored rota: %w", err)
	}
	if raw == nil {
		return Rota{TimeZone: DefaultTimeZone}, nil
	}
	var r Rota
	if err := json.Unmarshal(raw, &r); err != nil {
		return r, fmt.Errorf("stored rota: %w", err)
	}
	return r, nil
}

// SaveRota writes the rota to the store.
func SaveRota(tx *store.Tx, r Rota) error {
	raw, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return tx.PutSetting(rotaSetting, raw)
}

// cancelPending cancels the alert's queued jobs; a cancelled call that
// others were riding on sends them back to the queue.
func (d *Dispatcher) cancelPending(tx *store.Tx, alertID string) error {
	jobs, err := tx.Jobs(alertID)
	if err != nil {
		return err
	}
	for i := range jobs {
		if jobs[i].State == hotline.JobPending {
			jobs[i].State = hotline.JobCancelled
			if err := tx.PutJob(&jobs[i]); err != nil {
				return err
			}
			if err := d.settleRiders(tx, jobs[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// stillTrying reports whether a job of this kind to this officer is still
// queued for the alert (retrying through an outage).
func stillTrying(jobs []hotline.Job, officerID string, kind hotline.JobKind) bool {
	for _, j := range jobs {
		if j.OfficerID == officerID && j.Kind == kind && j.State == hotline.JobPending && j.SharedCall == "" {
			return true
		}
	}
	return false
}

// maxBackoff caps the wait between tries of one send: an alert keeps
// trying for as long as it is open, and must go out within this long of
// Twilio coming back.
const maxBackoff = time.Minute

// backoff is exponential with jitter: about 2s, 4s, 8s ... capped at a minute.
func backoff(tries int) time.Duration {
	base := 2 * time.Second << min(max(tries-1, 0), 8)
	base = min(base, maxBackoff)
	return base/2 + rand.N(base/2+1)
}

// Coverage lists what would leave an alert with nobody to reach: no
// officers, no supervisor, hours of the week no shift covers. serve logs
// each at start so a gap is seen before a P1 finds it.
func (d *Dispatcher) Coverage() ([]string, error) {
	var warnings []string
	err := d.st.View(func(tx *store.Tx) error {
		officers, err := tx.Officers()
		if err != nil {
			return err
		}
		if len(officers) == 0 {
			warnings = append(warnings, "no officers registered: alerts reach nobody (hotline officers add)")
			return nil
		}
		supervisors := 0
		for _, o := range officers {
			if o.Role == hotline.RoleSupervisor {
				supervisors++
			}
		}
		if supervisors == 0 {
			warnings = append(warnings, "no supervisor registered: an unacknowledged alert has no one to end with")
		}
		rota, err := LoadRota(tx)
		if err != nil {
			return err
		}
		warnings = append(warnings, rota.Gaps()...)
		return nil
	})
	return warnings, err
}
