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
