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
// A key listed by two languages that share a script counts for neither: "mi"
// is English "my" and Russian "мы", so in a Latin text it is no evidence.
// Very short Russian words ("на", "то", "но") are no evidence in Latin texts.

const (
	lexEn uint8 = 1 << iota // English
	lexAz                   // Azerbaijani, in either script
	lexRu                   // Russian, in Cyrillic or typed in Latin letters
)

// Common words of each language, in ordinary spelling; they are compared as
// keys, so each Russian word also stands for its Latin transliteration and
// each Azerbaijani word for its spellings with and without ə ğ ı ö ü ş ç and
// in Cyrillic.
var lexiconWords = map[uint8]string{
	lexEn: `the an is are am was were be been being have has had having not dont doesnt
		didnt cant cannot wont isnt arent wasnt werent havent hasnt me we you your yours
		they them their he she his her hers it its this that these those what how where
		when who whom why which and or but of in at for with from by about into onto
		over under after before than then please help can could would should will shall
		do does did done there here now just also only very really some any all every
		each other another more most much many few someone somebody anyone anybody
		everyone nobody people person man woman women girl girls boy boys child
		children kid kids daughter son sister brother family friend friends wife
		husband mother father mom dad job jobs work working worked works boss employer
		company agency paid pay money salary wages house home room door street city
		country hello hi hey thanks thank test testing ok okay yes yeah yep nope sorry
		lol pls plz thx u ur im ive id youre theyre weve thats whats let lets want
		wants wanted need needs needed know knew go going gone went come came get got
		take took taken give gave tell told say said says ask asked call called find
		found keep kept hold holds holding held leave left lock locked locking stay
		safe scared afraid threat threaten threatened kill killed hurt beat beaten
		sold sell selling buy bought passport documents contract abroad free flight
		flights ticket police station train hotel outside inside night day days week
		weeks month months year years hours today tonight tomorrow yesterday again
		still never always because if so no my mine our ours us wrong number speak russian
		english language emergency urgent please kidney organ offer offers ad advert
		licensed check recruitment recruiting nanny maid reset password router computer
		phone account homework fine good bad well right okay dear sir madam`,
	lexAz: `mən men məni mənə mənim məndə məndən biz bizi bizə bizim bizdə bizdən sən səni
		sənə sənin siz sizi sizə sizin sizdə onu onun onda ondan onlar onları onlara
		onların bu bunu buna bunun bura burda burada ora orda orada şu və ilə ki
		necə niyə nəyə harada hara haradan hansı kim kimi var yox yoxdur deyil deyir
		deyirlər dedi dedilər edin edir edirlər et etdi etdilər edib edirəm etmək olun
		olsun oldu olub olur olar olmaz sağ salam çox üçün amma lakin ancaq indi gün
		bugün sabah dünən axşam gecə səhər saat kömək köməyə lazım lazımdır xahiş
		xaiş zəhmət olmasa istəyirəm istəmirəm istəyir bilmirəm bilmir bilir
		yaşlı qız qızı qızım oğlan oğlum uşaq uşaqlar uşağı ev evdə evdən evə pul
		maaş maaşı maaşımı müdir qonşu qonşunun qonşuda hər şey qaydasındadır
		təşəkkür təşəkkürlər yaxşı pis təcili işləyir işləyirəm işləyirik işlədir
		işləmək işə işdə işdən işçi işçilər heç kim xeyir gəlin gəldi getdi getmir
		gəlmir vermir vermirlər saxlayır saxlayırlar saxlayıb döyür döyürlər zəng
		qurtarın xilas polis ferma bazarda anbar sənəd sənədlər pasportumu elan
		gördüm agentlik borc təklif məktəb məktəbə kiçik balaca qardaş qardaşım bacı
		bacım anam atam xaricə xaricdə müqavilə yoxlayım qaynar xətt pulsuz
		pulsuzdur qorxuram bilərəm bilərsiniz mümkündür lazımdı dilənir qızlar
		qadın kişi kişilər adam ailə ailəm həyat yoldaşım ərim arvadım nömrə nömrəsi
		telefon telefonum telefonumu bağlayıblar buraxmırlar qoymurlar öldürəcək
		edək edim nədir nəyi sizinlə bizimlə mənimlə onunla ağlayır necəsən necəsiz
		sağol sagol çünki əgər sonra əvvəl artıq hələ yenə bir iki üç`,
	lexRu: `я меня мне мной мы нас нам нами ты тебя тебе вы вас вам он она они оно их
		им его ее её ей ему него нее неё них и в во на с со к ко по за из от до у о об
		при для без про через что чтобы как где куда когда почему зачем кто это этот
		эта эти тот та те все всё весь вся уже только ещё еще можно нужно надо очень
		есть был была были будет будут быть хочу хочет хотят могу может можем могут
		знаю знает помогите помоги помощь пожалуйста спасибо здравствуйте привет
		работа работу работе работы работать работаю работаем работает деньги денег
		зарплата зарплату сейчас сегодня завтра вчера здесь тут там мой моя мою моё
		мои моего моей наш наша наши ваш ваша свой свою ли бы же который которая если
		или но а нет да хорошо плохо анонимно держат бьют забрали продали хозяин
		работодатель срочно паспорт документы дома дом домой квартире квартиру муж
		жена дочь сын сестра брат мама папа дети детей ребенок ребёнок девушка
		девушку девушки женщина мужчина люди людей полиция полицию боюсь страшно
		телефон номер вопрос сколько стоит говорите после потом тоже также очень
		никто ничего нельзя сказал сказали говорит говорят pomogite pojaluista pozhaluysta
		spasibo privet zdravstvuite menya mne nas vas pomosh pomosch rabota rabotu
		rabotat dengi hochu hotim znayu seychas segodnya pasport derzhat zabrali
		забрал забрала увезли увез увёз продают продали продать угрожают угрожает
		убить убьют выпускают выпустите отпускают отпустите плачет плачут кричит
		кричат опасно бьёт бьет били избили избивают заперли закрыли спасите
		сестру брата дочку сына мою моего нашу наших здесь быстрее скорее нужна
		хозяйка начальник деньги долг работают живём живем сидим держит девочку
		мальчика подвале квартире складе ферме стройке машину насилуют похитили
		украли пропала пропал нашли ищут прошу срочно работаете круглосуточно`,
}

