package dispatch_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/config"
	"github.com/hotline-az/hotline/store"
)

var codeInSMS = regexp.MustCompile(`Reply (\d+)a (\d{4}) to acknowledge\.$`)

// TestSMSAckCodeRefusesAForgedSender: with escalation.sms_ack_code on,
// a text that only has the officer's number as its sender (what anyone
// can forge) changes nothing; the alert SMS's own code does. Guessing is
// cut off after five wrong codes in an hour.
func TestSMSAckCodeRefusesAForgedSender(t *testing.T) {
	h := newHarness(t, func(e *config.Escalation) { e.SMSAckCode = true })
	h.sms(reporter, p1Tip)
	h.runDue()
	msg := h.twilio.Messages()[0]
	m := codeInSMS.FindStringSubmatch(msg.Body)
	a := h.onlyAlert()
	if m == nil || m[1] != "1" || m[2] != h.st.AckCode(a.ID, h.officers[leylaPhone].ID) {
		t.Fatalf("alert SMS %q does not carry Leyla's code", msg.Body)
	}
	code := m[2]
	wrong := fmt.Sprintf("%04d", (atoi(code)+1)%10000)
	if reply := h.sms(leylaPhone, "1a"); !strings.Contains(reply, "Hotline: alert 1 needs the code from its SMS. Hotline: reply with the alert number, a to acknowledge or c to close, and the code from its SMS: 12a 4821.") {
		t.Fatalf("1a without a code: %q", reply)
	}
	for _, text := range []string{"a", "aa", "1a", "1 a", "ack 1", "1a " + wrong, "1c", "c", "1c " + wrong, "yes"} {
		if reply := h.sms(leylaPhone, text); strings.Contains(reply, "acknowledged") || strings.Contains(reply, "closed") || strings.Contains(reply, "YES within") {
			t.Errorf("%q without the code: %q", text, reply)
		}
	}
	if a := h.onlyAlert(); a.State != hotline.AlertOpen {
		t.Fatalf("alert %s after texts without the code", a.State)
	}
	// Two wrong codes so far; three more and even the right one is refused.
	for range 3 {
		h.sms(leylaPhone, "1a "+wrong)
	}
	if reply := h.sms(leylaPhone, "1a "+code); strings.Contains(reply, "acknowledged") {
		t.Fatalf("the right code after five wrong ones: %q", reply)
	}
	h.clock.Add(time.Hour)
	h.runDue() // the backup is paged meanwhile, with a code of their own
	for _, m := range h.twilio.Messages() {
		if m.To == rashadPhone && !strings.Contains(m.Body, "Reply 1a "+h.st.AckCode(a.ID, h.officers[rashadPhone].ID)+" ") {
			t.Fatalf("backup's SMS %q lacks the backup's code", m.Body)
		}
	}
	if reply := h.sms(leylaPhone, "1A "+code); !strings.Contains(reply, "alert 1 (P1 case "+a.CaseCode+") acknowledged") {
		t.Fatalf("the right code: %q", reply)
	}
	if a := h.onlyAlert(); a.State != hotline.AlertAcknowledged || a.AckedBy != h.officers[leylaPhone].ID || a.AckedVia != "sms" {
		t.Fatalf("after the code: %+v", a)
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// FuzzOfficerCommandWithCodes: with sms_ack_code on, no text from the
// officer's number changes the alert unless it carries the alert's code
// for that officer.
func FuzzOfficerCommandWithCodes(f *testing.F) {
	for _, s := range []string{"1a", "1a 0000", "a", "aa", "1c 1234", "yes", "ack 1 9999", "1 a 12345", "#1a 0001", "ｙｅｓ"} {
		f.Add(s)
	}
	h := newHarness(f, func(e *config.Escalation) { e.SMSAckCode = true })
	h.sms(reporter, p1Tip)
	a := h.onlyAlert()
	code := h.st.AckCode(a.ID, h.officers[leylaPhone].ID)
	f.Fuzz(func(t *testing.T, body string) {
		if _, handled, err := h.disp.Handle(context.Background(), leylaPhone, body); err != nil || !handled {
			t.Fatalf("officer text %q: handled=%v err=%v", body, handled, err)
		}
		var now hotline.Alert
		if err := h.st.View(func(tx *store.Tx) error { var err error; now, err = tx.Alert(a.ID); return err }); err != nil {
			t.Fatal(err)
		}
		if now.State != hotline.AlertOpen && !strings.Contains(body, code) {
			t.Fatalf("%q without the code %s left the alert %s", body, code, now.State)
		}
	})
}
