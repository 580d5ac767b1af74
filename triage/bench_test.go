package triage_test

import (
	"testing"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/triage"
)

// tip160 is a 160-character tip (in bytes: Azerbaijani letters take two).
var tip160 = func() string {
	s := "Salam, qardaşım Rusiyada tikintidə işləyir, müdir pasportunu alıb, maaş vermir, indi deyir ki qaçsa onu döyəcəklər. Nə edək? Kömək edin zəhmət olmasa, təcili cavab verin, çox qorxuruq, hamımız burdayıq"
	r := []rune(s)
	if len(r) < 160 {
		panic("tip160 too short")
	}
	return string(r[:160])
}()

func BenchmarkTriage160(b *testing.B) {
	e := triage.Default()
	b.ReportAllocs()
	b.SetBytes(int64(len(tip160)))
	for b.Loop() {
		e.Triage(tip160)
	}
}

// quiet160 is a 160-character tip that no P1 rule matches, so the second
// opinion reads it too: the slowest path.
var quiet160 = func() string {
	s := "Salam, bacım Türkiyədə bir ailədə işləyir, telefonla az danışır, deyir hər şey yaxşıdır amma səsi qəribədir. Onun sənədləri haqqında soruşmaq istəyirəm, nə etməliyəm, hara müraciət edim?"
	r := []rune(s)
	if len(r) < 160 {
		panic("quiet160 too short")
	}
	return string(r[:160])
}()

func BenchmarkTriage160NotP1(b *testing.B) {
	e := triage.Default()
	if got := e.Triage(quiet160); got.Priority == hotline.P1 {
		b.Fatalf("quiet160 is P1 %v; the benchmark must take the second-opinion path", got.Matched)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(quiet160)))
	for b.Loop() {
		e.Triage(quiet160)
	}
}

func BenchmarkTriage160Parallel(b *testing.B) {
	e := triage.Default()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			e.Triage(tip160)
		}
	})
}

func BenchmarkDetectLang160(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		triage.DetectLang(tip160)
	}
}

// evictCaches is larger than the machine's caches: sweeping it between
// tips makes a benchmark see the tables as a busy server does, where the
// HTTP, crypto and bbolt work between two tips pushes them out.
var evictCaches = make([]byte, 64<<20)

// BenchmarkTriage160ColdCache is BenchmarkTriage160 with the caches swept
// before each tip (outside the timer): the cost a tip has in the server.
func BenchmarkTriage160ColdCache(b *testing.B) {
	e := triage.Default()
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		for i := 0; i < len(evictCaches); i += 64 {
			evictCaches[i]++
		}
		b.StartTimer()
		e.Triage(tip160)
	}
}