// latinRu are Russian words too short or too like English and Azerbaijani
// words to count as Russian in a text written in Latin letters.
var latinRu = `я мы ты вы он она оно и в во на с со к ко по за из до у о об а но да нет
	же бы ли там тут то все её ее их им ему ей нее неё него`

// Word endings (keys) typical of each language; only words of 4+ letters count.
var (
	azEndings    = endings("lar", "ler", "dir", "dur", "mis", "mag", "mek", "dan", "den", "lari", "leri", "sinis", "ilar", "iler", "ib", "ub", "ogu", "igi", "ugu", "sin", "da", "de", "iram", "irem", "irig", "mir", "mur", "mam", "mem")
	ruCyrEndings = endings("iut", "iat", "sia", "ogo", "ego", "ami", "ah", "ih", "oi", "ei", "aia", "oe", "ie", "it", "at", "et", "ut", "ov", "ev", "om", "em", "ti", "t", "iu", "ia")
	ruLatEndings = endings("iut", "iat", "sia", "ogo", "aete", "iaete", "aiut", "ovat", "ite", "iem", "nii", "noe", "naia", "skii", "ska", "ovi", "ajut", "ujut", "ejut", "jat", "jet")
	enEndings    = endings("ing", "ed", "tion", "ly", "ould", "ght", "th", "ness", "ment", "ful")
)

// lexEntry says which languages list a key, separately for texts written
// mostly in Latin and mostly in Cyrillic letters. A key listed by two
// languages of the same script counts for neither.
type lexEntry struct{ lat, cyr uint8 }

var lexicon = sync.OnceValue(func() map[string]lexEntry {
	s := newScratch()
	keys := func(words string) []string {
		var out []string
		for _, w := range strings.Fields(words) {
			s.normalize(w)
			for i := range s.toks {
				out = append(out, string(s.word(i)))
			}
		}
		return out
	}
	notLatin := make(map[string]bool)
	for _, k := range keys(latinRu) {
		notLatin[k] = true
	}
	raw := make(map[string]uint8)
	for bit, words := range lexiconWords {
		for _, k := range keys(words) {
			raw[k] |= bit
		}
	}
	m := make(map[string]lexEntry, len(raw))
	single := func(b uint8) uint8 {
		if b&(b-1) != 0 {
			return 0
		}
		return b
	}
	for k, v := range raw {
		lat := v & (lexEn | lexAz | lexRu)
		if notLatin[k] {
			lat &^= lexRu
		}
		m[k] = lexEntry{lat: single(lat), cyr: single(v & (lexAz | lexRu))}
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
		if t.num >= 0 {
			continue
		}
		w := s.word(i)
		e, known := lex[string(w)]
		long := len(w) >= 4
		if cyr {
			switch e.cyr {
			case lexAz:
				az += 2
			case lexRu:
				ru += 2
			}
			if long && !known {
				az += ending(w, azEndings)
				ru += ending(w, ruCyrEndings)
			}
			continue
		}
		switch e.lat {
		case lexAz:
			az += 2
		case lexRu:
			ru += 2
		case lexEn:
			en += 2
		}
		if long && !known {
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

// ending gives 1 if w ends with one of the endings, else 0.
func ending(w []byte, ends *endingSet) int {
	last := w[len(w)-1]
	for _, e := range ends[last] {
		if len(w) > len(e)+1 && string(w[len(w)-len(e):]) == e {
			return 1
		}
	}
	return 0
}

// endingSet holds endings by their last letter.
type endingSet [256][]string

func endings(list ...string) *endingSet {
	var set endingSet
	for _, e := range list {
		set[e[len(e)-1]] = append(set[e[len(e)-1]], e)
	}
	return &set
}
