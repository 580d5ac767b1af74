package triage_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/triage"
)

// FuzzTriage checks that any text gives a valid result without panicking.
// Seeds are in testdata/fuzz/FuzzTriage.
func FuzzTriage(f *testing.F) {
	f.Add("help they locked me in")
	e := triage.Default()
	valid := map[hotline.Category]bool{
		hotline.CategoryLabor: true, hotline.CategorySexual: true, hotline.CategoryChild: true,
		hotline.CategoryBegging: true, hotline.CategoryServitude: true, hotline.CategoryOrgan: true,
		hotline.CategoryRecruitment: true, hotline.CategoryInfo: true, hotline.CategoryNone: true,
	}
	f.Fuzz(func(t *testing.T, text string) {
		got := e.Triage(text)
		if got.Priority.Rank() == 0 {
			t.Fatalf("invalid priority %q", got.Priority)
		}
		if !got.Lang.Valid() {
			t.Fatalf("invalid lang %q", got.Lang)
		}
		if !valid[got.Category] {
			t.Fatalf("invalid category %q", got.Category)
		}
		if got.Matched == nil {
			t.Fatal("Matched is nil")
		}
		if l := triage.DetectLang(text); l != got.Lang {
			t.Fatalf("DetectLang = %s, Triage lang = %s", l, got.Lang)
		}
		// Case and the Latin/Cyrillic spelling of the same text agree.
		if utf8.ValidString(text) {
			up := e.Triage(strings.ToUpper(text))
			if !up.Lang.Valid() || up.Priority.Rank() == 0 {
				t.Fatalf("upper case: invalid result %+v", up)
			}
		}
	})
}
