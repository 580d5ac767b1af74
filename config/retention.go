package config

import (
	"path/filepath"
	"time"

	"filippo.io/age"
)

// Retention is how long data is kept, in days; 0 turns a rule off.
type Retention struct {
	// CloseUntouchedDays closes open cases with nothing new for this many
	// days (default 0: off).
	CloseUntouchedDays int `toml:"close_untouched_days"`
	// DeleteClosedDays deletes closed cases untouched for this many days:
	// the case, its messages, notes and workflow, its code, its reporter
	// and dedup entries (default 0: off).
	DeleteClosedDays int `toml:"delete_closed_days"`
	// DropNumberDays removes the reporter's sealed number from cases
	// untouched for this many days, keeping its keyed hash so their next
	// text still threads (default 90).
	DropNumberDays int `toml:"drop_number_days"`
}

// DefaultRetention keeps everything except reporters' numbers, which are
// dropped 90 days after a case was last touched.
func DefaultRetention() Retention { return Retention{DropNumberDays: 90} }

// Day is the unit of the retention settings.
const Day = 24 * time.Hour

func (r Retention) validate(bad func(field, format string, args ...any), caseWindow time.Duration) {
	const max = 100 * 365
	for _, f := range []struct {
		name string
		days int
	}{
		{"retention.close_untouched_days", r.CloseUntouchedDays},
		{"retention.delete_closed_days", r.DeleteClosedDays},
		{"retention.drop_number_days", r.DropNumberDays},
	} {
		if f.days < 0 || f.days > max {
			bad(f.name, "must be a number of days from 0 (off) to %d, got %d", max, f.days)
		}
	}
	if r.DropNumberDays > 0 && time.Duration(r.DropNumberDays)*Day <= caseWindow {
		bad("retention.drop_number_days", "must be longer than case_window (%s): a case still taking texts needs its number for replies", caseWindow)
	}
}

// ScheduledBackup makes the server write an age-encrypted backup every
// Interval into Dir, keeping the newest Keep. An empty Dir turns it off.
type ScheduledBackup struct {
	Interval Duration `toml:"interval"`
	Dir      string   `toml:"dir"`
	Keep     int      `toml:"keep"`
}

// Enabled reports whether scheduled backups are configured.
func (b ScheduledBackup) Enabled() bool { return b.Dir != "" }

func (b ScheduledBackup) validate(bad func(field, format string, args ...any), recipients []string) {
	if !b.Enabled() {
		if b.Interval.Duration != 0 {
			bad("backup.dir", "is required when backup.interval is set")
		}
		return
	}
	if !filepath.IsAbs(b.Dir) {
		bad("backup.dir", "must be an absolute path, got %q", b.Dir)
	}
	if b.Interval.Duration < time.Minute {
		bad("backup.interval", "must be at least 1m (like \"24h\"), got %s", b.Interval.Duration)
	}
	if b.Keep < 1 {
		bad("backup.keep", "must be at least 1, got %d", b.Keep)
	}
	if len(recipients) == 0 {
		bad("backup_recipients (HOTLINE_BACKUP_RECIPIENTS)", "is required for scheduled backups: the age public keys (age1...) they are encrypted to")
	}
	for _, r := range recipients {
		if _, err := age.ParseX25519Recipient(r); err != nil {
			bad("backup_recipients (HOTLINE_BACKUP_RECIPIENTS)", "%q is not an age public key (age1...)", r)
		}
	}
}
