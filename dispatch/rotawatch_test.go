package dispatch_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hotline-az/hotline/config"
	"github.com/hotline-az/hotline/dispatch"
	"github.com/hotline-az/hotline/store"
)

// gappyRota: Leyla (backup Rashad, supervisor Aysel) on Wednesday 00:00 to
// 06:00 and Thursday to Tuesday all day; Rashad on Wednesday 08:00-24:00.
// Nobody covers Wednesday 06:00-08:00. The harness starts on Wednesday
// 03:00 in Baku.
func (h *harness) gappyRota() {
	h.t.Helper()
	leyla, rashad, aysel := h.officers[leylaPhone].ID, h.officers[rashadPhone].ID, h.officers[ayselPhone].ID
	rota := dispatch.Rota{TimeZone: "Asia/Baku", Shifts: []dispatch.Shift{
		{Day: "wed", Start: "00:00", End: "06:00", Officer: leyla, Backup: rashad, Supervisor: aysel},
		{Day: "wed", Start: "08:00", End: "24:00", Officer: rashad, Supervisor: aysel},
	}}
	for _, day := range []string{"thu", "fri", "sat", "sun", "mon", "tue"} {
		rota.Shifts = append(rota.Shifts, dispatch.Shift{Day: day, Start: "00:00", End: "24:00", Officer: leyla, Backup: rashad, Supervisor: aysel})
	}
	if err := h.st.Update(context.Background(), func(tx *store.Tx) error { return dispatch.SaveRota(tx, rota) }); err != nil {
		h.t.Fatal(err)
	}
}

// until runs the worker every step until the harness clock reaches the
// Baku time hhmm on the starting day.
func (h *harness) runUntil(hhmm string, step time.Duration) {
	h.t.Helper()
	baku, _ := time.LoadLocation("Asia/Baku")
	at, err := time.ParseInLocation("2006-01-02 15:04", "2026-11-25 "+hhmm, baku)
	if err != nil {
		h.t.Fatal(err)
	}
	for h.clock.Now().Before(at) {
		h.clock.Add(step)
		h.runDue()
	}
}

// TestSupervisorWarnedBeforeAGap: with the default gap_warning (2 hours)
// the supervisor on duty is texted once, two hours before the stretch
// nobody covers, with its real span; nobody else is, and shift reminders
// are off by default.
func TestSupervisorWarnedBeforeAGap(t *testing.T) {
	h := newHarness(t, nil)
	h.gappyRota()
	h.runDue()
	h.runUntil("03:59", time.Minute)
	h.wantSent("three hours before", map[string]int{}, map[string]int{})
	h.runUntil("04:00", time.Minute)
	h.wantSent("two hours before", map[string]int{ayselPhone: 1}, map[string]int{})
	want := "Hotline: nobody is on duty from Wed 25 Nov 06:00 to Wed 25 Nov 08:00 (Asia/Baku, starts in 2h). Alerts then reach nobody until escalation ends: set a shift or an override."
	if got := h.twilio.Messages()[0].Body; got != want {
		t.Fatalf("gap warning:\n got %q\nwant %q", got, want)
	}
	h.runUntil("12:00", 7*time.Minute)
	h.wantSent("after the gap", map[string]int{ayselPhone: 1}, map[string]int{})
}

// TestShiftReminders: with shift_reminder = 30m each officer is texted
// once before their duty starts (Rashad at 07:30 for 08:00; Leyla at 23:30
// for Thursday, whose duty then runs on over six days of shifts), never
// in the middle of a duty.
func TestShiftReminders(t *testing.T) {
	h := newHarness(t, func(e *config.Escalation) {
		e.GapWarning = config.Duration{}
		e.ShiftReminder = config.Duration{Duration: 30 * time.Minute}
	})
	h.gappyRota()
	h.runUntil("07:29", time.Minute)
	h.wantSent("before 07:30", map[string]int{}, map[string]int{})
	h.runUntil("07:30", time.Minute)
	h.wantSent("at 07:30", map[string]int{rashadPhone: 1}, map[string]int{})
	want := "Hotline: your duty starts Wed 25 Nov 08:00 and runs to Thu 26 Nov 00:00 (Asia/Baku). Alerts come to this phone; reply with the alert number and a to acknowledge."
	if got := h.twilio.Messages()[0].Body; got != want {
		t.Fatalf("reminder:\n got %q\nwant %q", got, want)
	}
	h.runUntil("23:59", 11*time.Minute)
	h.wantSent("by midnight", map[string]int{rashadPhone: 1, leylaPhone: 1}, map[string]int{})
	last := h.twilio.Messages()[1].Body
	if !strings.Contains(last, "your duty starts Thu 26 Nov 00:00 and runs to Wed 02 Dec 06:00") {
		t.Fatalf("Leyla's reminder: %q", last)
	}
	h.clock.Add(36 * time.Hour)
	h.runDue()
	h.wantSent("during Leyla's long duty", map[string]int{rashadPhone: 1, leylaPhone: 1}, map[string]int{})
}
