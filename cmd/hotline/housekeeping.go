package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"filippo.io/age"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/hotline-az/hotline/config"
	"github.com/hotline-az/hotline/console"
	"github.com/hotline-az/hotline/store"
)

// housekeeping runs the server's scheduled work: the daily retention
// purge and the scheduled backups. Both decide from durable state (the
// time of the last purge in the data file, the names of the backups in
// the backup directory), so a restart neither skips nor repeats them.
type housekeeping struct {
	st         *store.Store
	keys       console.KeyService
	policy     store.RetentionPolicy
	backup     config.ScheduledBackup
	recipients []age.Recipient
	now        func() time.Time
	log        zerolog.Logger
	started    time.Time

	mu             sync.Mutex
	lastBackup     time.Time // the newest backup in the directory
	backupFailures int
	lastPurge      time.Time

	done chan struct{}
}

// settingLastPurge is when the retention purge last ran (RFC 3339).
const settingLastPurge = "retention_last_run"

// purgeEvery is how often the retention purge runs.
const purgeEvery = 24 * time.Hour

// backupPrefix and backupSuffix frame a scheduled backup's file name;
// the time between them sorts and tells when it was taken.
const (
	backupPrefix     = "hotline-"
	backupSuffix     = ".age"
	backupTimeLayout = "20060102T150405Z"
)

