package store

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/rs/zerolog"

	"github.com/hotline-az/hotline/crypto"
)

// TestCallsStartingTogetherGetDistinctKeypadForms: calls that start at
// the same moment never get two codes with one keypad form, even when
// every code drawn has the same form (A and C are both key 2); the one
// that finds no free form is refused rather than made ambiguous.
func TestCallsStartingTogetherGetDistinctKeypadForms(t *testing.T) {
	var drawn atomic.Int64
	newVoiceCode = func() string {
		// 64 codes of A and C: all key as 222222.
		n := drawn.Add(1)
		b := make([]byte, CodeLength)
		for i := range b {
			b[i] = "AC"[(n>>i)&1]
		}
		return string(b)
	}
	t.Cleanup(func() { newVoiceCode = newCode })
	key, err := crypto.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(t.TempDir(), MasterKeySource{Key: &key}, Options{Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const calls = 8
	start := make(chan struct{})
	var wg sync.WaitGroup
	codes := make([]string, calls)
	for i := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			c, err := s.StartCall(context.Background(), CallStart{CallSID: fmt.Sprintf("CA%032d", i), Step: "menu", Path: "x"})
			if err == nil {
				codes[i] = c.CaseCode
			}
		}()
	}
	close(start)
	wg.Wait()
	forms := map[string][]string{}
	for _, c := range codes {
		if c != "" {
			forms[KeypadDigits(c)] = append(forms[KeypadDigits(c)], c)
		}
	}
	if len(forms) != 1 {
		t.Fatalf("keypad forms %v, want exactly one call to get 222222", forms)
	}
	for form, cs := range forms {
		if len(cs) != 1 {
			t.Fatalf("codes %v share the keypad form %s: a caller keying it joins neither", cs, form)
		}
	}
}
