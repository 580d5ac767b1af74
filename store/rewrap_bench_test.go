package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/store"
)

// BenchmarkRewrap100k measures a rewrap of 100,000 sealed records (50,000
// tips: a case and a message each) after a rotation, and as a baseline in
// the same run, opening every one of them (what a rewrap avoids: body
// decryption). Run with:
//
//	go test -run '^$' -bench Rewrap100k -benchtime 3x ./store
func BenchmarkRewrap100k(b *testing.B) {
	dir, key := b.TempDir(), testKey(b)
	s := MustOpen(b, dir, key, nil)
	defer s.Close()
	const tips = 50_000
	fillBench(b, s, 0, tips)
	ctx := context.Background()

	var rewrapNs, openNs float64
	b.Run("rewrap", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			if _, err := s.RotateKey(ctx, store.AuditEntry{Actor: "bench", Via: "cli"}); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			p, err := s.RewrapKeys(ctx, store.RewrapOptions{})
			if err != nil || p.Rewrapped != 2*tips {
				b.Fatalf("rewrap = %+v, %v", p, err)
			}
		}
		rewrapNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		b.ReportMetric(2*tips/(rewrapNs/1e9), "records/s")
		b.ReportMetric(rewrapNs/1e9, "s/pass")
	})
	b.Run("open-every-sealed-baseline", func(b *testing.B) {
		for b.Loop() {
			n, err := s.OpenEverySealed(func(bucket, id string, err error) { b.Fatal(bucket, id, err) })
			if err != nil || n != 2*tips {
				b.Fatalf("opened %d, %v", n, err)
			}
		}
		openNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		b.ReportMetric(2*tips/(openNs/1e9), "records/s")
		b.ReportMetric(openNs/1e9, "s/pass")
	})
	if openNs > 0 {
		b.Logf("rewrap pass / open-every-sealed pass = %.2f", rewrapNs/openNs)
	}
}

// fillBench stores tips from..to-1 with 64 concurrent writers.
func fillBench(b *testing.B, s *store.Store, from, to int) {
	b.Helper()
	start := time.Now()
	var wg sync.WaitGroup
	var next atomic.Int64
	next.Store(int64(from))
	for range 64 {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(to); i = next.Add(1) - 1 {
				if _, err := s.RecordInboundSMS(context.Background(), benchTip(int(i)), nil); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.Logf("filled %d tips in %s", to-from, time.Since(start).Round(time.Millisecond))
}

func benchTip(i int) store.InboundSMS {
	return store.InboundSMS{
		MessageSID: fmt.Sprintf("SM%032d", i), From: fmt.Sprintf("+99450%07d", i),
		Body:   "Kömək edin, bizi zirzəmidə saxlayırlar, pasportlarımızı götürüblər",
		Triage: hotline.Triage{Priority: hotline.P2, Lang: hotline.LangAz}, Window: time.Hour,
	}
}

// intakeLoad runs 4 writers storing new tips until stop is closed (and
// at least min writes are done) and returns the 99th percentile latency.
func intakeLoad(b *testing.B, s *store.Store, first *atomic.Int64, min int, stop <-chan struct{}) time.Duration {
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for n := 0; ; n++ {
				if n >= min/4 {
					select {
					case <-stop:
						return
					default:
					}
				}
				t0 := time.Now()
				if _, err := s.RecordInboundSMS(context.Background(), benchTip(int(first.Add(1))), nil); err != nil {
					b.Error(err)
					return
				}
				d := time.Since(t0)
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.Sort(lat)
	return lat[len(lat)*99/100]
}

// BenchmarkIntakeP99DuringRewrapAndBackup stores tips from 4 writers on a
// file of 50,000 tips (100,000 sealed records) and reports the 99th
// percentile of a tip's store time alone, during a rewrap of every record
// and during a hot snapshot to a file (paced as `hotline backup` writes
// it), in the same run; intake alone is measured before and after, and
// the ratios are against the mean of the two. Run with:
//
//	go test -run '^$' -bench IntakeP99 -benchtime 1x ./store
func BenchmarkIntakeP99DuringRewrapAndBackup(b *testing.B) {
	dir, key := b.TempDir(), testKey(b)
	s := MustOpen(b, dir, key, nil)
	defer s.Close()
	const tips = 50_000
	fillBench(b, s, 0, tips)
	ctx := context.Background()
	var next atomic.Int64
	next.Store(10 * tips)
	for b.Loop() {
		closed := make(chan struct{})
		close(closed)
		alone := intakeLoad(b, s, &next, 2000, closed)

		if _, err := s.RotateKey(ctx, store.AuditEntry{Actor: "bench", Via: "cli"}); err != nil {
			b.Fatal(err)
		}
		stop := make(chan struct{})
		var rewrapTime time.Duration
		go func() {
			defer close(stop)
			t0 := time.Now()
			if _, err := s.RewrapKeys(ctx, store.RewrapOptions{}); err != nil {
				b.Error(err)
			}
			rewrapTime = time.Since(t0)
		}()
		duringRewrap := intakeLoad(b, s, &next, 0, stop)

		stop = make(chan struct{})
		var snapTime time.Duration
		var snapBytes int64
		go func() {
			defer close(stop)
			f, err := os.Create(filepath.Join(b.TempDir(), "snapshot.db"))
			if err != nil {
				b.Error(err)
				return
			}
			defer f.Close()
			t0 := time.Now()
			snapBytes, err = s.WriteSnapshot(store.BackupWriter(ctx, f))
			if err == nil {
				err = f.Sync()
			}
			if err != nil {
				b.Error(err)
			}
			snapTime = time.Since(t0)
		}()
		duringBackup := intakeLoad(b, s, &next, 0, stop)

		// The machine is shared: intake alone is measured again at the
		// end, and the ratios are against the mean of both.
		aloneAfter := intakeLoad(b, s, &next, 2000, closed)
		baseline := (alone + aloneAfter) / 2
		b.ReportMetric(float64(alone.Microseconds())/1000, "p99-alone-ms")
		b.ReportMetric(float64(aloneAfter.Microseconds())/1000, "p99-alone-after-ms")
		b.ReportMetric(float64(duringRewrap.Microseconds())/1000, "p99-rewrap-ms")
		b.ReportMetric(float64(duringBackup.Microseconds())/1000, "p99-backup-ms")
		b.ReportMetric(float64(duringRewrap)/float64(baseline), "rewrap/alone")
		b.ReportMetric(float64(duringBackup)/float64(baseline), "backup/alone")
		b.ReportMetric(rewrapTime.Seconds(), "rewrap-s")
		b.ReportMetric(snapTime.Seconds(), "backup-s")
		b.ReportMetric(float64(snapBytes)/(1<<20), "backup-MiB")
	}
}

// BenchmarkCheck100k times `hotline check` (store.Check: every page
// read, bbolt's consistency check, every sealed value opened, every tag
// and index entry followed) on a file of 50,000 tips (100,000 sealed
// records). Run with:
//
//	go test -run '^$' -bench Check100k -benchtime 3x ./store
func BenchmarkCheck100k(b *testing.B) {
	dir, key := b.TempDir(), testKey(b)
	s := MustOpen(b, dir, key, nil)
	const tips = 50_000
	fillBench(b, s, 0, tips)
	s.Close()
	for b.Loop() {
		rep, err := store.Check(dir, store.MasterKeySource{Key: &key}, store.Options{})
		if err != nil || !rep.OK() {
			b.Fatalf("Check = %+v, %v", rep, err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/check")
}
