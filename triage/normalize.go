package triage

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hotline-az/hotline"
	"golang.org/x/text/cases"
	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"
)

// Normalisation turns a tip into a list of "keys": lower-case ASCII words in
// which the spellings people really use for the same word coincide.
//
//   - Case: lowered with the Azerbaijani rules of golang.org/x/text/cases, so
//     "İ" becomes "i" (not "i" + combining dot, as strings.ToLower gives) and
//     "I" becomes "ı". The mapping is worked out once per letter when the
//     package starts and kept in the rune table, so a tip costs no case
//     transformation at run time.
//   - Azerbaijani letters are flattened: ə→e, ğ→g, ı→i, ö→o, ü→u, ş→s, ç→c
//     (and the 1991 spelling ä→e). Other accents are dropped.
//   - Cyrillic is transliterated, so Russian in Cyrillic, Russian typed in
//     Latin ("pomogite", "derzhat") and Azerbaijani typed in Cyrillic
//     ("кёмек един") land on the same key as their Latin spelling.
//   - Sounds spelled several ways are merged: x/kh/х→h, y/й/ы→i, q/г→g,
//     sh/ш→s, shch/sch/щ→s, ch/ч/ц→c, zh/ж→j, and c/ҹ/дж/dzh/dj→c.
//   - A letter typed twice or more counts once ("heeelp", "passport"/"pasport").
//   - Apostrophes vanish ("won't" → "wont"); other punctuation separates words,
//     and . , ! ? ; : and line breaks also end a clause.
//   - Digits form their own words ("12yaşlı" is "12" and "iasli"), except a
//     6 or 4 between Latin letters, which is ш or ч ("ma6inu" is "masinu").
//   - A laughing emoji (😂 🤣 😆 ...) is the word "haha", and the SOS
//     button emoji 🆘 the word "sos".
//   - A tip read as Azerbaijani in Cyrillic letters is read again as typed
//     on a Russian keyboard: я and ю after a consonant are ə and ü, ж is c
//     ("мяжбур" is "məcbur"; see readTip).
//
// Rule phrases go through the same steps, so an officer writes words in their
// ordinary spelling and they match all of these variants.

// Character classes of the rune table.
const (
	cSep    uint8 = iota // separates words
	cBreak               // separates words and ends a clause
	cLetter              // part of a word; key holds its ASCII spelling
	cDigit               // part of a number
	cJoin                // apostrophe: dropped, the word goes on
	cMark                // combining mark: dropped, the word goes on
)

type runeInfo struct {
	class uint8
	latin bool   // a Latin letter: takes part in sh/ch/zh/kh digraphs
	key   string // ASCII key of a letter
}

// tableSize covers ASCII, Latin-1, Latin Extended-A/B, IPA (for ə),
// combining marks and Cyrillic with its supplement.
const tableSize = 0x530

var runeTable = buildRuneTable()

