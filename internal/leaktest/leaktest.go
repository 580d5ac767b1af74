// Package leaktest helps tests prove that identifying data (phone numbers,
// tip text, names, Twilio SIDs) never reaches a log or the data file.
package leaktest

import (
	"bytes"
	"encoding/binary"
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

// CheckNoRun fails the test if haystack holds any run of n bytes of
// secret (a recording, say), naming where. It looks for the secret's
// blocks of n/2 bytes at offsets that are multiples of n/2: every run of n
// bytes contains one, so finding none proves there is no run of n. Blocks
// are found by their first 8 bytes, then compared whole.
func CheckNoRun(t testing.TB, where string, haystack, secret []byte, n int) {
	t.Helper()
	half := n / 2
	if half < 8 || len(secret) < n {
		t.Fatalf("CheckNoRun: runs of %d bytes in a secret of %d: want n >= 16 and a secret at least that long", n, len(secret))
	}
	blocks := map[uint64][]int{}
	for off := 0; off+half <= len(secret); off += half {
		k := binary.LittleEndian.Uint64(secret[off:])
		blocks[k] = append(blocks[k], off)
	}
	for i := 0; i+half <= len(haystack); i++ {
		offs, ok := blocks[binary.LittleEndian.Uint64(haystack[i:])]
		if !ok {
			continue
		}
		for _, off := range offs {
			if bytes.Equal(haystack[i:i+half], secret[off:off+half]) {
				t.Errorf("%s holds %d bytes of the secret (its offset %d) at offset %d", where, half, off, i)
				return
			}
		}
	}
}
