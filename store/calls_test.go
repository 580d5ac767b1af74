package store_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/store"
)

func TestKeypadDigits(t *testing.T) {
	for code, want := range map[string]string{
		"ACDEFH": "223334", "JKMNPQ": "556677", "RTWXY3": "789993", "467934": "467934", "ac3k7w": "223579",
	} {
		if got := store.KeypadDigits(code); got != want {
			t.Errorf("KeypadDigits(%q) = %q, want %q", code, got, want)
		}
	}
}

// TestStartCallLeavesACaseAndIsIdempotent: a call is a voice case (P3,
// open) at once, with the caller's number sealed; a second start of the
// same CallSid writes nothing; CaseForCall finds it by CallSid.
func TestStartCallLeavesACaseAndIsIdempotent(t *testing.T) {
	dir, key := t.TempDir(), testKey(t)
	s := MustOpen(t, dir, key, nil)
	defer s.Close()
	ctx := context.Background()
	const sid, from = "CA0123456789abcdef0123456789abcdef", "+994557654321"
	first, err := s.StartCall(ctx, store.CallStart{CallSID: sid, From: from, Step: "language", Path: "language menu"})
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.StartCall(ctx, store.CallStart{CallSID: sid, From: from, Step: "language", Path: "language menu"})
	if err != nil || again.CaseID != first.CaseID {
		t.Fatalf("second start: %+v %v, want case %s", again, err, first.CaseID)
	}
	cases, err := s.ListCases()
	if err != nil || len(cases) != 1 {
		t.Fatalf("%d cases (%v), want 1", len(cases), err)
	}
	c, err := s.CaseByCode(first.CaseCode)
	if err != nil || c.Channel != hotline.ChannelVoice || c.Priority != hotline.P3 || c.Status != hotline.CaseOpen || c.ReporterPhone != from || c.Messages != 1 {
		t.Fatalf("case %+v %v", c, err)
	}
	got, err := s.CaseForCall(sid)
	if err != nil || got.CaseID != first.CaseID || got.CaseCode != first.CaseCode {
		t.Fatalf("CaseForCall: %+v %v", got, err)
	}
	if _, err := s.CaseForCall("CAffffffffffffffffffffffffffffffff"); !errors.Is(err, store.ErrUnknownCall) {
		t.Fatalf("unknown call: %v, want ErrUnknownCall", err)
	}
	if _, err := s.UpdateCall(ctx, "CAffffffffffffffffffffffffffffffff", func(*store.VoiceCall) error { return nil }, nil); !errors.Is(err, store.ErrUnknownCall) {
		t.Fatalf("update of an unknown call: %v, want ErrUnknownCall", err)
	}
	s.Close()
	raw, err := os.ReadFile(filepath.Join(dir, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{from, strings.TrimPrefix(from, "+"), sid} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the data file holds %q in plaintext", secret)
		}
	}
}

// TestUpdateCallDangerRunsTheHookOnce: the first 9 makes the case P1 and
// runs the hook with a new P1 case's result; a failing hook leaves the
// change stored with an alert-pending mark.
func TestUpdateCallDangerRunsTheHookOnce(t *testing.T) {
	s := MustOpen(t, t.TempDir(), testKey(t), nil)
	defer s.Close()
	ctx := context.Background()
	const sid = "CA0123456789abcdef0123456789abcdef"
	if _, err := s.StartCall(ctx, store.CallStart{CallSID: sid, From: "+994557654321", Step: "menu", Path: "x"}); err != nil {
		t.Fatal(err)
	}
	var runs []store.InboundResult
	hook := func(tx *store.Tx, res *store.InboundResult) error {
		runs = append(runs, *res)
		return errors.New("rota unreadable")
	}
	danger := func(c *store.VoiceCall) error { c.Danger = true; return nil }
	up, err := s.UpdateCall(ctx, sid, danger, hook)
	if err != nil {
		t.Fatal(err)
	}
	if !up.Raised || !up.AlertPending || up.Case.Priority != hotline.P1 {
		t.Fatalf("update %+v", up)
	}
	if len(runs) != 1 || !runs[0].NewCase || runs[0].Case.Priority != hotline.P1 || runs[0].Case.Channel != hotline.ChannelVoice {
		t.Fatalf("hook runs %+v", runs)
	}
	var pending []store.PendingAlert
	err = s.View(func(tx *store.Tx) error { pending, err = tx.DueAlertsPending(s.Now().Add(time.Hour), 10); return err })
	if err != nil || len(pending) != 1 || pending[0].CaseID != up.Call.CaseID {
		t.Fatalf("pending %+v %v", pending, err)
	}
	if up, err := s.UpdateCall(ctx, sid, danger, hook); err != nil || up.Raised || len(runs) != 1 {
		t.Fatalf("second 9: raised %v, hook runs %d (%v)", up.Raised, len(runs), err)
	}
}