func buildRuneTable() *[tableSize]runeInfo {
	var t [tableSize]runeInfo
	ascii := func(c byte) string {
		switch c {
		case 'x':
			return "h"
		case 'y':
			return "i"
		case 'q':
			return "g"
		}
		return string(c)
	}
	for r := rune(0); r < 0x80; r++ {
		switch {
		case r >= 'a' && r <= 'z':
			t[r] = runeInfo{class: cLetter, latin: true, key: ascii(byte(r))}
		case r >= '0' && r <= '9':
			t[r] = runeInfo{class: cDigit}
		case r == '\'' || r == '`':
			t[r] = runeInfo{class: cJoin}
		case r == '.' || r == ',' || r == '!' || r == '?' || r == ';' || r == ':' || r == '\n' || r == '\r':
			t[r] = runeInfo{class: cBreak}
		}
	}
	// Latin letters with accents: keep the base letter.
	for r := rune(0x80); r < 0x250; r++ {
		if !unicode.IsLower(r) {
			continue
		}
		d := norm.NFD.String(string(r))
		if c := d[0]; c < 0x80 && t[c].class == cLetter {
			t[r] = runeInfo{class: cLetter, latin: true, key: t[c].key}
		}
	}
	latin := map[rune]string{
		'ə': "e", 'Ə': "e", 'ä': "e", 'Ä': "e", 'ı': "i", 'ø': "o", 'Ø': "o",
		'æ': "ae", 'Æ': "ae", 'œ': "oe", 'Œ': "oe", 'ß': "s", 'đ': "d", 'Đ': "d",
		'ł': "l", 'Ł': "l", 'ŋ': "n", 'ɪ': "i",
	}
	for r, k := range latin {
		t[r] = runeInfo{class: cLetter, latin: true, key: k}
	}
	for r := rune(0x300); r < 0x370; r++ {
		t[r] = runeInfo{class: cMark}
	}
	t[0xB4] = runeInfo{class: cJoin}  // ´
	t[0x2BC] = runeInfo{class: cJoin} // ʼ
	t[0xA1] = runeInfo{class: cBreak} // ¡
	t[0xBF] = runeInfo{class: cBreak} // ¿
	cyr := map[rune]string{
		'а': "a", 'б': "b", 'в': "v", 'г': "g", 'д': "d", 'е': "e", 'ё': "o",
		'ж': "j", 'з': "z", 'и': "i", 'й': "i", 'к': "k", 'л': "l", 'м': "m",
		'н': "n", 'о': "o", 'п': "p", 'р': "r", 'с': "s", 'т': "t", 'у': "u",
		'ф': "f", 'х': "h", 'ц': "c", 'ч': "c", 'ш': "s", 'щ': "s", 'ъ': "",
		'ы': "i", 'ь': "", 'э': "e", 'ю': "iu", 'я': "ia",
		// Azerbaijani Cyrillic.
		'ә': "e", 'ғ': "g", 'ҝ': "g", 'ө': "o", 'ү': "u", 'ҹ': "c", 'һ': "h",
		'ј': "i", 'ҳ': "h", 'ҷ': "c", 'ҕ': "g",
		// Ukrainian and Belarusian letters that turn up in typing.
		'і': "i", 'ї': "i", 'є': "e", 'ґ': "g", 'ў': "u",
		// Kazakh and Turkmen letters occasionally used for the same sounds.
		'қ': "k", 'ң': "n", 'ұ': "u", 'ӧ': "o", 'ӱ': "u", 'ӓ': "e",
	}
	for r, k := range cyr {
		t[r] = runeInfo{class: cLetter, key: k}
	}
	// Capitals and other letters that lower-case to something else take the
	// key of their Azerbaijani lower case: I → ı → "i", İ → i → "i".
	lower := cases.Lower(language.Azerbaijani)
	for r := rune(0); r < tableSize; r++ {
		if !unicode.IsLetter(r) {
			continue
		}
		low := lower.String(string(r))
		if low == string(r) {
			continue
		}
		info := runeInfo{class: cLetter}
		for _, lr := range low {
			if lr >= tableSize {
				continue
			}
			li := t[lr]
			switch li.class {
			case cLetter:
				info.key += li.key
				info.latin = li.latin
			case cMark:
			default:
				info.key = ""
			}
		}
		if info.key != "" {
			t[r] = info
		}
	}
	return &t
}

// lookupRune classifies r.
func lookupRune(r rune) runeInfo {
	if r < tableSize {
		return runeTable[r]
	}
	switch r {
	case '\u2019', '\u2018', '\u02BC', '\uFF07':
		return runeInfo{class: cJoin}
	case '\u2026', '\u3002', '\uFF01', '\uFF1F', '\u060C', '\u061B', '\u061F', '\u2028', '\u2029':
		return runeInfo{class: cBreak}
	}
	if unicode.Is(unicode.Mn, r) {
		return runeInfo{class: cMark}
	}
	return runeInfo{class: cSep}
}

// tok is one word of a normalised tip: key[s:e] in the scratch buffer.
type tok struct {
	s, e int32
	num  int32 // value of a number of up to 3 digits; -1 for words and longer numbers
	brk  bool  // a clause break comes right before this word
	sent uint8 // the sentence it is in, counting . ! ? and new lines (at most 63)
}

// stats counts letters of the original text for language detection.
type stats struct {
	lat, cyr     int // Latin and Cyrillic letters
	azLat, azCyr int // letters only Azerbaijani uses, in Latin and in Cyrillic
}

// scratch holds the buffers of one normalisation; pooled, never shared.
type scratch struct {
	key  []byte
	toks []tok
	st   stats

	tokStart int
	inTok    bool
	digits   bool
	brk      bool
	soft     bool // the pending break is only commas
	sentEnd  bool // the pending break ends a sentence
	azCyr    bool // read Cyrillic as Azerbaijani typed on a Russian keyboard
	prevCons bool // the last letter was a Cyrillic consonant
	lastLat  bool

	// engine only
	hit   []uint64 // lists matched, by index
	refs  []uint64 // per token: the @lists that hold it
	negs  []bool   // per token: a negation word of the language being matched
	sigs  []uint64 // per token: its tokSig
	cands []cand   // phrases that may start at a token
	fired []firing // rules fired
	// tipWords is the number of words in the whole tip.
	tipWords int
	// retracted: the tip takes an alarm back (the word list retracted).
	retracted bool
	// joked: a sentence of the tip jokes (a sentence-scoped list, joke).
	joked bool
	// practical: the tip asks for a number, an address or an app (the word
	// list practical_request).
	practical bool
	// routine: the tip tells of a situation seen again and again (the word
	// list routine), with no sign of imminence.
	routine bool
	feats   []uint32 // the second opinion's features
	// negated: a negation word cancelled a phrase ("не бьют").
	negated bool
	// scopedSents has bit i set when a sentence-scoped list (a joke) was
	// found in sentence i.
	scopedSents uint64
	allToks     []tok    // the tip's tokens while a re-read uses fewer
	reToks      []tok    // the tokens a re-read keeps
	refired     []firing // the first reading's rules, kept during a re-read
}

