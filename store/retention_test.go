package store_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/store"
	"github.com/hotline-az/hotline/twiliotest"
)

const day = 24 * time.Hour

// TestPurgeRemovesExactlyWhatThePolicySays runs the retention rules on a
// fake clock over cases of different ages and states.
func TestPurgeRemovesExactlyWhatThePolicySays(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{t: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	dir, key := t.TempDir(), testKey(t)
	s := MustOpen(t, dir, key, clock)
	defer func() { s.Close() }()

	text := func(sid, from string) hotline.Case {
		t.Helper()
		res, err := s.RecordInboundSMS(ctx, sms(sid, from, "help", hotline.P2), nil)
		if err != nil {
			t.Fatal(err)
		}
		return res.Case
	}
	closed := text("SMd1", "+994500000004") // day 0, closed on day 1
	clock.Add(day)
	if err := s.Update(ctx, func(tx *store.Tx) error {
		return tx.SetCaseState(closed.ID, hotline.WorkClosed, "", "resolved")
	}); err != nil {
		t.Fatal(err)
	}
	clock.Add(-day)
	old := text("SMa1", "+994500000001") // day 0
	clock.Add(10 * day)
	mid := text("SMb1", "+994500000002") // day 10
	clock.Add(40 * day)
	recent := text("SMc1", "+994500000003") // day 50
	clock.Add(50 * day)                     // day 100

	policy := store.RetentionPolicy{CloseUntouched: 30 * day, DeleteClosed: 60 * day, DropNumber: 90 * day}
	dry, err := s.Purge(ctx, policy, store.PurgeOptions{DryRun: true, By: cliAdmin})
	if err != nil {
		t.Fatal(err)
	}
	want := store.PurgeReport{
		Closed:         sorted(old.Code, mid.Code, recent.Code),
		NumbersDropped: sorted(old.Code, mid.Code), // untouched 100 and 90 days
		Deleted:        []string{closed.Code},      // closed 99 days ago
		Messages:       1,
	}
	checkReport(t, "dry run", dry, want)
	if c, err := s.CaseByCode(old.Code); err != nil || c.Status != hotline.CaseOpen || c.ReporterPhone != "+994500000001" {
		t.Errorf("after a dry run, case = %+v, %v; want it untouched", c, err)
	}

	got, err := s.Purge(ctx, policy, store.PurgeOptions{By: cliAdmin})
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, "purge", got, want)
	var he *hotline.Error
	if _, err := s.CaseByCode(closed.Code); !errors.As(err, &he) || he.Code != hotline.ENOTFOUND {
		t.Errorf("deleted case by code: err = %v, want not found", err)
	}
	for _, c := range []struct {
		code, phone string
	}{{old.Code, ""}, {mid.Code, ""}, {recent.Code, "+994500000003"}} {
		got, err := s.CaseByCode(c.code)
		if err != nil || got.Status != hotline.CaseClosed || got.ReporterPhone != c.phone {
			t.Errorf("case %s after purge: status %s phone %q err %v; want closed with phone %q", c.code, got.Status, got.ReporterPhone, err, c.phone)
		}
	}
	// A retried webhook of the deleted case is a new tip, not an error;
	// the file checks clean.
	res, err := s.RecordInboundSMS(ctx, sms("SMd1", "+994500000004", "help", hotline.P2), nil)
	if err != nil || res.Duplicate || !res.NewCase {
		t.Errorf("retry of a deleted case's SID: dup=%v new=%v err=%v; want a new case", res.Duplicate, res.NewCase, err)
	}
	if _, err := s.VerifyRecords(func(bucket, id string, err error) { t.Errorf("check after purge: %s/%s: %v", bucket, id, err) }); err != nil {
		t.Fatal(err)
	}

	// Nothing more is due now; 60 days on, the three closed cases go and
	// the retried tip's case, untouched since, is closed.
	again, err := s.Purge(ctx, policy, store.PurgeOptions{By: cliAdmin})
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, "second purge at once", again, store.PurgeReport{})
	clock.Add(60 * day)
	later, err := s.Purge(ctx, policy, store.PurgeOptions{By: cliAdmin})
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, "purge 60 days on", later, store.PurgeReport{
		Closed:         []string{res.Case.Code},
		NumbersDropped: []string{},
		Deleted:        sorted(old.Code, mid.Code, recent.Code),
		Messages:       3,
	})
	entries, err := s.Audit(store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var details []string
	for _, e := range entries {
		if e.Action == "retention.purge" {
			details = append(details, e.Detail)
		}
	}
	if want := []string{
		"closed=3 numbers_dropped=2 deleted=1 messages=1",
		"closed=1 numbers_dropped=0 deleted=3 messages=3",
	}; !slices.Equal(details, want) {
		t.Errorf("retention audit entries = %q, want %q", details, want)
	}
}

