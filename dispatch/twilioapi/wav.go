package twilioapi

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
)

// wavHeadBytes is how much of a WAV's start is kept to find its fmt and
// data chunks (Twilio's header is 44 bytes; other chunks may come first).
const wavHeadBytes = 4096

// checkWAV tells whether a WAV file that ended after size bytes is whole,
// from the sizes its own header announces: the RIFF size must account for
// exactly the bytes received and the data chunk must fit in them. A body
// without a Content-Length ends the same way whether it is whole or cut
// short, so only the header can tell. When wantSeconds > 0 (Twilio's
// duration), the audio the data chunk holds must last about as long.
func checkWAV(head []byte, size int64, wantSeconds int) error {
	if len(head) < 12 || !bytes.Equal(head[0:4], []byte("RIFF")) || !bytes.Equal(head[8:12], []byte("WAVE")) {
		return fmt.Errorf("not a WAV file (%d bytes)", size)
	}
	if riff := int64(binary.LittleEndian.Uint32(head[4:8])) + 8; riff != size {
		return fmt.Errorf("WAV header announces %d bytes, %d arrived", riff, size)
	}
	var byteRate uint32
	for off := 12; off+8 <= len(head); {
		id, n := string(head[off:off+4]), int64(binary.LittleEndian.Uint32(head[off+4:off+8]))
		switch {
		case id == "fmt " && n >= 16 && off+8+16 <= len(head):
			byteRate = binary.LittleEndian.Uint32(head[off+16 : off+20])
		case id == "data":
			if end := int64(off) + 8 + n; end > size {
				return fmt.Errorf("WAV data chunk ends at byte %d, %d arrived", end, size)
			}
			if wantSeconds > 0 && byteRate > 0 {
				got := float64(n) / float64(byteRate)
				// Twilio's duration is whole seconds; allow for rounding
				// and a little silence trimmed at either end.
				if math.Abs(got-float64(wantSeconds)) > 2+0.05*float64(wantSeconds) {
					return fmt.Errorf("WAV holds %.1f s of audio, Twilio says %d s", got, wantSeconds)
				}
			}
			return nil
		}
		off += 8 + int(min(n, math.MaxInt32)) + int(n&1)
		if off < 0 {
			break
		}
	}
	return fmt.Errorf("no WAV data chunk in the first %d bytes", len(head))
}