// TestJoinCall: a keyed code no case has joins nothing; an SMS case's
// keypad form joins it; a joined call is not moved again.
func TestJoinCall(t *testing.T) {
	s := MustOpen(t, t.TempDir(), testKey(t), nil)
	defer s.Close()
	ctx := context.Background()
	res, err := s.RecordInboundSMS(ctx, sms("SM1", "+994501234567", "salam", hotline.P3), nil)
	if err != nil {
		t.Fatal(err)
	}
	const sid = "CA0123456789abcdef0123456789abcdef"
	if _, err := s.StartCall(ctx, store.CallStart{CallSID: sid, From: "+994557654321", Step: "menu", Path: "x"}); err != nil {
		t.Fatal(err)
	}
	wrong := "000000"
	if j, err := s.JoinCall(ctx, sid, wrong, "+994557654321", "joined"); err != nil || j.Joined {
		t.Fatalf("join by a code no case has: %+v %v", j, err)
	}
	j, err := s.JoinCall(ctx, sid, store.KeypadDigits(res.Case.Code), "+994557654321", "joined")
	if err != nil || !j.Joined || j.Call.CaseID != res.Case.ID {
		t.Fatalf("join: %+v %v", j, err)
	}
	if again, err := s.JoinCall(ctx, sid, store.KeypadDigits(res.Case.Code), "+994557654321", "joined"); err != nil || again.Joined {
		t.Fatalf("a joined call joined again: %+v %v", again, err)
	}
	if n, err := s.VerifyRecords(func(b, id string, err error) { t.Errorf("%s %s: %v", b, id, err) }); err != nil || n == 0 {
		t.Fatal(n, err)
	}
}

// TestCallerBackOnAClosedCaseReopensIt: a voicemail that lands on a
// closed case, and a 9 pressed on a call whose case an officer closed
// meanwhile, take the case back into the queue (open, in progress,
// audited as case.reopen via call); the 9 still runs the alert hook.
func TestCallerBackOnAClosedCaseReopensIt(t *testing.T) {
	s := MustOpen(t, t.TempDir(), testKey(t), nil)
	defer s.Close()
	ctx := context.Background()
	closeCase := func(id string) {
		t.Helper()
		if err := s.Update(ctx, func(tx *store.Tx) error { return tx.SetCaseState(id, hotline.WorkClosed, "officer", "done") }); err != nil {
			t.Fatal(err)
		}
	}
	reopened := func(what, id string) {
		t.Helper()
		var c hotline.Case
		var w hotline.CaseWork
		err := s.View(func(tx *store.Tx) (err error) {
			if c, err = tx.Case(id); err != nil {
				return err
			}
			w, err = tx.CaseWork(id)
			return err
		})
		if err != nil || c.Status != hotline.CaseOpen || w.State != hotline.WorkInProgress || !w.History[len(w.History)-1].Reopened {
			t.Fatalf("%s: case %s, work %+v (%v), want open, in progress, reopened", what, c.Status, w, err)
		}
		if a, err := s.Audit(store.AuditFilter{Action: "case.reopen", Object: c.Code}); err != nil || len(a) == 0 || a[len(a)-1].Via != "call" {
			t.Fatalf("%s: case.reopen audit %+v %v", what, a, err)
		}
	}

	res, err := s.RecordInboundSMS(ctx, sms("SM1", "+994501234567", "salam", hotline.P3), nil)
	if err != nil {
		t.Fatal(err)
	}
	closeCase(res.Case.ID)
	if _, err := s.QueueRecording(ctx, store.RecordingCallback{RecordingSID: "RE0123456789abcdef0123456789abcdef", CaseID: res.Case.ID, Duration: 9}); err != nil {
		t.Fatal(err)
	}
	reopened("voicemail", res.Case.ID)

	const sid = "CA0123456789abcdef0123456789abcdef"
	call, err := s.StartCall(ctx, store.CallStart{CallSID: sid, From: "+994557654321", Step: "menu", Path: "x"})
	if err != nil {
		t.Fatal(err)
	}
	closeCase(call.CaseID)
	var runs int
	hook := func(tx *store.Tx, res *store.InboundResult) error { runs++; return nil }
	up, err := s.UpdateCall(ctx, sid, func(c *store.VoiceCall) error { c.Danger = true; return nil }, hook)
	if err != nil || !up.Raised || runs != 1 || up.Case.Priority != hotline.P1 {
		t.Fatalf("9 on a closed case: %+v, hook runs %d (%v)", up, runs, err)
	}
	reopened("9", call.CaseID)
	if n, err := s.VerifyRecords(func(b, id string, err error) { t.Errorf("%s %s: %v", b, id, err) }); err != nil || n == 0 {
		t.Fatal(n, err)
	}
}
