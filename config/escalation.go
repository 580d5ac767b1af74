package config

import (
	"fmt"
	"strings"
	"time"
)

// Escalation targets besides a named officer.
const (
	TargetOnDuty     = "on_duty"
	TargetBackup     = "backup"
	TargetSupervisor = "supervisor"
)

// EscalationStep alerts one target on one or more channels, After the
// start of the round.
type EscalationStep struct {
	After    Duration `toml:"after"`
	Channels []string `toml:"channels"` // "sms", "call"
	// Target is on_duty, backup, supervisor, or "officer:NAME".
	Target string `toml:"target"`
}

// EscalationPolicy is the ordered steps for one priority. The steps run
// Repeat times (rounds), RoundGap apart; then every supervisor is alerted.
type EscalationPolicy struct {
	Steps    []EscalationStep `toml:"step"`
	Repeat   int              `toml:"repeat"`
	RoundGap Duration         `toml:"round_gap"`
}

// Escalation configures alerting: the rota's time zone and a policy for
// P1 and P2 (P3 never alerts).
type Escalation struct {
	TimeZone string           `toml:"time_zone"`
	P1       EscalationPolicy `toml:"p1"`
	P2       EscalationPolicy `toml:"p2"`
	// MaxTries is kept so older config files still load. Alert SMS and
	// calls no longer give up after a count: they retry with capped
	// backoff for as long as their alert is open.
	MaxTries int `toml:"max_tries"`
	// OutageAlarm is how long Twilio may keep failing (or the alert
	// worker stay stopped) before the dispatcher reports itself unhealthy:
	// /readyz fails, a metric shows it and an error is logged every minute.
	OutageAlarm Duration `toml:"outage_alarm"`
	// GapWarning is how long before a stretch that no shift or override
	// covers a supervisor is texted about it (0: never).
	GapWarning Duration `toml:"gap_warning"`
	// ShiftReminder is how long before their duty starts an officer is
	// texted a reminder (0, the default: no reminders).
	ShiftReminder Duration `toml:"shift_reminder"`
	// SMSAckCode makes every alert SMS carry a four-digit code for its
	// recipient, and SMS commands that acknowledge or close an alert
	// valid only with it ("12a 4821"): a text sent with a forged sender
	// number cannot silence an alert. Off by default: it costs the short
	// forms "a" and "aa".
	SMSAckCode bool `toml:"sms_ack_code"`
}

func step(after time.Duration, target string, channels ...string) EscalationStep {
	return EscalationStep{After: Duration{after}, Target: target, Channels: channels}
}

// DefaultEscalation: P1 texts and calls the on-duty officer at once, the
// backup after 5 minutes and the supervisor after 10; P2 texts the
// on-duty officer, calls after 10 minutes, and reaches the backup after 20.
func DefaultEscalation() Escalation {
	return Escalation{
		TimeZone:    "Asia/Baku",
		MaxTries:    6,
		OutageAlarm: Duration{2 * time.Minute},
		GapWarning:  Duration{2 * time.Hour},
		P1: EscalationPolicy{Repeat: 3, RoundGap: Duration{5 * time.Minute}, Steps: []EscalationStep{
			step(0, TargetOnDuty, "sms", "call"),
			step(5*time.Minute, TargetBackup, "sms", "call"),
			step(10*time.Minute, TargetSupervisor, "sms", "call"),
		}},
		P2: EscalationPolicy{Repeat: 2, RoundGap: Duration{10 * time.Minute}, Steps: []EscalationStep{
			step(0, TargetOnDuty, "sms"),
			step(10*time.Minute, TargetOnDuty, "call"),
			step(20*time.Minute, TargetBackup, "sms", "call"),
		}},
	}
}

// validate appends a problem per bad field, each named by its TOML path.
func (e Escalation) validate(bad func(field, format string, args ...any)) {
	if _, err := time.LoadLocation(e.TimeZone); err != nil || e.TimeZone == "" {
		bad("escalation.time_zone", "unknown time zone %q (use an IANA name like Asia/Baku)", e.TimeZone)
	}
	if e.MaxTries < 1 || e.MaxTries > 50 {
		bad("escalation.max_tries", "must be between 1 and 50, got %d", e.MaxTries)
	}
	if e.OutageAlarm.Duration < 10*time.Second || e.OutageAlarm.Duration > 24*time.Hour {
		bad("escalation.outage_alarm", "must be between 10s and 24h, got %s", e.OutageAlarm.Duration)
	}
	for field, d := range map[string]time.Duration{"escalation.gap_warning": e.GapWarning.Duration, "escalation.shift_reminder": e.ShiftReminder.Duration} {
		if d != 0 && (d < 5*time.Minute || d > 7*24*time.Hour) {
			bad(field, "must be 0 (off) or between 5m and 168h, got %s", d)
		}
	}
	for name, p := range map[string]EscalationPolicy{"p1": e.P1, "p2": e.P2} {
		field := "escalation." + name
		if len(p.Steps) == 0 {
			bad(field+".step", "needs at least one step")
		}
		if p.Repeat < 1 || p.Repeat > 20 {
			bad(field+".repeat", "must be between 1 and 20, got %d", p.Repeat)
		}
		if p.RoundGap.Duration < 0 {
			bad(field+".round_gap", "must not be negative")
		}
		var prev time.Duration
		for i, s := range p.Steps {
			sf := fmt.Sprintf("%s.step[%d]", field, i)
			if s.After.Duration < prev {
				bad(sf+".after", "steps must be in order of time: %s comes before the previous step's %s", s.After.Duration, prev)
			}
			prev = s.After.Duration
			if len(s.Channels) == 0 {
				bad(sf+".channels", "needs \"sms\", \"call\" or both")
			}
			for _, c := range s.Channels {
				if c != "sms" && c != "call" {
					bad(sf+".channels", "unknown channel %q (use sms or call)", c)
				}
			}
			switch {
			case s.Target == TargetOnDuty, s.Target == TargetBackup, s.Target == TargetSupervisor:
			case strings.HasPrefix(s.Target, "officer:") && strings.TrimSpace(strings.TrimPrefix(s.Target, "officer:")) != "":
			default:
				bad(sf+".target", "must be on_duty, backup, supervisor or officer:NAME, got %q", s.Target)
			}
		}
	}
}
