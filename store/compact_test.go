package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/store"
)

// TestCompactShrinksAfterPurgeAndKeepsData purges most cases, compacts
// the file, and checks it shrank, opens, checks clean and audits it; and
// that compaction is refused while another process holds the file.
func TestCompactShrinksAfterPurgeAndKeepsData(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{t: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	dir, key := t.TempDir(), testKey(t)
	s := MustOpen(t, dir, key, clock)
	codes := fillTips(t, s, 400)
	clock.Add(2 * day)
	kept := fillTips2(t, s, 5)
	clock.Add(day)
	if _, err := s.Purge(ctx, store.RetentionPolicy{CloseUntouched: 2 * day}, store.PurgeOptions{By: cliAdmin}); err != nil {
		t.Fatal(err)
	}
	clock.Add(2 * day)
	rep, err := s.Purge(ctx, store.RetentionPolicy{DeleteClosed: day}, store.PurgeOptions{By: cliAdmin})
	if err != nil || len(rep.Deleted) != len(codes) {
		t.Fatalf("Purge deleted %d, %v; want %d", len(rep.Deleted), err, len(codes))
	}

	opts := store.Options{Logger: zerolog.Nop(), Now: clock.Now, LockTimeout: 200 * time.Millisecond}
	if _, err := store.Compact(dir, store.MasterKeySource{Key: &key}, opts, cliAdmin); !errors.Is(err, store.ErrLocked) {
		t.Errorf("Compact while the store is open: err = %v, want ErrLocked", err)
	}
	s.Close()
	before := fileSize(t, dir)
	crep, err := store.Compact(dir, store.MasterKeySource{Key: &key}, opts, cliAdmin)
	if err != nil {
		t.Fatal(err)
	}
	after := fileSize(t, dir)
	if crep.Before != before || crep.After != after || after >= before/2 {
		t.Errorf("Compact = %+v (file %d → %d bytes); want the file at least halved", crep, before, after)
	}
	if _, err := os.Stat(filepath.Join(dir, store.FileName+".compact")); !os.IsNotExist(err) {
		t.Errorf("the temporary file is left behind: %v", err)
	}
	s = MustOpen(t, dir, key, clock)
	defer s.Close()
	for _, code := range kept {
		if c, err := s.CaseByCode(code); err != nil || c.ReporterPhone == "" {
			t.Errorf("kept case %s after compaction: %+v, %v", code, c, err)
		}
	}
	if _, err := s.VerifyRecords(func(bucket, id string, err error) { t.Errorf("check after compact: %s/%s: %v", bucket, id, err) }); err != nil {
		t.Fatal(err)
	}
	if acts := auditActions(t, s); !strings.HasSuffix(acts, "store.compact:") {
		t.Errorf("audit = %q, want it to end with store.compact", acts)
	}
	if n, problems, err := s.VerifyAudit(); err != nil || len(problems) != 0 {
		t.Errorf("VerifyAudit after compaction = %d, %v, %v", n, problems, err)
	}
}

func fillTips2(tb testing.TB, s *store.Store, n int) []string {
	tb.Helper()
	var codes []string
	for i := range n {
		res, err := s.RecordInboundSMS(context.Background(), sms("SMkeep"+string(rune('a'+i)), "+99470000000"+string(rune('0'+i)), "kept", hotline.P3), nil)
		if err != nil {
			tb.Fatal(err)
		}
		codes = append(codes, res.Case.Code)
	}
	return codes
}

func fileSize(tb testing.TB, dir string) int64 {
	tb.Helper()
	st, err := os.Stat(filepath.Join(dir, store.FileName))
	if err != nil {
		tb.Fatal(err)
	}
	return st.Size()
}
