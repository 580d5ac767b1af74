package dispatch

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"sync"
)

// DevSink stands in for Twilio under `serve --dev`: it prints each
// outbound SMS and call instead of sending it, so a newcomer can watch an
// alert go out with no Twilio account. Never used with real tips.
type DevSink struct {
	mu  sync.Mutex
	out io.Writer
}

// NewDevSink prints to out.
func NewDevSink(out io.Writer) *DevSink { return &DevSink{out: out} }

func devSID(prefix string) string {
	var b [16]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// SendSMS prints the SMS.
func (s *DevSink) SendSMS(ctx context.Context, to, body, _ string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if isReporterReply(ctx) {
		// An officer's words to a reporter: not even a dev terminal shows them.
		fmt.Fprintf(s.out, "DEV OUTBOX: SMS to reporter %s: officer's reply (%d characters)\n", maskPhone(to), len([]rune(body)))
		return devSID("SM"), nil
	}
	fmt.Fprintf(s.out, "DEV OUTBOX: SMS to %s: %s\n", maskPhone(to), body)
	return devSID("SM"), nil
}

// Call prints the call and the URL Twilio would fetch for its TwiML.
func (s *DevSink) Call(_ context.Context, to, twimlURL, _ string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.out, "DEV OUTBOX: call to %s (TwiML from %s)\n", maskPhone(to), twimlURL)
	return devSID("CA"), nil
}

// maskPhone keeps the last two digits so a developer can tell officers
// apart without the output holding a whole number.
func maskPhone(p string) string {
	if len(p) <= 4 {
		return "****"
	}
	return p[:4] + strings.Repeat("*", len(p)-6) + p[len(p)-2:]
}
