package store_test

import (
	"context"
	"fmt"
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
	start := time.Now()
	var wg sync.WaitGroup
	var next atomic.Int64
	for range 64 {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < tips; i = next.Add(1) - 1 {
				in := store.InboundSMS{
					MessageSID: fmt.Sprintf("SM%032d", i), From: fmt.Sprintf("+99450%07d", i),
					Body:   "Kömək edin, bizi zirzəmidə saxlayırlar, pasportlarımızı götürüblər",
					Triage: hotline.Triage{Priority: hotline.P2, Lang: hotline.LangAz}, Window: time.Hour,
				}
				if _, err := s.RecordInboundSMS(context.Background(), in, nil); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.Logf("filled %d tips in %s", tips, time.Since(start).Round(time.Millisecond))
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
