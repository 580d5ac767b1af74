package triage

import (
	"strings"
	"sync"

	"github.com/hotline-az/hotline"
)

// Language detection scores each language by evidence in the tip:
//
//   - letters only Azerbaijani uses (ə ğ ı İ ş ç ö ü; ә ғ ҝ ө ү ҹ һ ј in Cyrillic);
//   - common words of each language, compared as normalised keys, so "komek",
//     "kömək" and "кёмек" are the same Azerbaijani word;
//   - typical word endings (Azerbaijani -lar/-lər, Russian -ют/-ся, English -ing).
//
// A tip written mostly in Cyrillic is Russian unless the Azerbaijani evidence
// is stronger; a tip in Latin letters goes to the language with the highest
// score, and to Azerbaijani when there is no evidence at all or a tie.
//
// The word lists are curated so that no key belongs to two languages of the
// same script ("mi" is both English "my" and Russian "мы", so neither lists it).

const (
	lexEn    uint8 = 1 << iota // English
	lexAz                      // Azerbaijani, either script
	lexRuLat                   // Russian typed in Latin letters
	lexRuCyr                   // Russian in Cyrillic
)

var lexiconWords = map[uint8]string{
	lexEn: `the an is are am was were be been being have has had not dont doesnt didnt
		cant cannot wont isnt arent wasnt me we you your they them their he she his her
		it its this that these those what how where when who why which and or of in at
		for with from by about please help can could would will do does did there here
		now job work working worked boss paid pay money house home hello hi hey thanks
		thank test testing ok okay yes someone somebody people if want go going know
		just all some any after before our out up speak russian english anyone
		sell sold buy my mine i'm im us our ours got get took taken take need
		should could must let leave left going gone man woman women children child kids
		kid girl girls daughter son sister brother family friend wife husband
		hours day days week month months year years police station train street
		hotel outside inside night door locked holding hold held threaten threatened
		emergency urgent hurt beat beaten kill killed found find ad agency licensed
		check recruitment offer offers abroad contract flights free nanny kidney
		asked reset password router computer phone account thank you
		lol wrong number sorry please pls plz thx yes yeah yep nope u ur im ive dont cant`,
	lexAz: `men meni mene menim biz bizi bize bizim sen seni sene senin siz sizi size sizin
		onu onun onlar onlari onlara bu bura burada orada ora ve ile ki nece niye nie
		harada hara var iox deiil edin edir edirler et etdi etdiler edib olun olsun oldu
		sag salam cox ucun amma lakin ancag indi gun komek komei lazimdir lazim
		xahis hahis edirem isteirem istemirem bilmirem bilmir iasli giz gizi gizim
		oglan usag usaglar ev evde evden pul maas mudir gonsu gonsunun her sei
		gaidasindadir tesekkur olun ela elave tecili deiirler deir neca bizde
		isleir isledir islemek islemeie iseri ishe isci iscilere xeta hec kim
		gun bugun axsam aksam gece seher saat men cox galdi gelib gedib getdi
		getmir gelmir vermir vermirler saxlaiir saxlaiib saxlaiirlar doiur doiurler
		doiurlar zeng gurtarin xilas hilas mehkeme polis ferma bazarda anbar sened
		senedleri pasportumu maasimi elan gordum agentlik borc azalmir gaitarmaliiam
		orgaanimi teklif mekteb mektebe kicik qiz gardas bacim anam atam ogul
		qonsu xarice harice muqavile muqavileni ioxlaiim gainar hett pulsuzdur
		dediler deir dedi sonra once artig hele haradadir oradadir indi`,
	lexRuLat: `menia mne nas nam pomogite pomogi pojaluista spasibo zdravstvuite privet cto
		kak gde kogda pocemu eto uje tolko mojno nujno nado ocen seicas segodnia rabota
		rabotu rabotat dengi derjat biut zabrali prodali zdes moi moia ili esli vi oni
		ego ih na iz ot za po menia nas pasport? derjit ugrojaet ubiut sklade sklad
		izbivaiut zaperli otpuskaiut vipuskaiut srocno pomosc hoziain rabotodatel`,
	lexRuCyr: `я меня мне мы нас нам ты тебя вы вас он она они их его ее её и в на с со к по
		за из от до у об что как где когда почему это этот эта эти все всё уже только
		можно нужно надо очень есть был была были помогите помогите пожалуйста спасибо
		здравствуйте привет работа работу работать работаю деньги сейчас сегодня здесь
		там мой моя мою моего ли бы же который если или но а нет да хорошо анонимно
		держат бьют забрали продали паспорт хозяин работодатель срочно`,
}

