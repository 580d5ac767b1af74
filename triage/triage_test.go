package triage_test

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/triage"
)

// TestAzerbaijaniDottedI checks case folding: Azerbaijani has dotted İ/i and
// dotless I/ı. strings.ToLower("İŞİMİ") is "i̇şi̇mi̇" (i + combining dot), which
// would match nothing; the engine folds all of İŞİMİ, işimi, ISIMI, isimi and
// ışımı to the same key.
func TestAzerbaijaniDottedI(t *testing.T) {
	e := mustLoad(t, `
[[rule]]
name = "my_work"
priority = "P2"
category = "labor"
az = ["işimi"]

[[rule]]
name = "heat"
priority = "P3"
category = "none"
az = ["ısı"]
`)
	for _, text := range []string{"İŞİMİ", "işimi", "ISIMI", "isimi", "ışımı", "İşimi", "Isimi", "i\u0307s\u0327imi"} {
		if got := e.Triage(text); got.Priority != hotline.P2 || strings.Join(got.Matched, ",") != "my_work" {
			t.Errorf("Triage(%q) = %s %v, want P2 [my_work]", text, got.Priority, got.Matched)
		}
	}
	for _, text := range []string{"ISI", "ısı", "isi", "İSİ", "Isı"} {
		if got := e.Triage(text); strings.Join(got.Matched, ",") != "heat" {
			t.Errorf("Triage(%q) matched %v, want [heat]", text, got.Matched)
		}
	}
	// An English capital I is not taken for Azerbaijani.
	if got := triage.DetectLang("I AM LOCKED IN A ROOM"); got != hotline.LangEn {
		t.Errorf("DetectLang(I AM LOCKED IN A ROOM) = %s, want en", got)
	}
	if got := triage.DetectLang("İŞİMİ İTİRDİM"); got != hotline.LangAz {
		t.Errorf("DetectLang(İŞİMİ İTİRDİM) = %s, want az", got)
	}
}

