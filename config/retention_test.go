package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hotline-az/hotline/config"
)

func TestRetentionDefaultsAndFile(t *testing.T) {
	d := config.Default()
	if d.Retention != (config.Retention{DropNumberDays: 90}) || d.Backup.Enabled() {
		t.Errorf("defaults: retention %+v, backups enabled %v; want only the 90-day number drop, no backups", d.Retention, d.Backup.Enabled())
	}
	file := writeFile(t, "hotline.toml", `
backup_recipients = ["age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"]
[retention]
close_untouched_days = 30
delete_closed_days = 365
drop_number_days = 0
[backup]
interval = "6h"
dir = "/var/backups/hotline"
keep = 3
`)
	cfg, err := config.Load(config.Flags{ConfigFile: file}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	want := config.Retention{CloseUntouchedDays: 30, DeleteClosedDays: 365}
	if cfg.Retention != want || cfg.Backup.Interval.Duration != 6*time.Hour || cfg.Backup.Dir != "/var/backups/hotline" || cfg.Backup.Keep != 3 {
		t.Errorf("loaded retention %+v backup %+v", cfg.Retention, cfg.Backup)
	}
}

func TestRetentionAndBackupProblemsNameTheField(t *testing.T) {
	cfg := config.Default()
	cfg.Dev = true
	cfg.Retention = config.Retention{CloseUntouchedDays: -1, DropNumberDays: 3} // 3 days < the 7-day case window
	cfg.Backup = config.ScheduledBackup{Interval: config.Duration{Duration: time.Second}, Dir: "backups", Keep: 0}
	err := cfg.Validate()
	if err == nil {
		t.Fatal("Validate accepted bad retention and backup settings")
	}
	for _, want := range []string{
		"retention.close_untouched_days: must be a number of days from 0 (off)",
		"retention.drop_number_days: must be longer than case_window",
		"backup.dir: must be an absolute path",
		"backup.interval: must be at least 1m",
		"backup.keep: must be at least 1",
		"backup_recipients (HOTLINE_BACKUP_RECIPIENTS): is required for scheduled backups",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate error lacks %q:\n%v", want, err)
		}
	}
}