// TestDroppedNumberStillThreads: with the number gone, a text from it
// still joins the case through the keyed hash.
func TestDroppedNumberStillThreads(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{t: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	s := MustOpen(t, t.TempDir(), testKey(t), clock)
	defer s.Close()
	in := sms("SM1", "+994500000001", "help", hotline.P2)
	in.Window = 365 * day
	first, err := s.RecordInboundSMS(ctx, in, nil)
	if err != nil {
		t.Fatal(err)
	}
	clock.Add(91 * day)
	rep, err := s.Purge(ctx, store.RetentionPolicy{DropNumber: 90 * day}, store.PurgeOptions{By: cliAdmin})
	if err != nil || !slices.Equal(rep.NumbersDropped, []string{first.Case.Code}) || len(rep.Closed)+len(rep.Deleted) != 0 {
		t.Fatalf("Purge = %+v, %v; want only the number of %s dropped", rep, err, first.Case.Code)
	}
	in.MessageSID = "SM2"
	res, err := s.RecordInboundSMS(ctx, in, nil)
	if err != nil || res.NewCase || res.Case.Code != first.Case.Code {
		t.Errorf("text after the number drop: case %s new=%v err=%v; want case %s", res.Case.Code, res.NewCase, err, first.Case.Code)
	}
	if c, err := s.CaseByCode(first.Case.Code); err != nil || c.ReporterPhone != "" {
		t.Errorf("CaseByCode after the drop: phone %q err %v; want no phone", c.ReporterPhone, err)
	}
}

func sorted(codes ...string) []string {
	slices.Sort(codes)
	return codes
}

func checkReport(t *testing.T, label string, got, want store.PurgeReport) {
	t.Helper()
	for _, l := range []*[]string{&got.Closed, &got.NumbersDropped, &got.Deleted, &want.Closed, &want.NumbersDropped, &want.Deleted} {
		if *l == nil {
			*l = []string{}
		}
		slices.Sort(*l)
	}
	if !slices.Equal(got.Closed, want.Closed) || !slices.Equal(got.NumbersDropped, want.NumbersDropped) ||
		!slices.Equal(got.Deleted, want.Deleted) || got.Messages != want.Messages {
		t.Errorf("%s: closed %v dropped %v deleted %v messages %d; want closed %v dropped %v deleted %v messages %d", label,
			got.Closed, got.NumbersDropped, got.Deleted, got.Messages, want.Closed, want.NumbersDropped, want.Deleted, want.Messages)
	}
}

// TestPurgeDeletesACasesVoicemail: deleting a closed case takes its
// recordings (record, sealed chunks and link) with it, and the file checks
// clean afterwards (no chunk left pointing at a missing recording).
func TestPurgeDeletesACasesVoicemail(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{t: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	s := MustOpen(t, t.TempDir(), testKey(t), clock)
	defer s.Close()
	audio := twiliotest.NewWAV(3, 11)
	voicemail := func() (hotline.Recording, hotline.Case) {
		t.Helper()
		q, err := s.QueueRecording(ctx, store.RecordingCallback{RecordingSID: twiliotest.NewSID("RE"), Duration: 3})
		if err != nil {
			t.Fatal(err)
		}
		rec, err := s.StoreRecordingAudio(ctx, q.Recording.ID, "audio/x-wav", bytes.NewReader(audio), 64<<20)
		if err != nil {
			t.Fatal(err)
		}
		c, err := s.CaseByCode(q.CaseCode)
		if err != nil {
			t.Fatal(err)
		}
		return rec, c
	}
	kept, _ := voicemail()
	gone, goneCase := voicemail()
	if err := s.Update(ctx, func(tx *store.Tx) error {
		return tx.SetCaseState(goneCase.ID, hotline.WorkClosed, "", "resolved")
	}); err != nil {
		t.Fatal(err)
	}
	clock.Add(61 * day)
	got, err := s.Purge(ctx, store.RetentionPolicy{DeleteClosed: 60 * day}, store.PurgeOptions{By: cliAdmin})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Deleted, []string{goneCase.Code}) {
		t.Fatalf("deleted %v, want only the closed voice case", got.Deleted)
	}
	if _, err := readAudio(s, gone.ID); err == nil {
		t.Error("the deleted case's voicemail still opens")
	}
	if b, err := readAudio(s, kept.ID); err != nil || !bytes.Equal(b, audio) {
		t.Errorf("the open case's voicemail: %d bytes, %v; want it whole", len(b), err)
	}
	if _, err := s.VerifyRecords(func(bucket, id string, err error) { t.Errorf("check after purge: %s/%s: %v", bucket, id, err) }); err != nil {
		t.Fatal(err)
	}
}
