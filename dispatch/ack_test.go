package dispatch_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/store"
	"github.com/hotline-az/hotline/twiliotest"
)

const p2Tip = "Müdir pasportumu saxlayıb və maaşımı vermir"

// TestOfficerCommandsAreScopedToThePerson: alert 1 (P1) and alert 2 (P2)
// were paged to the on-duty officer only. Every SMS command is tried by
// her, by an officer who was not paged, and by a supervisor who was not
// paged either.
func TestOfficerCommandsAreScopedToThePerson(t *testing.T) {
	type text struct{ from, body, want string }
	cases := []struct {
		name  string
		texts []text
		want  map[int]hotline.AlertState // alert number → state
	}{
		{"not paged: 1a", []text{{rashadPhone, "1a", "alert 1 was not sent to you"}}, map[int]hotline.AlertState{1: "open", 2: "open"}},
		{"not paged: ack 2", []text{{rashadPhone, "ack 2", "alert 2 was not sent to you"}}, map[int]hotline.AlertState{1: "open", 2: "open"}},
		{"not paged: 1c", []text{{rashadPhone, "1c", "alert 1 was not sent to you"}, {rashadPhone, "yes", "nothing to confirm"}}, map[int]hotline.AlertState{1: "open", 2: "open"}},
		{"not paged: 2c", []text{{rashadPhone, "2c", "alert 2 was not sent to you"}}, map[int]hotline.AlertState{1: "open", 2: "open"}},
		{"not paged: a", []text{{rashadPhone, "a", "you have no open alert"}}, map[int]hotline.AlertState{1: "open", 2: "open"}},
		{"not paged: aa", []text{{rashadPhone, "aa", "you have no open alert"}}, map[int]hotline.AlertState{1: "open", 2: "open"}},
		{"not paged: c", []text{{rashadPhone, "c", "you have no open alert"}}, map[int]hotline.AlertState{1: "open", 2: "open"}},
		{"supervisor: 1a", []text{{ayselPhone, "1a", "alert 1 (P1 case"}}, map[int]hotline.AlertState{1: "acknowledged", 2: "open"}},
		{"supervisor: 2c", []text{{ayselPhone, "2c", "alert 2 (case"}}, map[int]hotline.AlertState{1: "open", 2: "closed"}},
		{"paged: 1a", []text{{leylaPhone, "1a", "alert 1 (P1 case"}}, map[int]hotline.AlertState{1: "acknowledged", 2: "open"}},
		// a takes the newest unacknowledged alert, so a P1 can be
		// acknowledged with a while a newer P2 is already acknowledged.
		{"paged: a, a", []text{{leylaPhone, "a", "alert 2 (P2 case"}, {leylaPhone, "a", "alert 1 (P1 case"}, {leylaPhone, "a", "you have no open alert"}},
			map[int]hotline.AlertState{1: "acknowledged", 2: "acknowledged"}},
		{"paged: aa", []text{{leylaPhone, "aa", "alerts 2, 1 acknowledged"}}, map[int]hotline.AlertState{1: "acknowledged", 2: "acknowledged"}},
		{"paged: 2c", []text{{leylaPhone, "2c", "alert 2 (case"}}, map[int]hotline.AlertState{1: "open", 2: "closed"}},
		{"paged: 1c needs YES", []text{{leylaPhone, "1c", "reply: YES within 5 minutes"}}, map[int]hotline.AlertState{1: "open", 2: "open"}},
		{"paged: 1c, yes", []text{{leylaPhone, "1c", "needs a second reply"}, {leylaPhone, "YES", "alert 1 (case"}}, map[int]hotline.AlertState{1: "closed", 2: "open"}},
		{"paged: yes alone", []text{{leylaPhone, "yes", "nothing to confirm"}}, map[int]hotline.AlertState{1: "open", 2: "open"}},
		{"paged: yes from another officer", []text{{leylaPhone, "1c", "needs a second reply"}, {ayselPhone, "yes", "nothing to confirm"}}, map[int]hotline.AlertState{1: "open", 2: "open"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.sms(reporter, p1Tip)
			h.sms("+994557654322", p2Tip)
			h.runDue()
			for _, tx := range tc.texts {
				if reply := h.sms(tx.from, tx.body); !strings.Contains(reply, tx.want) {
					t.Fatalf("%q: got %q, want it to contain %q", tx.body, reply, tx.want)
				}
			}
			for _, a := range h.alerts() {
				if a.State != tc.want[a.Number] {
					t.Errorf("alert %d is %s, want %s", a.Number, a.State, tc.want[a.Number])
				}
			}
		})
	}
}

