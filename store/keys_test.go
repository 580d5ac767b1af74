package store_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/store"
)

var cliAdmin = store.AuditEntry{Actor: "cli", Via: "cli"}

// fillTips stores n tips from n reporters: n cases and n messages.
func fillTips(tb testing.TB, s *store.Store, n int) []string {
	tb.Helper()
	codes := make([]string, n)
	for i := range n {
		res, err := s.RecordInboundSMS(context.Background(), sms(fmt.Sprintf("SM%06d", i), fmt.Sprintf("+99450%07d", i), fmt.Sprintf("tip number %d", i), hotline.P2), nil)
		if err != nil {
			tb.Fatal(err)
		}
		codes[i] = res.Case.Code
	}
	return codes
}

// versionRecords returns records per version from KeyStatus.
func versionRecords(tb testing.TB, s *store.Store) map[uint32]int {
	tb.Helper()
	st, err := s.KeyStatus()
	if err != nil {
		tb.Fatal(err)
	}
	out := map[uint32]int{}
	for _, v := range st.Versions {
		out[v.Version] = v.Records
	}
	if st.Missing != 0 || st.Malformed != 0 {
		tb.Errorf("KeyStatus: missing %d, malformed %d; want 0, 0", st.Missing, st.Malformed)
	}
	return out
}

func mustOpenAll(tb testing.TB, s *store.Store, want int) {
	tb.Helper()
	n, err := s.OpenEverySealed(func(bucket, id string, err error) {
		tb.Errorf("sealed %s/%s does not open: %v", bucket, id, err)
	})
	if err != nil {
		tb.Fatal(err)
	}
	if n != want {
		tb.Errorf("OpenEverySealed opened %d, want %d", n, want)
	}
	// Tags, bindings and indexes still hold after the rewrite.
	if _, err := s.VerifyRecords(func(bucket, id string, err error) {
		tb.Errorf("VerifyRecords: %s/%s: %v", bucket, id, err)
	}); err != nil {
		tb.Fatal(err)
	}
}

func auditActions(tb testing.TB, s *store.Store) string {
	tb.Helper()
	entries, err := s.Audit(store.AuditFilter{})
	if err != nil {
		tb.Fatal(err)
	}
	var acts []string
	for _, e := range entries {
		acts = append(acts, e.Action+":"+e.Object)
	}
	return strings.Join(acts, " ")
}

func TestRewrapStoppedHalfWayResumesAndLeavesNoOldVersion(t *testing.T) {
	dir, key := t.TempDir(), testKey(t)
	ctx := context.Background()
	s := MustOpen(t, dir, key, nil)
	codes := fillTips(t, s, 300) // 600 sealed records
	v, err := s.RotateKey(ctx, cliAdmin)
	if err != nil || v != 2 {
		t.Fatalf("RotateKey = %d, %v; want 2, nil", v, err)
	}
	if got := versionRecords(t, s); got[1] != 600 || got[2] != 0 {
		t.Fatalf("after rotate: records per version %v, want 1:600 2:0", got)
	}
	errStop := errors.New("stop")
	batches := 0
	_, err = s.RewrapKeys(ctx, store.RewrapOptions{BatchSize: 50, By: cliAdmin, Progress: func(store.RewrapProgress) error {
		if batches++; batches == 3 {
			return errStop
		}
		return nil
	}})
	if !errors.Is(err, errStop) {
		t.Fatalf("RewrapKeys with a stop hook: err = %v, want the hook's", err)
	}
	s.Close()

	s = MustOpen(t, dir, key, nil)
	defer s.Close()
	st, err := s.KeyStatus()
	if err != nil {
		t.Fatal(err)
	}
	if st.Rewrap == nil || st.Rewrap.Rewrapped != 150 || st.Rewrap.Total != 600 {
		t.Fatalf("after the stop, rewrap progress = %+v; want 150 of 600 done", st.Rewrap)
	}
	if got := versionRecords(t, s); got[1] != 450 || got[2] != 150 {
		t.Fatalf("after the stop: records per version %v, want 1:450 2:150", got)
	}
	// New writes during the pause go under the primary at once.
	fillTipsFrom(t, s, 1000, 5)
	p, err := s.RewrapKeys(ctx, store.RewrapOptions{BatchSize: 50, By: cliAdmin})
	if err != nil {
		t.Fatalf("resumed RewrapKeys: %v", err)
	}
	if !p.Done || p.Rewrapped != 600 || p.Failed != 0 {
		t.Errorf("resumed pass = %+v; want done, 600 rewrapped, 0 failed", p)
	}
	if got := versionRecords(t, s); got[1] != 0 || got[2] != 610 {
		t.Errorf("after the resumed pass: records per version %v, want 1:0 2:610", got)
	}
	mustOpenAll(t, s, 610)
	if err := s.RetireKey(ctx, 1, cliAdmin); err != nil {
		t.Fatalf("RetireKey(1) after the rewrap: %v", err)
	}
	s.Close()
	s = MustOpen(t, dir, key, nil)
	defer s.Close()
	mustOpenAll(t, s, 610)
	c, err := s.CaseByCode(codes[299])
	if err != nil || c.ReporterPhone != "+994500000299" {
		t.Errorf("CaseByCode after retire = %q, %v; want the reporter's number", c.ReporterPhone, err)
	}
	if got, want := auditActions(t, s), "keys.rotate:v2 keys.rewrap_start:v2 keys.rewrap:v2 keys.retire:v1"; got != want {
		t.Errorf("audit = %q, want %q", got, want)
	}
	if n, problems, err := s.VerifyAudit(); err != nil || len(problems) != 0 || n != 4 {
		t.Errorf("VerifyAudit = %d, %v, %v; want 4 intact entries", n, problems, err)
	}
}

