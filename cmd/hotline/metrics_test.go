package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/crypto"
	"github.com/hotline-az/hotline/store"
)

// mustOpenTempStore opens a new store in a temporary directory, closed
// when the test ends.
func mustOpenTempStore(tb testing.TB) *store.Store {
	tb.Helper()
	key, _ := crypto.GenerateMasterKey()
	st := mustOpenStore(tb, tb.TempDir(), key)
	tb.Cleanup(func() { st.Close() })
	return st
}

func recordTips(tb testing.TB, st *store.Store, from, n int) {
	tb.Helper()
	for i := from; i < from+n; i++ {
		_, err := st.RecordInboundSMS(context.Background(), store.InboundSMS{
			MessageSID: fmt.Sprintf("SM%032x", i), From: fmt.Sprintf("+99450%07d", i%100), Body: "salam",
			Triage: hotline.Triage{Priority: hotline.P3, Lang: hotline.LangAz}, Window: time.Hour,
		}, nil)
		if err != nil {
			tb.Fatal(err)
		}
	}
}

func TestStoreCountsAreReusedUntilTheyAreAMinuteOld(t *testing.T) {
	st := mustOpenTempStore(t)
	now := time.Date(2026, 3, 1, 3, 0, 0, 0, time.UTC)
	c := &storeCollector{st: st, now: func() time.Time { return now }, maxAge: storeCountsMaxAge}
	recordTips(t, st, 0, 2)
	if s, _, err := c.counts(); err != nil || s.Messages != 2 {
		t.Fatalf("first count: %d messages, %v; want 2", s.Messages, err)
	}
	recordTips(t, st, 2, 1)
	now = now.Add(storeCountsMaxAge - time.Second)
	if s, _, _ := c.counts(); s.Messages != 2 {
		t.Fatalf("count within %s: %d messages, want the cached 2", storeCountsMaxAge, s.Messages)
	}
	now = now.Add(time.Second)
	if s, _, _ := c.counts(); s.Messages != 3 {
		t.Fatalf("count after %s: %d messages, want 3", storeCountsMaxAge, s.Messages)
	}
}

// BenchmarkStoreCount measures one count of what /metrics reports (every
// case and message record read), at -benchtime's size of store: the cost a
// scrape paid before the counts were cached.
//
//	go test -run '^$' -bench StoreCount -benchtime 1x ./cmd/hotline/
func BenchmarkStoreCount(b *testing.B) {
	for _, tips := range []int{10_000} {
		b.Run(fmt.Sprintf("tips=%d", tips), func(b *testing.B) {
			st := mustOpenTempStore(b)
			fillStoreForMetrics(b, st, tips)
			b.ResetTimer()
			for range b.N {
				if _, err := st.Stats(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// fillStore records n tips from 64 concurrent writers (so they share
// commits) from 1,000 reporters.
func fillStoreForMetrics(tb testing.TB, st *store.Store, n int) {
	tb.Helper()
	body := "Salam, müdir pasportumu saxlayıb və maaşımı vermir, Sumqayıtda tikintidə işləyirik, nə edək? Kömək edin zəhmət olmasa"
	var wg sync.WaitGroup
	var next atomic.Int64
	errs := make(chan error, 64)
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				_, err := st.RecordInboundSMS(context.Background(), store.InboundSMS{
					MessageSID: fmt.Sprintf("SM%032x", i), From: fmt.Sprintf("+99450%07d", i%1000), Body: body,
					Triage: hotline.Triage{Priority: hotline.P2, Category: hotline.CategoryLabor, Lang: hotline.LangAz}, Window: time.Hour,
				}, nil)
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		tb.Fatal(err)
	}
}
