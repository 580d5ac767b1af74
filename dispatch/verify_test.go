package dispatch_test

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/console"
	"github.com/hotline-az/hotline/store"
)

const leylaNewPhone = "+994501119999"

// TestOfficerNewNumberVerified: a changed number gets a code by SMS
// (twilio-go against the fake), alerts keep going to the old number until
// the officer texts the code back from the new one, and the rota follows
// the officer.
func TestOfficerNewNumberVerified(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	admin := console.NewAdmin(h.st, h.disp, nil)
	v, err := admin.UpdateOfficer(ctx, console.OfficerUpdate{Name: "leyla aliyeva", Phone: leylaNewPhone})
	if err != nil {
		t.Fatal(err)
	}
	if v.PendingPhone != console.MaskPhone(leylaNewPhone) || v.Phone != console.MaskPhone(leylaPhone) || v.VerifyExpires == nil {
		t.Fatalf("update: got %+v", v)
	}
	h.runDue()
	var code string
	for _, m := range h.twilio.Messages() {
		if m.To == leylaNewPhone {
			code = regexp.MustCompile(`reply (\d{6})\.`).FindStringSubmatch(m.Body)[1]
		}
	}
	if code == "" {
		t.Fatalf("no code sent to the new number: %+v", h.twilio.Messages())
	}

	// Before verification a P1 pages the old number only.
	h.p1Tips(1)
	h.runDue()
	if sms, _ := h.sent(); sms[leylaPhone] != 1 || sms[leylaNewPhone] != 1 {
		t.Fatalf("before verification: SMS %v, want the alert on the old number and only the code on the new", sms)
	}
	// A wrong code, or a command, from the new number is not an
	// officer's: the number may have been mistyped, and whoever has it
	// is a reporter whose texts must be kept, never taken as commands.
	before, err := h.st.Stats()
	if err != nil {
		t.Fatal(err)
	}
	wrong := string('0'+(code[0]-'0'+1)%10) + code[1:]
	for _, body := range []string{wrong, "1a"} {
		h.sms(leylaNewPhone, body)
	}
	after, err := h.st.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if after.Messages-before.Messages != 2 {
		t.Errorf("texts from the unverified number were not kept as tips: %d messages before, %d after", before.Messages, after.Messages)
	}
	for _, a := range h.alerts() {
		if a.Number == 1 && a.State != hotline.AlertOpen {
			t.Fatalf("a text from the unverified number acted on alert 1: %s", a.State)
		}
	}
	if reply := h.sms(leylaNewPhone, " "+code+" "); !strings.Contains(reply, "number verified") {
		t.Fatalf("right code: reply %q", reply)
	}
	var o hotline.Officer
	err = h.st.View(func(tx *store.Tx) error {
		var err error
		o, err = tx.Officer(h.officers[leylaPhone].ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if o.Phone != leylaNewPhone || o.PendingPhone != "" || o.VerifyCode != "" {
		t.Fatalf("after verification: %+v", o)
	}
	if _, ok, err := h.st.IsOfficerPhone(leylaPhone); err != nil || ok {
		t.Errorf("the old number still counts as an officer's")
	}
	// The rota held her id: she is still on duty, now on the new number,
	// and can acknowledge from it.
	if reply := h.sms(leylaNewPhone, "1a"); !strings.Contains(strings.ToLower(reply), "acknowledged") {
		t.Errorf("ack from the verified number: %q", reply)
	}

	entries, err := h.st.Audit(store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Action+" "+e.Via+" "+e.Detail)
	}
	if !slices.Contains(got, "officer.update cli phone pending") || !slices.Contains(got, "officer.phone_verified sms ") {
		t.Errorf("audit log: %q", got)
	}
}

// TestOfficerUpdateNoVerify: an admin in a hurry switches the number at
// once; the audit log says the number was not verified.
func TestOfficerUpdateNoVerify(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	admin := console.NewAdmin(h.st, h.disp, nil)
	if _, err := admin.UpdateOfficer(ctx, console.OfficerUpdate{Name: "Leyla Aliyeva", Phone: leylaNewPhone, NoVerify: true, Role: "supervisor", NewName: "Leyla Mammadova"}); err != nil {
		t.Fatal(err)
	}
	h.runDue()
	if len(h.twilio.Messages()) != 0 {
		t.Errorf("--no-verify sent %d messages", len(h.twilio.Messages()))
	}
	h.p1Tips(1)
	h.runDue()
	if sms, _ := h.sent(); sms[leylaNewPhone] != 1 || sms[leylaPhone] != 0 {
		t.Fatalf("after --no-verify: SMS %v, want the alert on the new number", sms)
	}
	entries, _ := h.st.Audit(store.AuditFilter{})
	if len(entries) != 1 || entries[0].Action != "officer.update" || entries[0].Detail != "name,role=supervisor,phone unverified" {
		t.Errorf("audit log: %+v", entries)
	}
	_, err := admin.UpdateOfficer(ctx, console.OfficerUpdate{Name: "Rashad Mammadov", Phone: leylaNewPhone})
	if err == nil || !strings.Contains(err.Error(), "another officer already has this number") {
		t.Errorf("taking another officer's number: %v", err)
	}
	_, err = admin.UpdateOfficer(ctx, console.OfficerUpdate{Name: "Rashad Mammadov"})
	if err == nil || !strings.Contains(err.Error(), "nothing to change") {
		t.Errorf("no change: %v", err)
	}
	_, err = admin.UpdateOfficer(ctx, console.OfficerUpdate{Name: "Nobody", Role: "admin"})
	if err == nil || !strings.Contains(err.Error(), `no officer named "Nobody"`) {
		t.Errorf("unknown officer: %v", err)
	}
}