// TestEveryonePagedIsToldWhoTookTheAlert: the backup acknowledges; the
// on-duty officer (paged first) is told by SMS, the backup is not; then a
// close is announced to the backup. Reopening pages the on-duty again.
func TestEveryonePagedIsToldWhoTookTheAlert(t *testing.T) {
	h := newHarness(t, nil)
	h.sms(reporter, p1Tip)
	h.runDue()
	h.clock.Add(5 * time.Minute)
	h.runDue()
	h.wantSent("backup paged", map[string]int{leylaPhone: 1, rashadPhone: 1}, map[string]int{leylaPhone: 1, rashadPhone: 1})
	h.sms(rashadPhone, "1a")
	h.runDue()
	h.wantSent("after the ack", map[string]int{leylaPhone: 2, rashadPhone: 1}, map[string]int{leylaPhone: 1, rashadPhone: 1})
	last := h.twilio.Messages()[len(h.twilio.Messages())-1]
	if last.To != leylaPhone || !strings.Contains(last.Body, "acknowledged by Rashad Mammadov") {
		t.Fatalf("notice: to on duty? %v, body %q", last.To == leylaPhone, last.Body)
	}
	h.sms(leylaPhone, "1c")
	h.sms(leylaPhone, "yes")
	h.runDue()
	h.wantSent("after the close", map[string]int{leylaPhone: 2, rashadPhone: 2}, map[string]int{leylaPhone: 1, rashadPhone: 1})
	last = h.twilio.Messages()[len(h.twilio.Messages())-1]
	if last.To != rashadPhone || !strings.Contains(last.Body, "closed by Leyla Aliyeva") {
		t.Fatalf("close notice: to backup? %v, body %q", last.To == rashadPhone, last.Body)
	}

	a := h.onlyAlert()
	if _, err := h.disp.Reopen(context.Background(), a.ID, "cli"); err != nil {
		t.Fatal(err)
	}
	h.runDue()
	h.wantSent("after reopening", map[string]int{leylaPhone: 3, rashadPhone: 2}, map[string]int{leylaPhone: 2, rashadPhone: 1})
	if a = h.onlyAlert(); a.State != hotline.AlertOpen || a.AckedBy != "" || a.NextAt.IsZero() {
		t.Fatalf("reopened alert: %+v", a)
	}
	if _, err := h.disp.Reopen(context.Background(), a.ID, "cli"); err == nil {
		t.Fatal("reopening an open alert was accepted")
	}
	// Every change is in the audit log with who and how, in order; the
	// refused reopen and the second "yes" are not.
	entries, err := h.st.Audit(store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, fmt.Sprintf("%s %s %s %s %s", e.Action, e.Actor, e.Object, e.Via, e.Detail))
	}
	want := []string{
		"alert.acknowledged " + h.officers[rashadPhone].ID + " " + a.CaseCode + " sms alert=1",
		"alert.closed " + h.officers[leylaPhone].ID + " " + a.CaseCode + " sms alert=1",
		"alert.reopened cli " + a.CaseCode + " cli alert=1 round=0 step=1",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit log:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A webhook Twilio (or a proxy) delivers twice must act once: the same
// MessageSid "a" three times used to acknowledge three different alerts.
func TestRedeliveredOfficerCommandActsOnce(t *testing.T) {
	h := newHarness(t, nil)
	h.sms(reporter, p1Tip)
	h.sms("+994557654322", p2Tip)
	h.runDue()
	form := url.Values{"MessageSid": {twiliotest.NewSID("SM")}, "From": {leylaPhone}, "To": {hotlineFrom}, "Body": {"a"}}
	replies := make([]string, 3)
	for i := range replies {
		status, reply := h.post("/twilio/sms", form)
		if status != 200 {
			t.Fatalf("delivery %d: got %d %q", i+1, status, reply)
		}
		replies[i] = reply
	}
	if !strings.Contains(replies[0], "alert 2 (P2 case") {
		t.Fatalf("first delivery: got %q, want alert 2 acknowledged", replies[0])
	}
	for i, r := range replies[1:] {
		if !strings.Contains(r, "already handled") {
			t.Errorf("delivery %d: got %q, want the repeat answered without acting", i+2, r)
		}
	}
	want := map[int]hotline.AlertState{1: hotline.AlertOpen, 2: hotline.AlertAcknowledged}
	for _, a := range h.alerts() {
		if a.State != want[a.Number] {
			t.Errorf("alert %d is %s, want %s", a.Number, a.State, want[a.Number])
		}
	}
}
