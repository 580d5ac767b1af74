package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hotline-az/hotline/config"
	"github.com/hotline-az/hotline/dispatch/twilioapi"
)

func TestVoiceFromFile(t *testing.T) {
	file := writeFile(t, "hotline.toml", `
[voice]
languages = [{lang = "en", digit = "1"}, {lang = "az", digit = "2"}]
default_lang = "en"
max_message = "2m"
`)
	cfg, err := config.Load(config.Flags{ConfigFile: file, Dev: true}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	v := cfg.Voice
	if len(v.Languages) != 2 || v.Languages[0] != (config.VoiceLanguage{Lang: "en", Digit: "1"}) || v.DefaultLang != "en" ||
		v.MaxMessage.Duration != 2*time.Minute || v.RingTimeout.Duration != 20*time.Second || v.OfficerLang != "az" {
		t.Fatalf("got %+v", v)
	}
}

func TestVoiceErrorsNameTheField(t *testing.T) {
	cfg := config.Default()
	cfg.Dev = true
	cfg.Voice.Languages = []config.VoiceLanguage{{Lang: "fr", Digit: "1"}, {Lang: "ru", Digit: "1"}, {Lang: "ru", Digit: "12"}}
	cfg.Voice.DefaultLang = "en"
	cfg.Voice.OfficerLang = "xx"
	cfg.Voice.MaxMessage.Duration = 5 * time.Hour
	cfg.Voice.MenuTimeout.Duration = 0
	cfg.Voice.ReferenceTriesPerHour = 0
	err := cfg.Validate()
	for _, want := range []string{
		"voice.languages[0].lang", "voice.languages[1].digit", "voice.languages[2].lang", "voice.languages[2].digit",
		"voice.default_lang", "voice.officer_lang", "voice.max_message", "voice.menu_timeout", "voice.reference_tries_per_hour",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
}

// A message longer than an hour would make a WAV the recording fetch
// refuses (twilioapi.MaxRecordingBytes), so max_message stops at 60m.
func TestVoiceMaxMessageFitsTheRecordingFetch(t *testing.T) {
	// 8 kHz, 16-bit mono WAV plus its 44-byte header.
	if wav := int(config.MaxVoiceMessage.Seconds())*8000*2 + 44; wav > twilioapi.MaxRecordingBytes {
		t.Fatalf("a %s message is %d bytes, over the fetch limit %d", config.MaxVoiceMessage, wav, twilioapi.MaxRecordingBytes)
	}
	for _, tc := range []struct {
		d  time.Duration
		ok bool
	}{{60 * time.Minute, true}, {61 * time.Minute, false}, {4 * time.Hour, false}} {
		cfg := config.Default()
		cfg.Dev = true
		cfg.Voice.MaxMessage.Duration = tc.d
		err := cfg.Validate()
		if tc.ok && err != nil {
			t.Errorf("max_message %s: %v", tc.d, err)
		}
		if !tc.ok && (err == nil || !strings.Contains(err.Error(), "voice.max_message")) {
			t.Errorf("max_message %s: error %v does not name voice.max_message", tc.d, err)
		}
	}
}