// Word endings (keys) typical of each language; only words of 4+ letters count.
var (
	azEndings    = []string{"lar", "ler", "dir", "dur", "mis", "mag", "mek", "dan", "den", "lari", "leri", "sinis", "ilar", "iler", "ib", "ub", "ogu", "igi", "ugu", "sin", "da", "de"}
	ruCyrEndings = []string{"iut", "iat", "sia", "ogo", "ego", "ami", "ah", "ih", "oi", "ei", "aia", "oe", "ie", "it", "at", "et", "ut", "ov", "ev", "om", "em", "ti", "t"}
	ruLatEndings = []string{"iut", "iat", "sia", "ogo", "aiut", "ovat", "ite", "iem"}
	enEndings    = []string{"ing", "ed", "tion", "ly", "ould", "ght", "th"}
)

var lexicon = sync.OnceValue(func() map[string]uint8 {
	s := newScratch()
	m := make(map[string]uint8)
	for bit, words := range lexiconWords {
		for _, w := range strings.Fields(words) {
			w = strings.TrimSuffix(w, "?")
			s.normalize(w)
			for i := range s.toks {
				m[string(s.word(i))] |= bit
			}
		}
	}
	// Drop keys claimed by two languages written in the same script.
	for k, v := range m {
		lat := v & (lexEn | lexAz | lexRuLat)
		cyr := v & (lexAz | lexRuCyr)
		if lat&(lat-1) != 0 || cyr&(cyr-1) != 0 {
			m[k] = 0
		}
	}
	return m
})

var langPool = sync.Pool{New: func() any { return newScratch() }}

// DetectLang says which of the hotline's languages text is written in:
// Azerbaijani (in Latin or Cyrillic letters, with or without ə ğ ı ö ü ş ç),
// Russian (in Cyrillic or typed in Latin letters) or English. It always returns
// a valid language; Azerbaijani when there is nothing to go on.
func DetectLang(text string) hotline.Lang {
	s := langPool.Get().(*scratch)
	s.normalize(text)
	l := detect(s)
	langPool.Put(s)
	return l
}

func detect(s *scratch) hotline.Lang {
	lex := lexicon()
	cyr := s.st.cyr > s.st.lat
	var az, ru, en int
	if cyr {
		az += 3 * s.st.azCyr
	} else {
		az += 2 * s.st.azLat
	}
	for i, t := range s.toks {
		if t.num >= 0 || t.e == t.s {
			continue
		}
		w := s.word(i)
		m := lex[string(w)]
		long := len(w) >= 4
		if cyr {
			if m&lexAz != 0 {
				az += 2
			}
			if m&lexRuCyr != 0 {
				ru += 2
			}
			if long && m == 0 {
				az += ending(w, azEndings)
				ru += ending(w, ruCyrEndings)
			}
			continue
		}
		if m&lexAz != 0 {
			az += 2
		}
		if m&lexRuLat != 0 {
			ru += 2
		}
		if m&lexEn != 0 {
			en += 2
		}
		if long && m == 0 {
			az += ending(w, azEndings)
			ru += ending(w, ruLatEndings)
			en += ending(w, enEndings)
		}
	}
	if cyr {
		if az > ru {
			return hotline.LangAz
		}
		return hotline.LangRu
	}
	switch {
	case az >= ru && az >= en:
		return hotline.LangAz
	case ru >= en:
		return hotline.LangRu
	}
	return hotline.LangEn
}

func ending(w []byte, ends []string) int {
	for _, e := range ends {
		if len(w) > len(e)+1 && string(w[len(w)-len(e):]) == e {
			return 1
		}
	}
	return 0
}
