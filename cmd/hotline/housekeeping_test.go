package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/rs/zerolog"

	"github.com/hotline-az/hotline/config"
	"github.com/hotline-az/hotline/crypto"
)

// movableClock is a clock the test moves by hand.
type movableClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *movableClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *movableClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestScheduledBackupsMetricsAndReadiness runs the server with backups
// every hour, keep 2, on a fake clock: a backup is taken at the start and
// each hour, old ones are removed, /metrics shows the last success, and
// /readyz fails once the last success is older than two intervals.
func TestScheduledBackupsMetricsAndReadiness(t *testing.T) {
	dir, backups := t.TempDir(), filepath.Join(t.TempDir(), "backups")
	key, _ := crypto.GenerateMasterKey()
	keyFile := filepath.Join(dir, "master.key")
	if err := key.WriteFile(keyFile); err != nil {
		t.Fatal(err)
	}
	id, _ := age.GenerateX25519Identity()
	cfg := config.Default()
	cfg.Addr, cfg.InternalAddr, cfg.DataDir = "127.0.0.1:0", "127.0.0.1:0", dir
	cfg.PublicURL, cfg.MasterKeyFile = "https://hotline.example.az", keyFile
	cfg.Twilio = config.Twilio{AccountSID: testAccountSID, AuthToken: testToken, PhoneNumber: "+994125550000"}
	cfg.BackupRecipients = []string{id.Recipient().String()}
	cfg.Backup = config.ScheduledBackup{Interval: config.Duration{Duration: time.Hour}, Dir: backups, Keep: 2}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	clock := &movableClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	m := &Main{Config: cfg, Logger: zerolog.New(io.Discard), Now: clock.Now, HousekeepingTick: 10 * time.Millisecond}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	internal := "http://" + m.InternalAddr()

	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	names := func() []string {
		entries, _ := os.ReadDir(backups)
		var out []string
		for _, e := range entries {
			out = append(out, e.Name())
		}
		return out
	}
	hasBackups := func(want ...string) func() bool {
		return func() bool { return slices.Equal(names(), want) }
	}
	get := func(path string) (int, string) {
		resp, err := http.Get(internal + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	waitFor("the first backup", hasBackups("hotline-20260301T090000Z.age"))
	// 2026-03-01T09:00:00Z is 1772355600 seconds after the epoch.
	waitFor("/metrics to show the backup", func() bool {
		_, metrics := get("/metrics")
		return strings.Contains(metrics, "hotline_backup_last_success_timestamp_seconds 1.7723556e+09") &&
			// the daily retention purge (the default 90-day number drop) ran at the start too
			strings.Contains(metrics, "hotline_retention_last_run_timestamp_seconds 1.7723556e+09")
	})
	clock.Add(time.Hour)
	waitFor("the second backup", hasBackups("hotline-20260301T090000Z.age", "hotline-20260301T100000Z.age"))
	clock.Add(time.Hour)
	waitFor("the third backup and the first removed", hasBackups("hotline-20260301T100000Z.age", "hotline-20260301T110000Z.age"))

	// The newest backup opens with the age identity.
	f, err := os.Open(filepath.Join(backups, "hotline-20260301T110000Z.age"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := age.Decrypt(f, id)
	if err != nil {
		t.Fatalf("the scheduled backup does not decrypt with the identity: %v", err)
	}
	snapshot, _ := io.ReadAll(r)
	f.Close()
	if len(snapshot) < 4096 {
		t.Errorf("decrypted backup is %d bytes: not a data file", len(snapshot))
	}

	if code, body := get("/readyz"); code != 200 {
		t.Fatalf("/readyz with fresh backups: %d %q", code, body)
	}
	// Backups start failing: the directory is replaced by a file.
	if err := os.RemoveAll(backups); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(backups, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	clock.Add(time.Hour) // one interval since the last success: still ready
	waitFor("a failed backup counted", func() bool {
		_, metrics := get("/metrics")
		return strings.Contains(metrics, "hotline_backup_failures_total 1")
	})
	if code, body := get("/readyz"); code != 200 {
		t.Errorf("/readyz one interval after the last backup: %d %q, want 200", code, body)
	}
	clock.Add(time.Hour + time.Minute) // over two intervals
	waitFor("/readyz to fail", func() bool {
		code, body := get("/readyz")
		return code == http.StatusServiceUnavailable && strings.Contains(body, "backups are overdue")
	})
}
