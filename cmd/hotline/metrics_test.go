package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
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

// Voicemails waiting at Twilio or given up on show on /metrics apart
// from the outbox of SMS and calls: hotline_recordings and
// hotline_media_jobs by state.
func TestMetricsCountRecordingsAndMediaJobs(t *testing.T) {
	st := mustOpenTempStore(t)
	ctx := context.Background()
	var failedID string
	for i := range 3 {
		q, err := st.QueueRecording(ctx, store.RecordingCallback{RecordingSID: fmt.Sprintf("RE%032x", i), Duration: 5})
		if err != nil {
			t.Fatal(err)
		}
		failedID = q.Recording.ID
	}
	if err := st.Update(ctx, func(tx *store.Tx) error {
		j, err := tx.Job(failedID)
		if err != nil {
			return err
		}
		j.State = hotline.JobDead
		if err := tx.PutJob(&j); err != nil {
			return err
		}
		return tx.FailRecording(failedID, "Twilio has no audio for this recording")
	}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newMetrics(st, time.Now).handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	body := string(raw)
	for _, want := range []string{
		`hotline_recordings{state="queued"} 2`,
		`hotline_recordings{state="failed"} 1`,
		`hotline_media_jobs{state="pending"} 2`,
		`hotline_media_jobs{state="dead"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	t.Log("\n" + grepLines(body, "hotline_media_jobs") + "\n" + grepLines(body, "hotline_recordings"))
	if strings.Contains(body, "hotline_outbox_jobs{") {
		t.Errorf("media jobs counted as outbox jobs (SMS and calls):\n%s", grepLines(body, "hotline_outbox_jobs"))
	}
}

func grepLines(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
