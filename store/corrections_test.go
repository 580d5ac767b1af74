package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/internal/leaktest"
	"github.com/hotline-az/hotline/store"
)

const correctionReason = "Reporter asked for the embassy phone number; nobody is held"

// correct changes a case's priority in its own transaction.
func correct(tb testing.TB, s *store.Store, caseID string, to hotline.Priority, reason string) (hotline.Correction, error) {
	tb.Helper()
	var corr hotline.Correction
	err := s.Update(context.Background(), func(tx *store.Tx) error {
		var err error
		corr, err = tx.CorrectPriority(caseID, to, "officer-1", "console", reason)
		return err
	})
	return corr, err
}

func TestCorrectPriorityIsStoredSealedAndCounted(t *testing.T) {
	dir, key, clock := t.TempDir(), testKey(t), &fakeClock{t: time.Date(2026, 12, 1, 22, 0, 0, 0, time.UTC)}
	ctx := context.Background()
	s := MustOpen(t, dir, key, clock)
	tip := "Salam, səfirliyin nömrəsini deyə bilərsiniz? Yeni telefon almışam"
	first, err := s.RecordInboundSMS(ctx, sms("SM1", "+994501234567", tip, hotline.P1), nil)
	if err != nil {
		t.Fatal(err)
	}
	clock.Add(time.Minute)
	if _, err := s.RecordInboundSMS(ctx, sms("SM2", "+994501234567", "second text", hotline.P2), nil); err != nil {
		t.Fatal(err)
	}
	caseID := first.Case.ID

	for _, bad := range []struct {
		to     hotline.Priority
		reason string
		code   string
	}{
		{"P4", correctionReason, hotline.EINVALID},
		{hotline.P2, "   ", hotline.EINVALID},
		{hotline.P2, strings.Repeat("ə", store.MaxCorrectionReason+1), hotline.ETOOLARGE},
		{hotline.P2, "bad\x00byte", hotline.EINVALID},
		{hotline.P1, correctionReason, hotline.ECONFLICT}, // already P1
	} {
		_, err := correct(t, s, caseID, bad.to, bad.reason)
		var he *hotline.Error
		if !errors.As(err, &he) || he.Code != bad.code {
			t.Errorf("correct to %q with a %d-byte reason: got %v, want code %s", bad.to, len(bad.reason), err, bad.code)
		}
	}

	clock.Add(time.Minute)
	corr, err := correct(t, s, caseID, hotline.P2, correctionReason)
	if err != nil {
		t.Fatal(err)
	}
	if corr.From != hotline.P1 || corr.To != hotline.P2 || corr.TriagePriority != hotline.P1 || !corr.Lowered() {
		t.Fatalf("correction: got %+v, want P1 to P2, triage P1, lowered", corr)
	}
	// A later text on the case is not part of the labelled tip.
	clock.Add(time.Minute)
	if _, err := s.RecordInboundSMS(ctx, sms("SM3", "+994501234567", "after the correction", hotline.P3), nil); err != nil {
		t.Fatal(err)
	}
	clock.Add(time.Minute)
	other, err := s.RecordInboundSMS(ctx, sms("SM4", "+994509999999", "they lock us in at night", hotline.P3), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := correct(t, s, other.Case.ID, hotline.P1, "locked in, raised"); err != nil {
		t.Fatal(err)
	}

	err = s.View(func(tx *store.Tx) error {
		c, err := tx.Case(caseID)
		if err != nil {
			return err
		}
		if c.Priority != hotline.P2 {
			t.Errorf("case priority after the correction: got %s, want P2", c.Priority)
		}
		list, err := tx.Corrections(caseID)
		if err != nil {
			return err
		}
		if len(list) != 1 || list[0].Reason != correctionReason || strings.Join(list[0].TriageMatched, ",") != "rule_a" || list[0].OfficerID != "officer-1" {
			t.Errorf("stored corrections: got %+v, want one with the reason, rule_a and officer-1", list)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	tips, skipped, err := s.CorrectedTips()
	if err != nil {
		t.Fatal(err)
	}
	if skipped != 0 || len(tips) != 2 {
		t.Fatalf("corrected tips: got %d (skipped %d), want 2", len(tips), skipped)
	}
	if want := tip + "\nsecond text"; tips[0].Text != want || tips[0].Priority != hotline.P2 || tips[0].Triage != hotline.P1 || tips[0].Lang != hotline.LangAz {
		t.Errorf("first tip: got %+v, want the two texts before the correction, P2, triage P1, az", tips[0])
	}
	if tips[1].Priority != hotline.P1 || tips[1].Triage != hotline.P3 {
		t.Errorf("second tip: got %+v, want P1 raised from P3", tips[1])
	}

	st, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	want := store.CorrectionStats{Total: 2, Lowered: 1, Raised: 1, P1Lowered: 1, P3Raised: 1, ByChange: map[string]int{"P1_to_P2": 1, "P3_to_P1": 1}}
	if got := st.Corrections; got.Total != want.Total || got.Lowered != want.Lowered || got.Raised != want.Raised ||
		got.P1Lowered != want.P1Lowered || got.P3Raised != want.P3Raised || len(got.ByChange) != 2 || got.ByChange["P1_to_P2"] != 1 || got.ByChange["P3_to_P1"] != 1 {
		t.Errorf("stats: got %+v, want %+v", got, want)
	}
	if n, err := s.VerifyRecords(func(bucket, id string, err error) { t.Errorf("verify: %s %s: %v", bucket, id, err) }); err != nil || n == 0 {
		t.Fatalf("verify: %d records, %v", n, err)
	}
	// Key rotation covers corrections: after a rewrap, version 1 protects
	// nothing, can be retired, and every correction still opens.
	if _, err := s.RotateKey(ctx, store.AuditEntry{Actor: "cli", Via: "cli"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RewrapKeys(ctx, store.RewrapOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.RetireKey(ctx, 1, store.AuditEntry{Actor: "cli", Via: "cli"}); err != nil {
		t.Fatalf("retire version 1 after the rewrap: %v", err)
	}
	if tips, _, err := s.CorrectedTips(); err != nil || len(tips) != 2 {
		t.Fatalf("corrections after rotation: %d, %v", len(tips), err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Counting needs no key and opens nothing; the file holds no reason.
	st, err = store.ReadStats(dir)
	if err != nil || st.Corrections.P1Lowered != 1 {
		t.Fatalf("ReadStats: got %+v, %v; want one P1 lowered", st.Corrections, err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	leaktest.Check(t, "the data file", string(raw), leaktest.Runs(correctionReason, 12)...)
	leaktest.Check(t, "the data file", string(raw), "rule_a", "locked in")
}

func TestTamperedCorrectionIsNamed(t *testing.T) {
	dir, key := t.TempDir(), testKey(t)
	s := MustOpen(t, dir, key, nil)
	res, err := s.RecordInboundSMS(context.Background(), sms("SM1", "+994501234567", "text", hotline.P1), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := correct(t, s, res.Case.ID, hotline.P3, correctionReason); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// Someone with write access but no key turns "P1>P3" into "P1>P2".
	db, err := bolt.Open(filepath.Join(dir, store.FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("case_corrections"))
		k, v := b.Cursor().First()
		return b.Put(append([]byte(nil), k...), []byte(strings.Replace(string(v), `"to":"P3"`, `"to":"P2"`, 1)))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s = MustOpen(t, dir, key, nil)
	defer s.Close()
	var problems []string
	if _, err := s.VerifyRecords(func(bucket, id string, err error) {
		problems = append(problems, bucket+": "+err.Error())
	}); err != nil {
		t.Fatal(err)
	}
	if len(problems) != 1 || !strings.HasPrefix(problems[0], "case_corrections: ") || !strings.Contains(problems[0], "integrity tag") {
		t.Fatalf("verify after editing a correction: got %q, want one integrity problem in case_corrections", problems)
	}
	if _, _, err := s.CorrectedTips(); !errors.Is(err, store.ErrTampered) {
		t.Fatalf("export after editing a correction: got %v, want ErrTampered", err)
	}
}

// FuzzCorrectionReason feeds any text to CorrectPriority as an officer's
// reason: it never panics, a refused reason writes nothing, and an
// accepted one comes back exactly as given (trimmed) from its sealed
// record.
func FuzzCorrectionReason(f *testing.F) {
	f.Add("nobody is held; the door was locked from the inside")
	f.Add("  ")
	f.Add("heç kim saxlanmır\nон в безопасности")
	s := MustOpen(f, f.TempDir(), testKey(f), nil)
	defer s.Close()
	res, err := s.RecordInboundSMS(context.Background(), sms("SM1", "+994501234567", "text", hotline.P1), nil)
	if err != nil {
		f.Fatal(err)
	}
	caseID := res.Case.ID
	f.Fuzz(func(t *testing.T, reason string) {
		var before hotline.Case
		var n int
		s.View(func(tx *store.Tx) error {
			before, _ = tx.Case(caseID)
			list, _ := tx.Corrections(caseID)
			n = len(list)
			return nil
		})
		to := hotline.P1
		if before.Priority == hotline.P1 {
			to = hotline.P2
		}
		_, err := correct(t, s, caseID, to, reason)
		var after hotline.Case
		var list []hotline.Correction
		if verr := s.View(func(tx *store.Tx) error {
			var err error
			if after, err = tx.Case(caseID); err != nil {
				return err
			}
			list, err = tx.Corrections(caseID)
			return err
		}); verr != nil {
			t.Fatal(verr)
		}
		if want := store.CheckCorrection(to, reason); want != nil {
			var he *hotline.Error
			if !errors.As(err, &he) || he.Code != want.Code {
				t.Fatalf("reason %q: got %v, want %s", reason, err, want.Code)
			}
			if after.Priority != before.Priority || len(list) != n {
				t.Fatalf("refused reason %q changed the case (%s to %s) or stored a correction", reason, before.Priority, after.Priority)
			}
			return
		}
		if err != nil {
			t.Fatalf("reason %q: %v", reason, err)
		}
		if after.Priority != to || len(list) != n+1 || list[n].Reason != strings.TrimSpace(reason) {
			t.Fatalf("reason %q: case %s, %d corrections, last reason %q", reason, after.Priority, len(list), list[len(list)-1].Reason)
		}
	})
}