func newHousekeeping(st *store.Store, keys console.KeyService, cfg config.Config, now func() time.Time, log zerolog.Logger) (*housekeeping, error) {
	h := &housekeeping{
		st: st, keys: keys, policy: retentionPolicy(cfg.Retention), backup: cfg.Backup, now: now,
		log: log.With().Str("component", "housekeeping").Logger(), started: now(), done: make(chan struct{}),
	}
	if h.backup.Enabled() {
		var err error
		if h.recipients, err = parseRecipients(cfg.BackupRecipients, "backup_recipients"); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(h.backup.Dir, 0o700); err != nil {
			return nil, fmt.Errorf("backup.dir: %w", err)
		}
		h.lastBackup, _ = h.backups()
	}
	err := st.View(func(tx *store.Tx) error {
		v, err := tx.Setting(settingLastPurge)
		if err == nil && v != nil {
			h.lastPurge, err = time.Parse(time.RFC3339Nano, string(v))
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read the last retention run: %w", err)
	}
	return h, nil
}

// run checks every tick until ctx ends.
func (h *housekeeping) run(ctx context.Context, tick time.Duration) {
	defer close(h.done)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		h.once(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// once does whatever is due.
func (h *housekeeping) once(ctx context.Context) {
	now := h.now()
	h.mu.Lock()
	backupDue := h.backup.Enabled() && now.Sub(h.lastBackup) >= h.backup.Interval.Duration
	purgeDue := !h.policy.Off() && now.Sub(h.lastPurge) >= purgeEvery
	h.mu.Unlock()
	if backupDue {
		h.takeBackup(ctx, now)
	}
	if purgeDue && ctx.Err() == nil {
		h.purge(ctx, now)
	}
}

func (h *housekeeping) takeBackup(ctx context.Context, now time.Time) {
	name := filepath.Join(h.backup.Dir, backupPrefix+now.UTC().Format(backupTimeLayout)+backupSuffix)
	start := time.Now()
	err := writeBackup(ctx, h.keys, name, h.recipients, io.Discard)
	if err == nil {
		err = h.prune()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil {
		h.backupFailures++
		h.log.Error().Err(err).Msg("scheduled backup failed")
		return
	}
	h.lastBackup = now
	h.log.Info().Str("file", filepath.Base(name)).Dur("took", time.Since(start)).Msg("scheduled backup written")
}

// backups returns the time of the newest scheduled backup in the
// directory and the names of all of them, oldest first.
func (h *housekeeping) backups() (time.Time, []string) {
	entries, err := os.ReadDir(h.backup.Dir)
	if err != nil {
		return time.Time{}, nil
	}
	var names []string
	var newest time.Time
	for _, e := range entries {
		n := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(n, backupPrefix) || !strings.HasSuffix(n, backupSuffix) {
			continue
		}
		at, err := time.Parse(backupTimeLayout, strings.TrimSuffix(strings.TrimPrefix(n, backupPrefix), backupSuffix))
		if err != nil {
			continue
		}
		names = append(names, n)
		if at.After(newest) {
			newest = at
		}
	}
	slices.Sort(names)
	return newest, names
}

// prune keeps the newest backup.keep scheduled backups.
func (h *housekeeping) prune() error {
	_, names := h.backups()
	for len(names) > h.backup.Keep {
		if err := os.Remove(filepath.Join(h.backup.Dir, names[0])); err != nil {
			return fmt.Errorf("remove an old backup: %w", err)
		}
		names = names[1:]
	}
	return nil
}

func (h *housekeeping) purge(ctx context.Context, now time.Time) {
	rep, err := h.st.Purge(ctx, h.policy, store.PurgeOptions{By: store.AuditEntry{Actor: "retention", Via: "server"}})
	if err == nil {
		err = h.st.Update(ctx, func(tx *store.Tx) error {
			return tx.PutSetting(settingLastPurge, []byte(now.UTC().Format(time.RFC3339Nano)))
		})
	}
	if err != nil {
		h.log.Error().Err(err).Msg("retention purge failed; it is tried again at the next check")
		return
	}
	h.mu.Lock()
	h.lastPurge = now
	h.mu.Unlock()
	h.log.Info().Int("closed", len(rep.Closed)).Int("numbers_dropped", len(rep.NumbersDropped)).
		Int("deleted", len(rep.Deleted)).Int("messages", rep.Messages).Msg("retention purge done")
}

// backupReady fails when scheduled backups are on and the last success
// (or the start, before any) is older than twice the interval.
func (h *housekeeping) backupReady() error {
	if !h.backup.Enabled() {
		return nil
	}
	h.mu.Lock()
	last := h.lastBackup
	h.mu.Unlock()
	if last.Before(h.started) && h.now().Sub(h.started) < 2*h.backup.Interval.Duration {
		return nil // just started: the first backup is under way
	}
	if age := h.now().Sub(last); age > 2*h.backup.Interval.Duration {
		return fmt.Errorf("the last backup is %s old (backup.interval %s)", age.Round(time.Second), h.backup.Interval.Duration)
	}
	return nil
}

var (
	descBackupLast     = prometheus.NewDesc("hotline_backup_last_success_timestamp_seconds", "When the newest scheduled backup was taken (0: none yet).", nil, nil)
	descBackupFailures = prometheus.NewDesc("hotline_backup_failures_total", "Scheduled backups that failed since the start.", nil, nil)
	descPurgeLast      = prometheus.NewDesc("hotline_retention_last_run_timestamp_seconds", "When the retention purge last ran (0: never).", nil, nil)
)

// Describe implements prometheus.Collector.
func (h *housekeeping) Describe(ch chan<- *prometheus.Desc) {
	ch <- descBackupLast
	ch <- descBackupFailures
	ch <- descPurgeLast
}

// Collect implements prometheus.Collector.
func (h *housekeeping) Collect(ch chan<- prometheus.Metric) {
	h.mu.Lock()
	defer h.mu.Unlock()
	stamp := func(t time.Time) float64 {
		if t.IsZero() {
			return 0
		}
		return float64(t.UnixNano()) / 1e9
	}
	if h.backup.Enabled() {
		ch <- prometheus.MustNewConstMetric(descBackupLast, prometheus.GaugeValue, stamp(h.lastBackup))
		ch <- prometheus.MustNewConstMetric(descBackupFailures, prometheus.CounterValue, float64(h.backupFailures))
	}
	ch <- prometheus.MustNewConstMetric(descPurgeLast, prometheus.GaugeValue, stamp(h.lastPurge))
}