func fillTipsFrom(tb testing.TB, s *store.Store, from, n int) {
	tb.Helper()
	for i := from; i < from+n; i++ {
		if _, err := s.RecordInboundSMS(context.Background(), sms(fmt.Sprintf("SM%06d", i), fmt.Sprintf("+99450%07d", i), "later tip", hotline.P3), nil); err != nil {
			tb.Fatal(err)
		}
	}
}

func TestRetireRefusedWhileReferenced(t *testing.T) {
	dir, key := t.TempDir(), testKey(t)
	ctx := context.Background()
	s := MustOpen(t, dir, key, nil)
	defer s.Close()
	fillTips(t, s, 3)
	if err := s.RetireKey(ctx, 1, cliAdmin); err == nil {
		t.Fatal("RetireKey of the primary succeeded")
	}
	if _, err := s.RotateKey(ctx, cliAdmin); err != nil {
		t.Fatal(err)
	}
	err := s.RetireKey(ctx, 1, cliAdmin)
	var inUse *store.KeyInUseError
	if !errors.As(err, &inUse) || inUse.Records != 6 || !errors.Is(err, store.ErrKeyInUse) {
		t.Fatalf("RetireKey(1) with 6 records under v1: err = %v, want KeyInUseError for 6", err)
	}
	if got := versionRecords(t, s); got[1] != 6 {
		t.Errorf("after a refused retire: %v, want v1 kept with 6 records", got)
	}
	mustOpenAll(t, s, 6)
	if got, want := auditActions(t, s), "keys.rotate:v2"; got != want {
		t.Errorf("audit = %q, want %q (a refused retire writes nothing)", got, want)
	}
}

func TestMinDecryptBlocksOldVersionsReversibly(t *testing.T) {
	dir, key := t.TempDir(), testKey(t)
	ctx := context.Background()
	s := MustOpen(t, dir, key, nil)
	codes := fillTips(t, s, 2)
	if _, err := s.RotateKey(ctx, cliAdmin); err != nil {
		t.Fatal(err)
	}
	blocked, err := s.SetMinDecrypt(ctx, 2, cliAdmin)
	if err != nil || blocked != 4 {
		t.Fatalf("SetMinDecrypt(2) = %d, %v; want 4 records blocked", blocked, err)
	}
	s.Close()
	s = MustOpen(t, dir, key, nil) // the setting persists
	defer s.Close()
	if _, err := s.CaseByCode(codes[0]); err == nil {
		t.Fatal("a v1 case opened with min-decrypt 2")
	}
	if _, err := s.SetMinDecrypt(ctx, 1, cliAdmin); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CaseByCode(codes[0]); err != nil {
		t.Fatalf("CaseByCode after lowering min-decrypt: %v", err)
	}
	if got, want := auditActions(t, s), "keys.rotate:v2 keys.min_decrypt:v2 keys.min_decrypt:v1"; got != want {
		t.Errorf("audit = %q, want %q", got, want)
	}
}

func TestRewrapReportsADamagedRecordByIDAndGoesOn(t *testing.T) {
	dir, key := t.TempDir(), testKey(t)
	ctx := context.Background()
	s := MustOpen(t, dir, key, nil)
	fillTips(t, s, 20)
	s.Close()

	// Flip a byte of one message's wrapped data key, outside hotline.
	db, err := bolt.Open(filepath.Join(dir, store.FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	var damagedID string
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("messages"))
		k, v := b.Cursor().First()
		damagedID = string(k)
		i := strings.Index(string(v), `"sealed":"`) + len(`"sealed":"`) + 50
		nv := append([]byte(nil), v...)
		if nv[i] == 'A' {
			nv[i] = 'B'
		} else {
			nv[i] = 'A'
		}
		return b.Put(k, nv)
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	s = MustOpen(t, dir, key, nil)
	defer s.Close()
	if _, err := s.RotateKey(ctx, cliAdmin); err != nil {
		t.Fatal(err)
	}
	var failed []store.RewrapFailure
	p, err := s.RewrapKeys(ctx, store.RewrapOptions{BatchSize: 7, Failure: func(f store.RewrapFailure) { failed = append(failed, f) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(failed) != 1 || failed[0].ID != damagedID || failed[0].Bucket != "messages" {
		t.Fatalf("failures = %+v, want the one damaged message %s", failed, damagedID)
	}
	if p.Rewrapped != 39 || p.Failed != 1 {
		t.Errorf("pass = %+v, want 39 rewrapped, 1 failed", p)
	}
	err = s.RetireKey(ctx, 1, cliAdmin)
	if !errors.Is(err, store.ErrKeyInUse) {
		t.Errorf("RetireKey(1) with a damaged v1 record left: err = %v, want ErrKeyInUse", err)
	}
}
