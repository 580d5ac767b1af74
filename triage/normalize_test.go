package triage

import (
	"strings"
	"testing"
)

func TestNormalizeKeys(t *testing.T) {
	tests := []struct{ text, keys string }{
		{"Kömək edin", "komek edin"},
		{"кёмек един", "komek edin"},
		{"Баджым", "bacim"},                                 // дж typed for Azerbaijani c
		{"podzhog поджог", "pocog pocog"},                   // Russian дж, typed or not
		{"ma6inu машину", "masinu masinu"},                  // 6 for ш inside a word
		{"poproshajni4at", "poprosajnicat"},                 // 4 for ч inside a word
		{"a6 4ego 12yaşlı b2b", "a 6 4 ego 12 iasli b 2 b"}, // other digits stay numbers
		{"шеф 😂", "sef haha"},                               // laughter is a word
		{"heeelp!!", "help"},
	}
	s := newScratch()
	for _, tt := range tests {
		s.normalize(tt.text)
		var got []string
		for i := range s.toks {
			got = append(got, string(s.word(i)))
		}
		if strings.Join(got, " ") != tt.keys {
			t.Errorf("normalize(%q) = %q, want %q", tt.text, strings.Join(got, " "), tt.keys)
		}
	}
}

func TestReadTipAzerbaijaniOnRussianKeyboard(t *testing.T) {
	tests := []struct{ text, keys string }{
		// я and ю after a consonant are ə and ü, ж is c, in Azerbaijani
		{"Ушаглары метрода дилянмяйя мяжбур едирляр", "usaglari metroda dilenmeie mecbur edirler"},
		{"Уста деди гачсан сени ёлдюреджейем", "usta dedi gacsan seni oldureceiem"},
		{"яхшы, гялирям", "iahsi gelirem"}, // at the start of a word я stays "ya"
		// Russian is read as before
		{"Мяч у меня, жду", "miac u menia jdu"},
	}
	s := newScratch()
	for _, tt := range tests {
		s.readTip(tt.text)
		var got []string
		for i := range s.toks {
			got = append(got, string(s.word(i)))
		}
		if strings.Join(got, " ") != tt.keys {
			t.Errorf("readTip(%q) = %q, want %q", tt.text, strings.Join(got, " "), tt.keys)
		}
	}
}
