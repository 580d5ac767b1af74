package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/crypto"
	"github.com/hotline-az/hotline/internal/leaktest"
	"github.com/hotline-az/hotline/store"
)

// fakeClock is an injectable clock that tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func testKey(tb testing.TB) crypto.MasterKey {
	tb.Helper()
	k, err := crypto.GenerateMasterKey()
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// MustOpen opens a store in dir with key, failing the test on error.
func MustOpen(tb testing.TB, dir string, key crypto.MasterKey, clock *fakeClock) *store.Store {
	tb.Helper()
	opts := store.Options{Logger: zerolog.Nop()}
	if clock != nil {
		opts.Now = clock.Now
	}
	s, err := store.Open(dir, store.MasterKeySource{Key: &key}, opts)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	return s
}

func sms(sid, from, body string, p hotline.Priority) store.InboundSMS {
	return store.InboundSMS{
		MessageSID: sid, From: from, Body: body, Window: 7 * 24 * time.Hour,
		Triage: hotline.Triage{Priority: p, Category: hotline.CategoryLabor, Lang: hotline.LangAz, Matched: []string{"rule_a"}},
	}
}

func TestRestartKeepsDataAndDedup(t *testing.T) {
	dir, key := t.TempDir(), testKey(t)
	ctx := context.Background()
	s := MustOpen(t, dir, key, nil)
	first, err := s.RecordInboundSMS(ctx, sms("SM1", "+994501234567", "Kömək edin", hotline.P2), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !first.NewCase || first.Duplicate {
		t.Fatalf("first message: got new=%v dup=%v, want new=true dup=false", first.NewCase, first.Duplicate)
	}
	if len(first.Case.Code) != store.CodeLength {
		t.Fatalf("case code %q: want length %d", first.Case.Code, store.CodeLength)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = MustOpen(t, dir, key, nil)
	defer s.Close()
	again, err := s.RecordInboundSMS(ctx, sms("SM1", "+994501234567", "Kömək edin", hotline.P2), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Duplicate || again.Case.Code != first.Case.Code || again.MessageID != first.MessageID {
		t.Fatalf("retry after restart: got dup=%v code=%s msg=%s, want dup=true code=%s msg=%s",
			again.Duplicate, again.Case.Code, again.MessageID, first.Case.Code, first.MessageID)
	}
	second, err := s.RecordInboundSMS(ctx, sms("SM2", "+994501234567", "Təcili, məni döyürlər", hotline.P1), nil)
	if err != nil {
		t.Fatal(err)
	}
	if second.NewCase || second.Case.ID != first.Case.ID {
		t.Fatalf("second text from same number: got case %s new=%v, want threaded into %s", second.Case.ID, second.NewCase, first.Case.ID)
	}
	if second.Case.Priority != hotline.P1 || second.PreviousPriority != hotline.P2 {
		t.Fatalf("priority: got %s (was %s), want P1 (was P2)", second.Case.Priority, second.PreviousPriority)
	}
	msgs, err := s.CaseMessages(first.Case.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || msgs[0].Body != "Kömək edin" || msgs[1].Body != "Təcili, məni döyürlər" {
		t.Fatalf("messages: got %+v", msgs)
	}
	c, err := s.CaseByCode(first.Case.Code)
	if err != nil {
		t.Fatal(err)
	}
	if c.ReporterPhone != "+994501234567" || c.Messages != 2 {
		t.Fatalf("case: got phone-ok=%v messages=%d, want true 2", c.ReporterPhone == "+994501234567", c.Messages)
	}
	st, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Cases != 1 || st.Messages != 2 || st.P1 != 1 || st.ByChannel["sms"].Messages != 2 {
		t.Fatalf("stats: got %+v", st)
	}
}

func TestCaseWindowOpensNewCase(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)}
	s := MustOpen(t, t.TempDir(), testKey(t), clock)
	defer s.Close()
	ctx := context.Background()
	a, err := s.RecordInboundSMS(ctx, sms("SMa", "+994501234567", "salam", hotline.P3), nil)
	if err != nil {
		t.Fatal(err)
	}
	clock.Add(8 * 24 * time.Hour)
	b, err := s.RecordInboundSMS(ctx, sms("SMb", "+994501234567", "salam yenə", hotline.P3), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !b.NewCase || b.Case.ID == a.Case.ID || b.Case.Code == a.Case.Code {
		t.Fatalf("after the window: got case %s new=%v, want a new case (old %s)", b.Case.ID, b.NewCase, a.Case.ID)
	}
	other, err := s.RecordInboundSMS(ctx, sms("SMc", "+994559999999", "hello", hotline.P3), nil)
	if err != nil {
		t.Fatal(err)
	}
	if other.Case.ID == b.Case.ID {
		t.Fatal("another reporter's text was threaded into a stranger's case")
	}
}

func TestConcurrentWritesShareCommitsAndAllLand(t *testing.T) {
	dir, key := t.TempDir(), testKey(t)
	s := MustOpen(t, dir, key, nil)
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.RecordInboundSMS(context.Background(), sms(fmt.Sprintf("SM%03d", i), fmt.Sprintf("+9945012%05d", i%20), "text", hotline.P3), nil)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	st, err := store.ReadStats(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Messages != n || st.Cases != 20 {
		t.Fatalf("after %d concurrent writes from 20 numbers: got %d messages in %d cases", n, st.Messages, st.Cases)
	}
}

// A failing (or panicking) alert hook costs the tip nothing: the tip is
// stored without the hook's writes, with an alert-pending mark instead.
func TestHookFailureStoresTipWithAlertPending(t *testing.T) {
	dir, key := t.TempDir(), testKey(t)
	s := MustOpen(t, dir, key, nil)
	ctx := context.Background()
	boom := errors.New("rota does not load")
	failing := func(tx *store.Tx, _ *store.InboundResult) error {
		if err := tx.PutSetting("written-by-hook", []byte("x")); err != nil {
			return err
		}
		return boom
	}
	panicking := func(*store.Tx, *store.InboundResult) error { panic("officer record is nil") }
	for _, tc := range []struct {
		label, sid, from string
		hook             store.InboundHook
		wantErr          string
	}{
		{"error", "SMx", "+994501234567", failing, "rota does not load"},
		{"panic", "SMz", "+994501234569", panicking, "panic: officer record is nil"},
	} {
		res, err := s.RecordInboundSMS(ctx, sms(tc.sid, tc.from, "x", hotline.P1), tc.hook)
		if err != nil {
			t.Fatalf("%s: got %v, want the tip stored", tc.label, err)
		}
		if !res.AlertPending || res.AlertError == nil || !strings.Contains(res.AlertError.Error(), tc.wantErr) || res.Duplicate || !res.NewCase {
			t.Fatalf("%s: got pending=%v err=%v dup=%v new=%v, want pending with %q", tc.label, res.AlertPending, res.AlertError, res.Duplicate, res.NewCase, tc.wantErr)
		}
		err = s.View(func(tx *store.Tx) error {
			p, ok, err := tx.AlertPending(res.Case.ID)
			if err != nil || !ok || !p.NewCase || !strings.Contains(p.LastError, tc.wantErr) {
				t.Errorf("%s: pending mark: got %+v ok=%v err=%v", tc.label, p, ok, err)
			}
			if v, err := tx.Setting("written-by-hook"); v != nil || err != nil {
				t.Errorf("%s: the failed hook's write survived: %q %v", tc.label, v, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// Twilio's retry of the tip is a duplicate now: it was answered.
		if again, err := s.RecordInboundSMS(ctx, sms(tc.sid, tc.from, "x", hotline.P1), tc.hook); err != nil || !again.Duplicate || again.AlertPending {
			t.Fatalf("%s: retry: dup=%v pending=%v err=%v, want a plain duplicate", tc.label, again.Duplicate, again.AlertPending, err)
		}
	}
	if _, err := s.RecordInboundSMS(ctx, sms("SMy", "+994501234568", "y", hotline.P1), nil); err != nil {
		t.Fatal(err)
	}
	if got := s.AlertFailures(); got != 2 {
		t.Fatalf("alert failures: got %d, want 2", got)
	}
	s.Close()
	st, _ := store.ReadStats(dir)
	if st.Messages != 3 || st.AlertsPending != 2 {
		t.Fatalf("got %d messages and %d pending alerts, want 3 and 2", st.Messages, st.AlertsPending)
	}
	// The mark is in the file: it survives a restart.
	s = MustOpen(t, dir, key, nil)
	defer s.Close()
	s.View(func(tx *store.Tx) error {
		due, err := tx.DueAlertsPending(time.Now(), 10)
		if err != nil || len(due) != 2 {
			t.Fatalf("after restart: got %d due marks (%v), want 2", len(due), err)
		}
		return nil
	})
}

func TestOpenErrors(t *testing.T) {
	dir, key := t.TempDir(), testKey(t)
	s := MustOpen(t, dir, key, nil)

	// The running server holds the file: a second opener and stats fail fast.
	_, err := store.Open(dir, store.MasterKeySource{Key: &key}, store.Options{LockTimeout: 100 * time.Millisecond})
	if !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second open: got %v, want ErrLocked", err)
	}
	if _, err := store.ReadStats(dir); !errors.Is(err, store.ErrLocked) {
		t.Fatalf("stats while held: got %v, want ErrLocked", err)
	}
	s.Close()

	other := testKey(t)
	_, err = store.Open(dir, store.MasterKeySource{Key: &other}, store.Options{})
	if err == nil || !strings.Contains(err.Error(), "master key does not open") {
		t.Fatalf("wrong key: got %v", err)
	}
	if _, err := store.ReadStats(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no hotline data file") {
		t.Fatalf("stats on empty dir: got %v", err)
	}
	fi, err := os.Stat(filepath.Join(dir, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("data file mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestPassphraseReopens(t *testing.T) {
	dir := t.TempDir()
	kdf := crypto.KDFParams{Salt: bytes.Repeat([]byte{7}, 16), Time: 1, MemoryKiB: 8 * 1024, Threads: 1}
	open := func(pass string) (*store.Store, error) {
		return store.Open(dir, store.MasterKeySource{Passphrase: []byte(pass)}, store.Options{KDF: &kdf})
	}
	s, err := open("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordInboundSMS(context.Background(), sms("SM1", "+994501234567", "x", hotline.P3), nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := open("wrong passphrase"); err == nil {
		t.Fatal("a wrong passphrase opened the store")
	}
	s, err = open("correct horse battery staple")
	if err != nil {
		t.Fatalf("reopen with the passphrase: %v", err)
	}
	s.Close()
}

func TestRawFileHasNoPlaintext(t *testing.T) {
	dir, key := t.TempDir(), testKey(t)
	s := MustOpen(t, dir, key, nil)
	body := "Bizi Sumqayıtda anbarda saxlayırlar, pasportları alıblar"
	if _, err := s.RecordInboundSMS(context.Background(), sms("SM0123456789abcdef0123456789abcdef", "+994501234567", body, hotline.P1), nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	raw, err := os.ReadFile(filepath.Join(dir, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	needles := append(leaktest.PhoneForms("+994501234567"), "SM0123456789abcdef", "rule_a")
	leaktest.Check(t, "raw data file", string(raw), append(needles, leaktest.Runs(body, 8)...)...)
}

// Twilio may retry while the first delivery is still being written: every
// copy must get the same case and exactly one message may be stored.
func TestConcurrentRetriesOfOneSIDStoreOnce(t *testing.T) {
	dir, key := t.TempDir(), testKey(t)
	s := MustOpen(t, dir, key, nil)
	const n = 32
	codes := make(chan string, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := s.RecordInboundSMS(context.Background(), sms("SMsame", "+994501234567", "Kömək edin", hotline.P1), nil)
			if err != nil {
				t.Error(err)
			}
			codes <- res.Case.Code
		}()
	}
	wg.Wait()
	close(codes)
	first := ""
	for c := range codes {
		if first == "" {
			first = c
		}
		if c != first {
			t.Fatalf("retries got different cases: %s and %s", first, c)
		}
	}
	s.Close()
	st, _ := store.ReadStats(dir)
	if st.Messages != 1 {
		t.Fatalf("got %d messages for one SID, want 1", st.Messages)
	}
	// The dedup log is rebuilt at open: a retry after restart is still known.
	s = MustOpen(t, dir, key, nil)
	defer s.Close()
	res, err := s.RecordInboundSMS(context.Background(), sms("SMsame", "+994501234567", "Kömək edin", hotline.P1), nil)
	if err != nil || !res.Duplicate || res.Case.Code != first {
		t.Fatalf("after restart: got dup=%v code=%s err=%v, want dup=true code=%s", res.Duplicate, res.Case.Code, err, first)
	}
}

func TestDedupWindowIsPrunedAtOpen(t *testing.T) {
	dir, key := t.TempDir(), testKey(t)
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := MustOpen(t, dir, key, clock)
	ctx := context.Background()
	if _, err := s.RecordInboundSMS(ctx, sms("SMold", "+994501234567", "x", hotline.P3), nil); err != nil {
		t.Fatal(err)
	}
	clock.Add(store.DedupWindow - time.Hour)
	if _, err := s.RecordInboundSMS(ctx, sms("SMrecent", "+994501234567", "y", hotline.P3), nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	clock.Add(2 * time.Hour) // SMold is now older than the window, SMrecent is not
	s = MustOpen(t, dir, key, clock)
	defer s.Close()
	if res, _ := s.RecordInboundSMS(ctx, sms("SMrecent", "+994501234567", "y", hotline.P3), nil); !res.Duplicate {
		t.Fatal("a SID inside the window was forgotten")
	}
	if res, _ := s.RecordInboundSMS(ctx, sms("SMold", "+994501234567", "x", hotline.P3), nil); res.Duplicate {
		t.Fatal("a SID older than the window is still remembered")
	}
}
