// Package leaktest helps tests prove that identifying data (phone numbers,
// tip text, names, Twilio SIDs) never reaches a log or the data file.
package leaktest

import (
	"bytes"
	"strings"
	"sync"
	"testing"
)

// Buffer captures log output written from many goroutines.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// PhoneForms returns the ways an Azerbaijani E.164 number (+994XXXXXXXXX)
// is commonly written: as given, without the plus, nationally with a
// leading 0, and as the bare subscriber number.
func PhoneForms(e164 string) []string {
	forms := []string{e164, strings.TrimPrefix(e164, "+")}
	if rest, ok := strings.CutPrefix(e164, "+994"); ok {
		forms = append(forms, "0"+rest, rest)
	}
	return forms
}

// Runs returns every run of n consecutive characters of text, so a test
// can check that no fragment of a tip survives anywhere.
func Runs(text string, n int) []string {
	r := []rune(text)
	var out []string
	for i := 0; i+n <= len(r); i++ {
		out = append(out, string(r[i:i+n]))
	}
	return out
}

// Check fails the test for each needle found in haystack, naming where.
func Check(t testing.TB, where, haystack string, needles ...string) {
	t.Helper()
	for _, n := range needles {
		if n != "" && strings.Contains(haystack, n) {
			t.Errorf("%s contains %q", where, n)
		}
	}
}
