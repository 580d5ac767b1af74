package dispatch

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// DevSink stands in for Twilio under `serve --dev`: it prints each
// outbound SMS and call instead of sending it, so a newcomer can watch an
// alert go out with no Twilio account. Never used with real tips.
//
// It prints each message's SID and status callback URL, so `twilio-sim
// status` can report a delivery by hand, and it can be told to fail a
// number or leave calls unanswered: it then reports the failure to the
// status callback itself, signed as Twilio would, and the alert moves on
// as it would with a phone that is off.
type DevSink struct {
	cfg DevSinkConfig

	mu      sync.Mutex
	pending sync.WaitGroup
	done    chan struct{}
	closed  bool
}

// DevSinkConfig says where the dev sink prints and which deliveries fail.
type DevSinkConfig struct {
	Out io.Writer
	// Fail lists numbers (E.164) whose SMS come back undelivered (error
	// 30003, unreachable handset) and whose calls fail.
	Fail []string
	// Unanswered makes every call ring out with no answer.
	Unanswered bool
	// Report posts a status callback to the hotline the way Twilio would
	// (signed). Fail and Unanswered need it.
	Report func(ctx context.Context, callbackURL string, form url.Values) error
	// After is how long a failure takes to be reported, as a phone rings
	// (zero: 3 s).
	After time.Duration
}

// NewDevSink prints to out; every delivery succeeds.
func NewDevSink(out io.Writer) *DevSink { return NewDevSinkWith(DevSinkConfig{Out: out}) }

// NewDevSinkWith returns a dev sink configured by cfg.
func NewDevSinkWith(cfg DevSinkConfig) *DevSink {
	if cfg.After == 0 {
		cfg.After = 3 * time.Second
	}
	return &DevSink{cfg: cfg, done: make(chan struct{})}
}

// Close stops failures not yet reported and waits for any being posted.
func (s *DevSink) Close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.done)
	}
	s.mu.Unlock()
	s.pending.Wait()
}

func devSID(prefix string) string {
	var b [16]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// SendSMS prints the SMS, its SID and status callback.
func (s *DevSink) SendSMS(ctx context.Context, to, body, statusCallback string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sid := devSID("SM")
	if isReporterReply(ctx) {
		// An officer's words to a reporter: not even a dev terminal shows them.
		fmt.Fprintf(s.cfg.Out, "DEV OUTBOX: SMS to reporter %s: officer's reply (%d characters)\n", maskPhone(to), len([]rune(body)))
	} else {
		fmt.Fprintf(s.cfg.Out, "DEV OUTBOX: SMS to %s: %s\n", maskPhone(to), body)
	}
	s.printSID(sid, statusCallback)
	if slices.Contains(s.cfg.Fail, to) {
		s.reportLocked(statusCallback, "undelivered (error 30003, --dev-fail)", url.Values{
			"MessageSid": {sid}, "SmsSid": {sid}, "MessageStatus": {"undelivered"}, "SmsStatus": {"undelivered"},
			"ErrorCode": {"30003"}, "To": {to},
		})
	}
	return sid, nil
}

// Call prints the call, the URL Twilio would fetch for its TwiML, its SID
// and status callback.
func (s *DevSink) Call(_ context.Context, to, twimlURL, statusCallback string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sid := devSID("CA")
	fmt.Fprintf(s.cfg.Out, "DEV OUTBOX: call to %s (TwiML from %s)\n", maskPhone(to), twimlURL)
	s.printSID(sid, statusCallback)
	switch {
	case slices.Contains(s.cfg.Fail, to):
		s.reportLocked(statusCallback, "failed (--dev-fail)", url.Values{"CallSid": {sid}, "CallStatus": {"failed"}, "To": {to}})
	case s.cfg.Unanswered:
		s.reportLocked(statusCallback, "no-answer (--dev-unanswered)", url.Values{"CallSid": {sid}, "CallStatus": {"no-answer"}, "To": {to}})
	}
	return sid, nil
}

func (s *DevSink) printSID(sid, statusCallback string) {
	if statusCallback != "" {
		fmt.Fprintf(s.cfg.Out, "            sid %s, status callback %s\n", sid, statusCallback)
	}
}

// reportLocked posts form to callbackURL after cfg.After, unless the sink
// is closed first. s.mu is held.
func (s *DevSink) reportLocked(callbackURL, what string, form url.Values) {
	if s.cfg.Report == nil || callbackURL == "" || s.closed {
		return
	}
	fmt.Fprintf(s.cfg.Out, "            will report %s in %s\n", what, s.cfg.After)
	s.pending.Add(1)
	go func() {
		defer s.pending.Done()
		t := time.NewTimer(s.cfg.After)
		defer t.Stop()
		select {
		case <-s.done:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := s.cfg.Report(ctx, callbackURL, form)
		s.mu.Lock()
		defer s.mu.Unlock()
		if err != nil {
			fmt.Fprintf(s.cfg.Out, "DEV OUTBOX: reporting %s failed: %v\n", what, err)
			return
		}
		fmt.Fprintf(s.cfg.Out, "DEV OUTBOX: reported %s for %s\n", what, form.Get("MessageSid")+form.Get("CallSid"))
	}()
}

// maskPhone keeps the last two digits so a developer can tell officers
// apart without the output holding a whole number.
func maskPhone(p string) string {
	if len(p) <= 4 {
		return "****"
	}
	return p[:4] + strings.Repeat("*", len(p)-6) + p[len(p)-2:]
}
