package config

import (
	"fmt"
	"time"
)

// VoiceLanguage is one entry of the language menu: the digit that picks
// the language.
type VoiceLanguage struct {
	Lang  string `toml:"lang"`
	Digit string `toml:"digit"`
}

// Voice configures the voice line: the language menu, how long the menu
// waits, how long officers ring and messages may last, and how often a
// reference may be keyed.
type Voice struct {
	// Languages are offered in this order, each with its digit.
	Languages []VoiceLanguage `toml:"languages"`
	// DefaultLang is taken when the caller chooses none (after one repeat).
	DefaultLang string `toml:"default_lang"`
	// OfficerLang is the language of the whisper an officer hears before
	// a caller is put through ("Hotline call, press 1 to accept").
	OfficerLang string `toml:"officer_lang"`
	// MenuTimeout is how long a menu waits for a key.
	MenuTimeout Duration `toml:"menu_timeout"`
	// RingTimeout is how long each officer's phone rings.
	RingTimeout Duration `toml:"ring_timeout"`
	// MaxMessage bounds a voice message.
	MaxMessage Duration `toml:"max_message"`
	// ReferenceTriesPerCaller bounds the references one calling number
	// may key per day; ReferenceTriesPerHour bounds them for all callers
	// who show their number together (withheld numbers, counted per
	// call, share a quarter of it of their own), so codes cannot be
	// guessed by machine.
	ReferenceTriesPerCaller int `toml:"reference_tries_per_caller"`
	ReferenceTriesPerHour   int `toml:"reference_tries_per_hour"`
}

// DefaultVoice is the voice line where nothing else is said: 1
// Azerbaijani, 2 Russian, 3 English.
func DefaultVoice() Voice {
	return Voice{
		Languages:               []VoiceLanguage{{"az", "1"}, {"ru", "2"}, {"en", "3"}},
		DefaultLang:             "az",
		OfficerLang:             "az",
		MenuTimeout:             Duration{6 * time.Second},
		RingTimeout:             Duration{20 * time.Second},
		MaxMessage:              Duration{5 * time.Minute},
		ReferenceTriesPerCaller: 6,
		ReferenceTriesPerHour:   20,
	}
}

// MaxVoiceMessage is the longest voice.max_message allowed: its WAV must
// stay under the 64 MiB the recording fetch accepts.
const MaxVoiceMessage = 60 * time.Minute

func knownLang(l string) bool { return l == "az" || l == "ru" || l == "en" }

// validate reports each problem of the voice section through bad.
func (v Voice) validate(bad func(field, format string, args ...any)) {
	if len(v.Languages) == 0 {
		bad("voice.languages", "must list at least one language")
	}
	langs, digits := map[string]bool{}, map[string]bool{}
	for i, l := range v.Languages {
		f := fmt.Sprintf("voice.languages[%d]", i)
		if !knownLang(l.Lang) {
			bad(f+".lang", "must be az, ru or en, got %q", l.Lang)
		}
		if len(l.Digit) != 1 || l.Digit[0] < '0' || l.Digit[0] > '9' {
			bad(f+".digit", "must be one digit 0-9, got %q", l.Digit)
		}
		if langs[l.Lang] {
			bad(f+".lang", "%q is listed twice", l.Lang)
		}
		if digits[l.Digit] {
			bad(f+".digit", "%q picks two languages", l.Digit)
		}
		langs[l.Lang], digits[l.Digit] = true, true
	}
	if !langs[v.DefaultLang] {
		bad("voice.default_lang", "must be one of voice.languages, got %q", v.DefaultLang)
	}
	if !knownLang(v.OfficerLang) {
		bad("voice.officer_lang", "must be az, ru or en, got %q", v.OfficerLang)
	}
	between := func(field string, d Duration, lo, hi time.Duration) {
		if d.Duration < lo || d.Duration > hi {
			bad(field, "must be between %s and %s, got %s", lo, hi, d.Duration)
		}
	}
	between("voice.menu_timeout", v.MenuTimeout, time.Second, time.Minute)
	between("voice.ring_timeout", v.RingTimeout, 5*time.Second, 10*time.Minute)
	// Twilio's <Record> takes up to 4 hours, but the fetch refuses a
	// recording over 64 MiB (twilioapi.MaxRecordingBytes), about 70
	// minutes of 8 kHz 16-bit WAV: a longer message would be lost.
	between("voice.max_message", v.MaxMessage, 10*time.Second, MaxVoiceMessage)
	if v.ReferenceTriesPerCaller < 1 {
		bad("voice.reference_tries_per_caller", "must be at least 1, got %d", v.ReferenceTriesPerCaller)
	}
	if v.ReferenceTriesPerHour < 1 {
		bad("voice.reference_tries_per_hour", "must be at least 1, got %d", v.ReferenceTriesPerHour)
	}
}