// TestSpellings checks that the spellings people use for the same words match
// the same default rules.
func TestSpellings(t *testing.T) {
	groups := []struct {
		rule  string
		texts []string
	}{
		{"violence", []string{"Məni döyürlər", "meni doyurler", "MENİ DÖYÜRLƏR", "мени доюрлар", "Мәни дөјүрләр"}},
		{"confined", []string{"Нас держат", "nas derzhat", "nas derjat", "NAS DERZHAT", "нас держат!!!"}},
		{"confined", []string{"they are holding me", "they r holding me", "THEY ARE HOLDING ME", "theyre holdin me"}},
		{"threat", []string{"угрожают", "ugrojaiut", "ugrozhayut", "угрожаеть"}},
		// c as Azerbaijani Cyrillic ҹ, as "дж" on a Russian keyboard, and in Latin.
		{"sold_person", []string{"Bacımı satıblar", "bacimi satiblar", "Бачымы сатыблар", "Баҹымы сатыблар", "Баджымы сатыблар"}},
		{"plea", []string{"помогите", "pomogite", "POMOGITE", "помогитеее", "Kömək edin", "komek edin", "кёмек един", "help", "heeelp"}},
	}
	for _, g := range groups {
		for _, text := range g.texts {
			got := triage.Default().Triage(text)
			if !contains(got.Matched, g.rule) {
				t.Errorf("Triage(%q) matched %v, want %s among them", text, got.Matched, g.rule)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestNegationAndHarmless checks that negated or harmless uses of alarm
// words are not P1, while the plain alarm is.
func TestNegationAndHarmless(t *testing.T) {
	notP1 := []string{
		"help me find a job",
		"help with my router",
		"can you help me with my homework",
		"Kompüterimə kömək lazımdır",
		"Mənə iş tapmağa kömək edin",
		"Помогите найти работу",
		"Помогите с переводом документов",
		"Меня никто не держит, просто вопрос",
		"Они меня не бьют",
		"Məni döymürlər, sadəcə maaş gecikir",
		"Nobody is hurting me",
		"they don't beat us",
		"I am not locked in",
		"we are not being held",
		"this traffic is killing me",
		"my phone is locked",
		"I locked myself out of my car",
		"işdən çıxa bilmirəm, çünki müqavilə var",
		"I can't leave my job because of the contract",
		"шеф меня убьёт если опоздаю 😂", // a laughing emoji reads as "haha"
	}
	for _, text := range notP1 {
		if got := triage.Default().Triage(text); got.Priority == hotline.P1 {
			t.Errorf("Triage(%q) = P1 %v, want not P1", text, got.Matched)
		}
	}
	p1 := []string{
		"шеф сказал убьёт если уйду 😢", // only laughter is a joke
		"help, they locked me in",
		"help they locked me in",
		"Помогите, нас держат",
		"они меня бьют",
		"Məni döyürlər",
		"they are hurting me",
		"they beat us",
		"I am locked in",
		"we are being held",
		"they won't let me go",
		"не выпускают из дома",
		"çıxa bilmirəm, qapı bağlıdır",
	}
	for _, text := range p1 {
		if got := triage.Default().Triage(text); got.Priority != hotline.P1 {
			t.Errorf("Triage(%q) = %s %v, want P1", text, got.Priority, got.Matched)
		}
	}
}

func TestDetectLang(t *testing.T) {
	tests := []struct {
		text string
		want hotline.Lang
	}{
		{"Kömək edin", hotline.LangAz},
		{"komek edin bizi burda saxlayirlar", hotline.LangAz},
		{"Мени доюрлар, кёмек един", hotline.LangAz},
		{"Мәни бағлајыблар", hotline.LangAz},
		{"Помогите", hotline.LangRu},
		{"pomogite nas derzhat", hotline.LangRu},
		{"spasibo vse horosho", hotline.LangRu},
		{"help me please", hotline.LangEn},
		{"hello", hotline.LangEn},
		{"", hotline.LangAz},
		{"12345", hotline.LangAz},
		{"🙂", hotline.LangAz},
	}
	for _, tt := range tests {
		if got := triage.DetectLang(tt.text); got != tt.want {
			t.Errorf("DetectLang(%q) = %s, want %s", tt.text, got, tt.want)
		}
	}
	// Short texts as people type them.
	short := map[hotline.Lang][]string{
		hotline.LangAz: {"salam necesen", "men isdeyem", "pulu vermir", "maasimi vermirler", "bize komek edin", "Салам, мен ишсизем", "гызым итиб", "bu nomre pulsuzdur?", "sag olun", "xahis edirem zeng edin", "qardasim rusiyada isleyir", "uşaqlar", "Bakıda", "nə etməliyəm", "isde problem var", "tez gelin", "pasportumu geri vermir", "bizi burda saxlayirlar", "Ала, мене кёмек лазымды", "оғлум", "ишден чыхмаг истейирем", "məni", "Gəncədə", "ok sag ol"},
		hotline.LangRu: {"ya ne znayu chto delat", "mne nuzhna pomosh", "ne platyat", "spasibo", "privet", "kak dela", "menya obmanuli", "Я не знаю", "Да", "Нет", "ок", "помощь", "rabotodatel ne otdaet dengi", "oni zabrali pasport", "pozvonite mne", "eto besplatno?", "hochu uehat", "devushki v opasnosti"},
		hotline.LangEn: {"pls call", "ok", "no", "yes please", "my boss", "call me", "sorry", "where are you", "i need money", "they lied", "im in baku", "the agency", "what time", "need info", "wrong", "is anyone there", "my passport", "thx", "good night", "job"},
	}
	for want, texts := range short {
		for _, text := range texts {
			if got := triage.DetectLang(text); got != want {
				t.Errorf("DetectLang(%q) = %s, want %s", text, got, want)
			}
		}
	}
}

func TestResultAlwaysValid(t *testing.T) {
	for _, text := range []string{"", " ", "\x00", "🙂🙂", strings.Repeat("a", 1<<17), "\xff\xfe"} {
		got := triage.Default().Triage(text)
		if got.Priority.Rank() == 0 || !got.Lang.Valid() || got.Category == "" || got.Matched == nil {
			t.Errorf("Triage(%.20q) = %+v, want a valid result with non-nil Matched", text, got)
		}
		b, _ := json.Marshal(got)
		if !strings.Contains(string(b), `"matched":[`) {
			t.Errorf("JSON of Triage(%.20q) = %s, want matched as a list", text, b)
		}
	}
}

// TestConcurrent runs one engine from many goroutines (run with -race).
func TestConcurrent(t *testing.T) {
	rows := readSet(t, labelledSet)
	e := triage.Default()
	want := make([]hotline.Triage, len(rows))
	for i, r := range rows {
		want[i] = e.Triage(r.Text)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for k := range rows {
				i := (k + g*31) % len(rows)
				got := e.Triage(rows[i].Text)
				if got.Priority != want[i].Priority || got.Category != want[i].Category || got.Lang != want[i].Lang || strings.Join(got.Matched, ",") != strings.Join(want[i].Matched, ",") {
					t.Errorf("concurrent Triage(%q) = %+v, want %+v", rows[i].Text, got, want[i])
					return
				}
			}
		}(g)
	}
	wg.Wait()
}

// TestSecondOpinionFollowsTheTable compares the default engine with the same
// rules without the second opinion on every labelled tip: the model may
// raise a tip to P1, or a P3 tip to P2 (second_opinion), or lower a P1 of
// weak rules to P2 or P3 (second_opinion_disagrees), and says so in Matched,
// but changes nothing else; a P1 that stands because the model agreed is
// named too.
func TestSecondOpinionFollowsTheTable(t *testing.T) {
	rulesOnly := rulesOnlyEngine(t)
	files, err := filepath.Glob("testdata/*.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	says := []string{triage.SecondOpinion, triage.SecondOpinionAgrees, triage.SecondOpinionDisagrees}
	var raised, lowered, agreed int
	for _, f := range append(files, devSet) {
		for _, r := range readSet(t, f) {
			with, without := triage.Default().Triage(r.Text), rulesOnly.Triage(r.Text)
			for _, name := range says {
				if slices.Contains(without.Matched, name) {
					t.Fatalf("%q: the disabled second opinion said %s", r.Text, name)
				}
			}
			said := ""
			if n := len(with.Matched); n > 0 && slices.Contains(says, with.Matched[n-1]) {
				said = with.Matched[n-1]
			}
			if said != "" && !slices.Equal(with.Matched[:len(with.Matched)-1], without.Matched) {
				t.Errorf("%q: %v with the model, %v without: only the last name may differ", r.Text, with.Matched, without.Matched)
			}
			switch said {
			case "":
				if with.Priority != without.Priority || !slices.Equal(with.Matched, without.Matched) || with.Category != without.Category {
					t.Errorf("%q: %s %v %s with the model, %s %v %s without, and the model says nothing", r.Text, with.Priority, with.Matched, with.Category, without.Priority, without.Matched, without.Category)
				}
			case triage.SecondOpinion:
				raised++
				if with.Priority.Rank() <= without.Priority.Rank() || (with.Priority == hotline.P2 && without.Priority != hotline.P3) {
					t.Errorf("%q: %s with the model, %s without, named %s", r.Text, with.Priority, without.Priority, said)
				}
			case triage.SecondOpinionAgrees:
				agreed++
				if with.Priority != hotline.P1 || without.Priority != hotline.P1 {
					t.Errorf("%q: %s with the model, %s without, named %s", r.Text, with.Priority, without.Priority, said)
				}
			case triage.SecondOpinionDisagrees:
				lowered++
				if with.Priority == hotline.P1 || without.Priority != hotline.P1 {
					t.Errorf("%q: %s with the model, %s without, named %s", r.Text, with.Priority, without.Priority, said)
				}
			}
		}
	}
	t.Logf("the second opinion raised %d labelled tips, lowered %d weak P1 and confirmed %d", raised, lowered, agreed)
}