func newScratch() *scratch {
	return &scratch{
		key:  make([]byte, 0, 256),
		toks: make([]tok, 0, 64),
	}
}

// maxText bounds the work per tip: longer texts are read up to this many bytes.
// An SMS is at most a few hundred bytes; concatenated messages stay far below.
const maxText = 64 << 10

// normalize fills s.key, s.toks and s.st from text.
func (s *scratch) normalize(text string) {
	if len(text) > maxText {
		text = text[:maxText]
	}
	s.st = stats{}
	for _, r := range text {
		switch {
		case r < 0x80:
			if r|0x20 >= 'a' && r|0x20 <= 'z' {
				s.st.lat++
			}
		case r >= 0x400 && r < 0x530:
			if unicode.IsLetter(r) {
				s.st.cyr++
				switch r {
				case 'ә', 'Ә', 'ғ', 'Ғ', 'ҝ', 'Ҝ', 'ө', 'Ө', 'ү', 'Ү', 'ҹ', 'Ҹ', 'һ', 'Һ', 'ј', 'Ј':
					s.st.azCyr++
				}
			}
		case r < 0x2B0: // Latin, Latin Extended and IPA (ə is U+0259)
			if unicode.IsLetter(r) {
				s.st.lat++
				switch r {
				case 'ə', 'Ə', 'ğ', 'Ğ', 'ı', 'İ', 'ş', 'Ş', 'ç', 'Ç', 'ö', 'Ö', 'ü', 'Ü':
					s.st.azLat++
				}
			}
		}
	}

	s.key = s.key[:0]
	s.toks = s.toks[:0]
	s.inTok, s.brk, s.soft, s.lastLat, s.sentEnd, s.prevCons = false, false, false, false, false, false
	for i := 0; i < len(text); {
		r, n := rune(text[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(text[i:])
		}
		i += n
		if r >= 0x1F600 && laughEmoji(r) {
			// A laughing emoji is read as the word "haha", so that the joke
			// lists see "шеф меня убьёт 😂" as a joke.
			s.endTok()
			s.startTok(false)
			s.emit("haha", true)
			s.endTok()
			continue
		}
		if r == '🆘' {
			// A victim who cannot type taps the SOS emoji: the rule rescue
			// reads it as the word.
			s.endTok()
			s.startTok(false)
			s.emit("sos", true)
			s.endTok()
			continue
		}
		info := lookupRune(r)
		if s.azCyr && info.class == cLetter {
			info.key = s.azCyrKey(r, info.key)
		}
		switch info.class {
		case cLetter:
			if s.inTok && s.digits {
				s.endTok()
			}
			if !s.inTok {
				s.startTok(false)
			}
			s.emit(info.key, info.latin)
		case cDigit:
			// Russian typed in Latin writes ш as 6 and ч as 4 inside a word
			// ("ma6inu", "poproshajni4at"): between two Latin letters they
			// are letters.
			if (r == '6' || r == '4') && s.inTok && !s.digits && s.lastLat && i < len(text) && isASCIILetter(text[i]) {
				if r == '6' {
					s.emit("s", true)
				} else {
					s.emit("c", true)
				}
				continue
			}
			if s.inTok && !s.digits {
				s.endTok()
			}
			if !s.inTok {
				s.startTok(true)
			}
			s.key = append(s.key, byte(r))
		case cJoin, cMark:
		case cBreak:
			s.endTok()
			s.soft = r == ',' && (!s.brk || s.soft)
			s.brk = true
			if r == '.' || r == '!' || r == '?' || r == '\n' || r == '\r' {
				s.sentEnd = true
			}
		default:
			s.endTok()
		}
	}
	s.endTok()
}

func (s *scratch) startTok(digits bool) {
	s.inTok, s.digits, s.lastLat = true, digits, false
	s.tokStart = len(s.key)
}

func (s *scratch) endTok() {
	if !s.inTok {
		return
	}
	s.inTok = false
	if len(s.key) == s.tokStart {
		return // a word of letters with no key, like a lone "ь"
	}
	t := tok{s: int32(s.tokStart), e: int32(len(s.key)), num: -1, brk: s.brk}
	if n := len(s.toks); n > 0 {
		t.sent = s.toks[n-1].sent
		if s.sentEnd && t.sent < 63 {
			t.sent++
		}
	}
	s.sentEnd = false
	if s.digits && t.e-t.s <= 3 {
		t.num = 0
		for _, c := range s.key[t.s:t.e] {
			t.num = t.num*10 + int32(c-'0')
		}
	}
	// An age between commas ("my niece, 14, is ...") belongs to the clause
	// around it: commas next to a short number do not break it.
	if t.brk && s.soft && (t.num >= 0 || len(s.toks) > 0 && s.toks[len(s.toks)-1].num >= 0) {
		t.brk = false
	}
	s.brk, s.soft = false, false
	s.toks = append(s.toks, t)
}

// emit appends the key of one letter to the current word, merging Latin
// digraphs and letters typed twice.
func (s *scratch) emit(k string, latin bool) {
	for i := 0; i < len(k); i++ {
		c := k[i]
		n := len(s.key) - s.tokStart
		if n > 0 {
			last := s.key[len(s.key)-1]
			if latin && s.lastLat && c == 'h' {
				switch last {
				case 'c':
					// Russian щ typed as "shch" or "sch" comes to "s", the
					// key of щ (not Azerbaijani "şç", which has no h).
					if n > 1 && s.key[len(s.key)-2] == 's' {
						s.key = s.key[:len(s.key)-1]
					}
					continue
				case 's':
					continue
				case 'z':
					s.key[len(s.key)-1] = 'j'
					s.mergeDJ()
					continue
				case 'k':
					s.key[len(s.key)-1] = 'h'
					continue
				}
			}
			if last == c {
				s.lastLat = latin
				continue
			}
		}
		s.key = append(s.key, c)
		s.lastLat = latin
		if c == 'j' || c == 'c' && s.azCyr {
			s.mergeDJ()
		}
	}
}

// readTip normalises a tip and detects its language. An Azerbaijani tip
// written mostly in Cyrillic letters is normalised a second time with
// azCyrKey, so "дилянмяйя мяжбур" meets "dilənməyə məcbur".
func (s *scratch) readTip(text string) hotline.Lang {
	s.normalize(text)
	lang := detect(s)
	if lang == hotline.LangAz && s.st.cyr > s.st.lat && s.st.azCyr == 0 {
		s.azCyr = true
		s.normalize(text)
		s.azCyr = false
	}
	return lang
}

// azCyrKey is the key of Cyrillic letter r in Azerbaijani typed on a Russian
// keyboard, where я and ю after a consonant stand for ə and ü ("мяжбур",
// "ёлдюр") and ж for c ("едяжям"). Other letters keep their key.
func (s *scratch) azCyrKey(r rune, key string) string {
	prevCons := s.prevCons && s.inTok
	s.prevCons = false
	switch r {
	case 'я', 'Я':
		if prevCons {
			return "e"
		}
	case 'ю', 'Ю':
		if prevCons {
			return "u"
		}
	case 'ж', 'Ж':
		s.prevCons = true
		return "c"
	default:
		s.prevCons = r >= 'а' && r <= 'я' && !strings.ContainsRune("аеёиоуыэюяьъ", r) || r >= 'А' && r <= 'Я' && !strings.ContainsRune("АЕЁИОУЫЭЮЯЬЪ", r)
	}
	return key
}

// mergeDJ turns a "dj" just written into "c": Azerbaijani typed on a Russian
// keyboard spells c (ҹ) as "дж" ("гизлиндже" is "gizlincə"), and Russian
// "дж" typed in Latin is "dzh" or "dj", so all of them meet at "c".
func (s *scratch) mergeDJ() {
	n := len(s.key)
	// In azCyr mode ж is already c, so дж comes as "dc".
	if n-s.tokStart >= 2 && s.key[n-2] == 'd' && (s.key[n-1] == 'j' || s.key[n-1] == 'c') {
		s.key[n-2] = 'c'
		s.key = s.key[:n-1]
	}
}

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// laughEmoji reports whether r is an emoji of laughter or teasing.
func laughEmoji(r rune) bool {
	switch r {
	case '😂', '🤣', '😆', '😅', '😁', '😄', '😜', '😝', '🙃', '😹':
		return true
	}
	return false
}

// word returns the key of token i.
func (s *scratch) word(i int) []byte {
	t := s.toks[i]
	return s.key[t.s:t.e]
}
