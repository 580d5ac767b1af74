package triage_test

import (
	"testing"

	"github.com/hotline-az/hotline/triage"
)

// tipsByLanguage are tips as scripts/smsbench sends them, one per language:
// the time a tip takes depends on its language far more than on its length
// (English phrases have more words and English negation reaches two words
// back, so more candidate phrases are tried per word).
var tipsByLanguage = []struct{ lang, text string }{
	{"az", "Qonşumuzun evində 3 qadın saxlanılır, heç vaxt bayıra çıxmırlar. Dünən gecə qışqırıq eşitdim. Ünvan Sumqayıt, 9-cu mikrorayon. Polisə getməyə qorxuram, nə etməliyəm?"},
	{"ru", "Здравствуйте, мой брат работает на стройке в Москве, у него забрали паспорт, не платят уже три месяца и не выпускают с объекта. Он боится звонить. Помогите, что делать?"},
	{"en", "Hello, I am a domestic worker in Baku. My employer took my passport when I arrived and I have not been paid for four months. I am not allowed to leave the house alone."},
}

func BenchmarkTriageByLanguage(b *testing.B) {
	e := triage.Default()
	for _, tip := range tipsByLanguage {
		b.Run(tip.lang, func(b *testing.B) {
			b.SetBytes(int64(len(tip.text)))
			for b.Loop() {
				e.Triage(tip.text)
			}
		})
	}
}
