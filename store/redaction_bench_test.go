package store_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/hotline-az/hotline"
)

// BenchmarkInboundRedactionJob measures what queuing the redaction job
// with each tip (erase_at_twilio) costs intake: the same tips, 64 writers
// sharing group commits, without and with the job, in one run (compare
// the two ns/op; the first is the baseline).
//
//	go test -run '^$' -bench InboundRedactionJob -benchtime 3000x ./store/
func BenchmarkInboundRedactionJob(b *testing.B) {
	for _, redact := range []bool{false, true} {
		b.Run(fmt.Sprintf("redact=%v", redact), func(b *testing.B) {
			s := MustOpen(b, b.TempDir(), testKey(b), nil)
			defer s.Close()
			var seq atomic.Int64
			b.SetParallelism(32)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					n := seq.Add(1)
					in := sms(fmt.Sprintf("SM%032x", n), fmt.Sprintf("+99450%07d", n%500), "Müdir pasportumu saxlayıb, maaş vermir", hotline.P3)
					in.RedactAtTwilio = redact
					if _, err := s.RecordInboundSMS(context.Background(), in, nil); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
