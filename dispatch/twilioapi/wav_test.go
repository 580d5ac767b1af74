package twilioapi

import (
	"testing"

	"github.com/hotline-az/hotline/twiliotest"
)

// checkWAV accepts a whole WAV and refuses every cut of it.
func TestCheckWAV(t *testing.T) {
	audio := twiliotest.NewWAV(3, 1)
	if err := checkWAV(audio[:min(len(audio), wavHeadBytes)], int64(len(audio)), 3); err != nil {
		t.Fatalf("whole WAV: %v", err)
	}
	for _, n := range []int{0, 11, 12, 43, 44, 45, len(audio) / 2, len(audio) - 1} {
		if err := checkWAV(audio[:min(n, wavHeadBytes)], int64(n), 0); err == nil {
			t.Errorf("WAV cut at %d of %d bytes accepted", n, len(audio))
		}
	}
}

// FuzzCheckWAV: any header, any size, never a panic.
func FuzzCheckWAV(f *testing.F) {
	f.Add(twiliotest.NewWAV(0.01, 1), int64(204), 0)
	f.Fuzz(func(t *testing.T, head []byte, size int64, want int) {
		checkWAV(head, size, want)
	})
}
