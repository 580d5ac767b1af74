package store_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotline-az/hotline/store"
	"github.com/hotline-az/hotline/twiliotest"
)

// noiseReader yields n pseudo-random bytes without holding them.
type noiseReader struct {
	rng  *rand.ChaCha8
	left int64
}

func (r *noiseReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	r.rng.Read(p)
	r.left -= int64(len(p))
	return len(p), nil
}

// BenchmarkStoreRecording streams recordings of 12 and 48 MiB (a long
// voicemail) into the store and reports throughput and the peak growth of
// the Go heap while each runs (garbage not yet collected included), in MiB
// and as a fraction of the recording's size: the baseline is the heap
// measured just before, in the same run. A store that held the recording
// whole would grow by its size or more, and the growth would follow the
// size; streaming keeps it about the same for both.
//
//	go test -run '^$' -bench StoreRecording -benchtime 3x ./store/
func BenchmarkStoreRecording(b *testing.B) {
	for _, mib := range []int64{12, 48} {
		b.Run(fmt.Sprintf("%dMiB", mib), func(b *testing.B) { benchStoreRecording(b, mib<<20) })
	}
}

func benchStoreRecording(b *testing.B, size int64) {
	s := MustOpen(b, b.TempDir(), testKey(b), nil)
	defer s.Close()
	ctx := context.Background()
	b.SetBytes(size)
	var worst float64
	var worstMiB float64
	for i := range b.N {
		q, err := s.QueueRecording(ctx, store.RecordingCallback{RecordingSID: twiliotest.NewSID("RE")})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		base := ms.HeapAlloc
		var peak atomic.Uint64
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			var m runtime.MemStats
			for {
				runtime.ReadMemStats(&m)
				if m.HeapAlloc > peak.Load() {
					peak.Store(m.HeapAlloc)
				}
				select {
				case <-stop:
					return
				case <-time.After(2 * time.Millisecond):
				}
			}
		}()
		var seed [32]byte
		seed[0] = byte(i)
		if _, err := s.StoreRecordingAudio(ctx, q.Recording.ID, "audio/x-wav", &noiseReader{rng: rand.NewChaCha8(seed), left: size}, 64<<20); err != nil {
			b.Fatal(err)
		}
		close(stop)
		<-done
		growth := float64(peak.Load()) - float64(base)
		worst = max(worst, growth/float64(size))
		worstMiB = max(worstMiB, growth/(1<<20))
	}
	b.ReportMetric(worst, "peak-heap/recording")
	b.ReportMetric(worstMiB, "peak-heap-MiB")
}
