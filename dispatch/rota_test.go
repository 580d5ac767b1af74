package dispatch_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hotline-az/hotline/dispatch"
)

// MustLoadLocation loads a time zone or fails the test.
func MustLoadLocation(tb testing.TB, name string) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		tb.Fatal(err)
	}
	return loc
}

// MustParseRotaFile parses a rota file from testdata or fails the test.
func MustParseRotaFile(tb testing.TB, name string) dispatch.Rota {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	r, err := dispatch.ParseRota(bytes.NewReader(b), name)
	if err != nil {
		tb.Fatalf("ParseRota(%s): %v", name, err)
	}
	return r
}

// wallClock parses "2006-01-02 15:04" or "2006-01-02 15:04:05" in loc.
func wallClock(tb testing.TB, loc *time.Location, s string) time.Time {
	tb.Helper()
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t
		}
	}
	tb.Fatalf("bad time %q", s)
	return time.Time{}
}

// dutyView is a dispatch.Duty with Until written out, to compare and print.
type dutyView struct {
	Officer, Backup, Supervisor, Source, Until string
}

func viewDuty(d dispatch.Duty, loc *time.Location) dutyView {
	until := ""
	if !d.Until.IsZero() {
		until = d.Until.In(loc).Format("2006-01-02 15:04 -07")
	}
	return dutyView{d.Officer, d.Backup, d.Supervisor, d.Source, until}
}

// The example rota, week of Monday 2026-11-23 in Asia/Baku (+04 all year):
//
//	     day 08:00-20:00                  night 20:00-08:00
//	mon  Leyla / Aysel / Farid            Rashad / Elvin / Farid
//	tue  Aysel / Leyla / Farid            Elvin / Rashad / Farid
//	wed  Leyla / Nigar / Farid            Rashad / Elvin / Farid
//	thu  Nigar / Aysel / Farid            Elvin / Rashad / Farid
//	fri  Aysel / Nigar / Farid            Rashad / Elvin / Gunel
//	sat  Nigar / Leyla / Gunel            Elvin / Rashad / Gunel
//	sun  Leyla / Aysel / Gunel            Rashad / Elvin / Gunel
const (
	leyla  = "Leyla Aliyeva"
	rashad = "Rashad Mammadov"
	aysel  = "Aysel Huseynova"
	elvin  = "Elvin Guliyev"
	nigar  = "Nigar Hasanova"
	farid  = "Farid Ismayilov"
	gunel  = "Gunel Abbasova"
)

func TestOnDuty(t *testing.T) {
	baku := MustLoadLocation(t, "Asia/Baku")
	at := func(s string) time.Time { return wallClock(t, baku, s) }
	rota := MustParseRotaFile(t, "rota-example.toml").
		// Leyla covers Tuesday night; Rashad stays backup.
		WithOverride(dispatch.Override{ID: "ov-1", Officer: leyla, From: at("2026-11-24 20:00"), To: at("2026-11-25 08:00")}).
		// Nigar takes part of that night, with her own backup.
		WithOverride(dispatch.Override{ID: "ov-2", Officer: nigar, Backup: aysel, From: at("2026-11-24 23:00"), To: at("2026-11-25 02:00")}).
		// Aysel from the end of Thursday's day shift into its night.
		WithOverride(dispatch.Override{ID: "ov-3", Officer: aysel, Backup: leyla, From: at("2026-11-26 18:00"), To: at("2026-11-26 22:00")}).
		// Rashad, Saturday night's backup, covers it himself.
		WithOverride(dispatch.Override{ID: "ov-4", Officer: rashad, From: at("2026-11-28 20:00"), To: at("2026-11-29 08:00")})

	tests := []struct {
		label string
		at    time.Time
		want  dutyView
	}{
		{"mon 08:00 day shift starts (start inclusive)", at("2026-11-23 08:00"),
			dutyView{leyla, aysel, farid, "shift mon 08:00-20:00", "2026-11-23 20:00 +04"}},
		{"mon 07:59:59 sunday night runs into monday", at("2026-11-23 07:59:59"),
			dutyView{rashad, elvin, gunel, "shift sun 20:00-08:00", "2026-11-23 08:00 +04"}},
		{"mon 00:00 midnight inside sunday night", at("2026-11-23 00:00"),
			dutyView{rashad, elvin, gunel, "shift sun 20:00-08:00", "2026-11-23 08:00 +04"}},
		{"mon 19:59:59 last second of the day shift", at("2026-11-23 19:59:59"),
			dutyView{leyla, aysel, farid, "shift mon 08:00-20:00", "2026-11-23 20:00 +04"}},
		{"mon 20:00 day shift ended (end exclusive)", at("2026-11-23 20:00"),
			dutyView{rashad, elvin, farid, "shift mon 20:00-08:00", "2026-11-24 08:00 +04"}},
		{"tue 03:00 monday night after midnight", at("2026-11-24 03:00"),
			dutyView{rashad, elvin, farid, "shift mon 20:00-08:00", "2026-11-24 08:00 +04"}},
		{"tue 08:00 given in UTC", at("2026-11-24 08:00").UTC(),
			dutyView{aysel, leyla, farid, "shift tue 08:00-20:00", "2026-11-24 20:00 +04"}},
		{"tue 19:59 before Leyla's override", at("2026-11-24 19:59"),
			dutyView{aysel, leyla, farid, "shift tue 08:00-20:00", "2026-11-24 20:00 +04"}},
		{"tue 20:00 Leyla covers tuesday night until Nigar takes over", at("2026-11-24 20:00"),
			dutyView{leyla, rashad, farid, "override ov-1 until 2026-11-25 08:00 +04", "2026-11-24 23:00 +04"}},
		{"tue 23:00 the later override wins", at("2026-11-24 23:00"),
			dutyView{nigar, aysel, farid, "override ov-2 until 2026-11-25 02:00 +04", "2026-11-25 02:00 +04"}},
		{"wed 01:59 still Nigar", at("2026-11-25 01:59"),
			dutyView{nigar, aysel, farid, "override ov-2 until 2026-11-25 02:00 +04", "2026-11-25 02:00 +04"}},
		{"wed 02:00 back to Leyla", at("2026-11-25 02:00"),
			dutyView{leyla, rashad, farid, "override ov-1 until 2026-11-25 08:00 +04", "2026-11-25 08:00 +04"}},
		{"wed 08:00 override over", at("2026-11-25 08:00"),
			dutyView{leyla, nigar, farid, "shift wed 08:00-20:00", "2026-11-25 20:00 +04"}},
		{"thu 08:00 shift until an override takes over", at("2026-11-26 08:00"),
			dutyView{nigar, aysel, farid, "shift thu 08:00-20:00", "2026-11-26 18:00 +04"}},
		{"thu 19:00 override keeps the shift's supervisor until the shift ends", at("2026-11-26 19:00"),
			dutyView{aysel, leyla, farid, "override ov-3 until 2026-11-26 22:00 +04", "2026-11-26 20:00 +04"}},
		{"thu 21:00 override overlaps the night shift's start", at("2026-11-26 21:00"),
			dutyView{aysel, leyla, farid, "override ov-3 until 2026-11-26 22:00 +04", "2026-11-26 22:00 +04"}},
		{"thu 22:00 night shift after a partial override", at("2026-11-26 22:00"),
			dutyView{elvin, rashad, farid, "shift thu 20:00-08:00", "2026-11-27 08:00 +04"}},
		{"fri 20:00 weekend supervisor", at("2026-11-27 20:00"),
			dutyView{rashad, elvin, gunel, "shift fri 20:00-08:00", "2026-11-28 08:00 +04"}},
		{"sat 23:00 backup covering is not their own backup", at("2026-11-28 23:00"),
			dutyView{rashad, "", gunel, "override ov-4 until 2026-11-29 08:00 +04", "2026-11-29 08:00 +04"}},
		{"sun 20:00 into next week", at("2026-11-29 20:00"),
			dutyView{rashad, elvin, gunel, "shift sun 20:00-08:00", "2026-11-30 08:00 +04"}},
		{"next mon 03:00 sunday night wraps into monday", at("2026-11-30 03:00"),
			dutyView{rashad, elvin, gunel, "shift sun 20:00-08:00", "2026-11-30 08:00 +04"}},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			if got := viewDuty(rota.OnDuty(tt.at), baku); got != tt.want {
				t.Errorf("OnDuty(%s)\n got %+v\nwant %+v", tt.at, got, tt.want)
			}
		})
	}
}

func TestOnDutyGap(t *testing.T) {
	baku := MustLoadLocation(t, "Asia/Baku")
	at := func(s string) time.Time { return wallClock(t, baku, s) }
	rota := dispatch.Rota{Shifts: []dispatch.Shift{{Day: "mon", Start: "08:00", End: "20:00", Officer: "a", Backup: "b"}}}
	covered := rota.WithOverride(dispatch.Override{ID: "ov", Officer: "c", From: at("2026-11-24 10:00"), To: at("2026-11-24 12:00")})
	nobody := "no shift or override covers this time"
	var allWeek dispatch.Rota
	for _, day := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		allWeek.Shifts = append(allWeek.Shifts, dispatch.Shift{Day: day, Start: "00:00", End: "24:00", Officer: day})
	}

	tests := []struct {
		label string
		rota  dispatch.Rota
		at    time.Time
		want  dutyView
	}{
		{"nobody until next monday", rota, at("2026-11-23 20:00"),
			dutyView{"", "", "", nobody, "2026-11-30 08:00 +04"}},
		{"nobody until an override", covered, at("2026-11-23 20:00"),
			dutyView{"", "", "", nobody, "2026-11-24 10:00 +04"}},
		{"override in a gap has no backup to keep", covered, at("2026-11-24 11:00"),
			dutyView{"c", "", "", "override ov until 2026-11-24 12:00 +04", "2026-11-24 12:00 +04"}},
		{"no shifts at all", dispatch.Rota{}, at("2026-11-24 11:00"),
			dutyView{"", "", "", nobody, ""}},
		{"all-day shifts meet at midnight", allWeek, at("2026-11-24 00:00"),
			dutyView{"tue", "", "", "shift tue 00:00-24:00", "2026-11-25 00:00 +04"}},
		{"last minute of an all-day shift", allWeek, at("2026-11-29 23:59"),
			dutyView{"sun", "", "", "shift sun 00:00-24:00", "2026-11-30 00:00 +04"}},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			if got := viewDuty(tt.rota.OnDuty(tt.at), baku); got != tt.want {
				t.Errorf("OnDuty(%s)\n got %+v\nwant %+v", tt.at, got, tt.want)
			}
		})
	}
}

// In Europe/Berlin the clocks go forward at 02:00 on 2026-03-29 and back at
// 03:00 on 2026-10-25, both Sundays: Saturday's night shift lasts 11 hours
// and 13 hours, and Sunday's day shift starts at 08:00 local time all the same.
func TestOnDutyDST(t *testing.T) {
	berlin := MustLoadLocation(t, "Europe/Berlin")
	rota := dispatch.Rota{TimeZone: "Europe/Berlin"}
	for _, day := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		rota.Shifts = append(rota.Shifts,
			dispatch.Shift{Day: day, Start: "08:00", End: "20:00", Officer: "day-" + day},
			dispatch.Shift{Day: day, Start: "20:00", End: "08:00", Officer: "night-" + day})
	}
	if err := rota.Validate(nil); err != nil {
		t.Fatal(err)
	}
	utc := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		label       string
		at          string // UTC
		officer     string
		until       string // UTC
		untilBerlin string
	}{
		{"spring: sat 20:00 CET", "2026-03-28T19:00:00Z", "night-sat", "2026-03-29T06:00:00Z", "2026-03-29 08:00 +02"},
		{"spring: sun 01:59 CET", "2026-03-29T00:59:00Z", "night-sat", "2026-03-29T06:00:00Z", "2026-03-29 08:00 +02"},
		{"spring: sun 03:00 CEST, a minute later", "2026-03-29T01:00:00Z", "night-sat", "2026-03-29T06:00:00Z", "2026-03-29 08:00 +02"},
		{"spring: sun 07:59 CEST", "2026-03-29T05:59:00Z", "night-sat", "2026-03-29T06:00:00Z", "2026-03-29 08:00 +02"},
		{"spring: sun 08:00 CEST day shift", "2026-03-29T06:00:00Z", "day-sun", "2026-03-29T18:00:00Z", "2026-03-29 20:00 +02"},
		{"spring: sun 08:30 CEST, 07:30 on a CET clock", "2026-03-29T06:30:00Z", "day-sun", "2026-03-29T18:00:00Z", "2026-03-29 20:00 +02"},
		{"autumn: sat 20:00 CEST", "2026-10-24T18:00:00Z", "night-sat", "2026-10-25T07:00:00Z", "2026-10-25 08:00 +01"},
		{"autumn: sun 02:30 CEST, first time", "2026-10-25T00:30:00Z", "night-sat", "2026-10-25T07:00:00Z", "2026-10-25 08:00 +01"},
		{"autumn: sun 02:30 CET, second time", "2026-10-25T01:30:00Z", "night-sat", "2026-10-25T07:00:00Z", "2026-10-25 08:00 +01"},
		{"autumn: sun 07:30 CET, 08:30 on a CEST clock", "2026-10-25T06:30:00Z", "night-sat", "2026-10-25T07:00:00Z", "2026-10-25 08:00 +01"},
		{"autumn: sun 08:00 CET day shift", "2026-10-25T07:00:00Z", "day-sun", "2026-10-25T19:00:00Z", "2026-10-25 20:00 +01"},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			d := rota.OnDuty(utc(tt.at))
			got := [3]string{d.Officer, d.Until.UTC().Format(time.RFC3339), d.Until.In(berlin).Format("2006-01-02 15:04 -07")}
			want := [3]string{tt.officer, tt.until, tt.untilBerlin}
			if got != want {
				t.Errorf("OnDuty(%s)\n got %q\nwant %q", tt.at, got, want)
			}
		})
	}
}

func TestWithOverrideCopies(t *testing.T) {
	base := dispatch.Rota{Overrides: make([]dispatch.Override, 1, 4)}
	a := base.WithOverride(dispatch.Override{ID: "a"})
	b := base.WithOverride(dispatch.Override{ID: "b"})
	if got := []string{a.Overrides[1].ID, b.Overrides[1].ID}; !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("overrides appended to copies of one rota share storage: got %q, want [a b]", got)
	}
	if len(base.Overrides) != 1 {
		t.Errorf("WithOverride changed its receiver: %d overrides, want 1", len(base.Overrides))
	}
}

func TestPruneOverrides(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	r := dispatch.Rota{Overrides: []dispatch.Override{
		{ID: "ended", From: now.Add(-3 * time.Hour), To: now.Add(-time.Hour)},
		{ID: "ends-now", From: now.Add(-3 * time.Hour), To: now},
		{ID: "running", From: now.Add(-time.Hour), To: now.Add(time.Hour)},
		{ID: "future", From: now.Add(time.Hour), To: now.Add(2 * time.Hour)},
	}}
	pruned := r.PruneOverrides(now)
	var got []string
	for _, o := range pruned.Overrides {
		got = append(got, o.ID)
	}
	if want := []string{"running", "future"}; !slices.Equal(got, want) {
		t.Errorf("PruneOverrides: got %q, want %q", got, want)
	}
	if len(r.Overrides) != 4 || r.Overrides[0].ID != "ended" {
		t.Errorf("PruneOverrides changed its receiver: %+v", r.Overrides)
	}
}

func TestValidate(t *testing.T) {
	baku := MustLoadLocation(t, "Asia/Baku")
	at := func(s string) time.Time { return wallClock(t, baku, s) }
	known := func(id string) bool { return slices.Contains([]string{"leyla", "rashad", "aysel", "farid"}, id) }
	shift := func(day, start, end string) dispatch.Shift {
		return dispatch.Shift{Day: day, Start: start, End: end, Officer: "leyla", Backup: "rashad", Supervisor: "farid"}
	}
	with := func(f func(*dispatch.Shift)) dispatch.Rota {
		s := shift("mon", "08:00", "20:00")
		f(&s)
		return dispatch.Rota{Shifts: []dispatch.Shift{s}}
	}
	over := func(o dispatch.Override) dispatch.Rota {
		return dispatch.Rota{Shifts: []dispatch.Shift{shift("mon", "08:00", "20:00")}, Overrides: []dispatch.Override{o}}
	}
	tests := []struct {
		label string
		rota  dispatch.Rota
		want  string // "" for no error
	}{
		{"good", with(func(*dispatch.Shift) {}), ""},
		{"full day name in any case", with(func(s *dispatch.Shift) { s.Day = "TUESDAY" }), ""},
		{"one-digit hour", with(func(s *dispatch.Shift) { s.Start = "8:00" }), ""},
		{"all day", with(func(s *dispatch.Shift) { s.Start, s.End = "00:00", "24:00" }), ""},
		{"no backup or supervisor", with(func(s *dispatch.Shift) { s.Backup, s.Supervisor = "", "" }), ""},
		{"unknown day", with(func(s *dispatch.Shift) { s.Day = "mun" }),
			`shift 1 (mun 08:00-20:00): day "mun" is not a day of the week (mon..sun)`},
		{"no day", with(func(s *dispatch.Shift) { s.Day = "" }),
			`shift 1 (? 08:00-20:00): day "" is not a day of the week (mon..sun)`},
		{"bad start", with(func(s *dispatch.Shift) { s.Start = "8am" }),
			`shift 1 (mon 8am-20:00): start "8am" is not a time of day HH:MM`},
		{"bad end minutes", with(func(s *dispatch.Shift) { s.End = "20:60" }),
			`shift 1 (mon 08:00-20:60): end "20:60" is not a time of day HH:MM`},
		{"start at 24:00", with(func(s *dispatch.Shift) { s.Start = "24:00" }),
			`shift 1 (mon 24:00-20:00): start "24:00": only an end may be 24:00`},
		{"empty shift", with(func(s *dispatch.Shift) { s.End = "08:00" }),
			`shift 1 (mon 08:00-08:00): starts and ends at 08:00: the shift is empty`},
		{"no officer", with(func(s *dispatch.Shift) { s.Officer = "" }),
			`shift 1 (mon 08:00-20:00): no officer`},
		{"unknown officer", with(func(s *dispatch.Shift) { s.Officer = "ghost" }),
			`shift 1 (mon 08:00-20:00): officer "ghost" is not a known officer`},
		{"unknown backup", with(func(s *dispatch.Shift) { s.Backup = "ghost" }),
			`shift 1 (mon 08:00-20:00): backup "ghost" is not a known officer`},
		{"unknown supervisor", with(func(s *dispatch.Shift) { s.Supervisor = "ghost" }),
			`shift 1 (mon 08:00-20:00): supervisor "ghost" is not a known officer`},
		{"own backup", with(func(s *dispatch.Shift) { s.Backup = "leyla" }),
			`shift 1 (mon 08:00-20:00): backup is the same as the officer`},
		{"overlap on one day",
			dispatch.Rota{Shifts: []dispatch.Shift{shift("mon", "08:00", "20:00"), shift("mon", "19:00", "23:00")}},
			`shift 2 (mon 19:00-23:00): overlaps shift 1 (mon 08:00-20:00) on mon 19:00-20:00`},
		{"same shift twice",
			dispatch.Rota{Shifts: []dispatch.Shift{shift("wed", "08:00", "20:00"), shift("Wednesday", "08:00", "20:00")}},
			`shift 2 (wed 08:00-20:00): overlaps shift 1 (wed 08:00-20:00) on wed 08:00-20:00`},
		{"overlap across midnight",
			dispatch.Rota{Shifts: []dispatch.Shift{shift("mon", "20:00", "08:00"), shift("tue", "07:00", "15:00")}},
			`shift 2 (tue 07:00-15:00): overlaps shift 1 (mon 20:00-08:00) on tue 07:00-08:00`},
		{"overlap from sunday into monday",
			dispatch.Rota{Shifts: []dispatch.Shift{shift("sun", "20:00", "08:00"), shift("mon", "06:00", "14:00")}},
			`shift 2 (mon 06:00-14:00): overlaps shift 1 (sun 20:00-08:00) on mon 06:00-08:00`},
		{"overlap of a 24:00 end",
			dispatch.Rota{Shifts: []dispatch.Shift{shift("sun", "12:00", "24:00"), shift("sun", "23:00", "07:00")}},
			`shift 2 (sun 23:00-07:00): overlaps shift 1 (sun 12:00-24:00) on sun 23:00-24:00`},
		{"shifts that meet do not overlap",
			dispatch.Rota{Shifts: []dispatch.Shift{shift("sun", "20:00", "08:00"), shift("mon", "08:00", "20:00"), shift("mon", "20:00", "24:00"), shift("tue", "00:00", "08:00")}},
			""},
		{"bad time zone", dispatch.Rota{TimeZone: "Asia/Bakuu", Shifts: []dispatch.Shift{shift("mon", "08:00", "20:00")}},
			`time_zone: "Asia/Bakuu" is not a known time zone (want an IANA name like "Asia/Baku")`},
		{"server's time zone", dispatch.Rota{TimeZone: "Local", Shifts: []dispatch.Shift{shift("mon", "08:00", "20:00")}},
			`time_zone: "Local" depends on the server's settings; name a zone like "Asia/Baku"`},
		{"other time zone", dispatch.Rota{TimeZone: "Europe/Berlin", Shifts: []dispatch.Shift{shift("mon", "08:00", "20:00")}}, ""},
		{"good override", over(dispatch.Override{ID: "ov-1", Officer: "aysel", From: at("2026-11-24 20:00"), To: at("2026-11-25 08:00")}), ""},
		{"override ends before it starts",
			over(dispatch.Override{ID: "ov-1", Officer: "aysel", From: at("2026-11-25 08:00"), To: at("2026-11-24 20:00")}),
			`override ov-1: must end after it starts (from 2026-11-25 08:00 +04 to 2026-11-24 20:00 +04)`},
		{"override ends when it starts",
			over(dispatch.Override{ID: "ov-1", Officer: "aysel", From: at("2026-11-24 20:00"), To: at("2026-11-24 20:00")}),
			`override ov-1: must end after it starts (from 2026-11-24 20:00 +04 to 2026-11-24 20:00 +04)`},
		{"override without an end",
			over(dispatch.Override{ID: "ov-1", Officer: "aysel", From: at("2026-11-24 20:00")}),
			`override ov-1: needs both a start and an end`},
		{"override too long",
			over(dispatch.Override{ID: "ov-1", Officer: "aysel", From: at("2026-11-01 00:00"), To: at("2026-12-03 00:00")}),
			`override ov-1: lasts 32 days; at most 31 days`},
		{"override of exactly 31 days",
			over(dispatch.Override{ID: "ov-1", Officer: "aysel", From: at("2026-11-01 00:00"), To: at("2026-12-02 00:00")}), ""},
		{"override unknown officer",
			over(dispatch.Override{ID: "ov-1", Officer: "ghost", From: at("2026-11-24 20:00"), To: at("2026-11-25 08:00")}),
			`override ov-1: officer "ghost" is not a known officer`},
		{"override unknown backup",
			over(dispatch.Override{ID: "ov-1", Officer: "aysel", Backup: "ghost", From: at("2026-11-24 20:00"), To: at("2026-11-25 08:00")}),
			`override ov-1: backup "ghost" is not a known officer`},
		{"override without officer or id",
			over(dispatch.Override{From: at("2026-11-24 20:00"), To: at("2026-11-25 08:00")}),
			`override #1: no officer`},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			got := errString(tt.rota.Validate(known))
			if got != tt.want {
				t.Errorf("Validate\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestValidateReportsEverything(t *testing.T) {
	baku := MustLoadLocation(t, "Asia/Baku")
	rota := dispatch.Rota{
		TimeZone: "Baku",
		Shifts: []dispatch.Shift{
			{Day: "mon", Start: "08:00", End: "20:00", Officer: "leyla", Backup: "leyla"},
			{Day: "Mon", Start: "20:00", End: "8:00", Officer: "ghost"},
			{Day: "sun", Start: "20:00", End: "09:00", Officer: "rashad", Supervisor: "nobody"},
			{Day: "someday", Start: "25:00", End: "", Officer: ""},
		},
		Overrides: []dispatch.Override{
			{ID: "ov-1", Officer: "ghost", From: time.Date(2026, 11, 25, 8, 0, 0, 0, baku), To: time.Date(2026, 11, 24, 8, 0, 0, 0, baku)},
		},
	}
	want := []string{
		`time_zone: "Baku" is not a known time zone (want an IANA name like "Asia/Baku")`,
		`shift 1 (mon 08:00-20:00): backup is the same as the officer`,
		`shift 2 (mon 20:00-08:00): officer "ghost" is not a known officer`,
		`shift 3 (sun 20:00-09:00): supervisor "nobody" is not a known officer`,
		`shift 4 (someday 25:00-?): day "someday" is not a day of the week (mon..sun)`,
		`shift 4 (someday 25:00-?): start "25:00" is not a time of day HH:MM`,
		`shift 4 (someday 25:00-?): end "" is not a time of day HH:MM`,
		`shift 4 (someday 25:00-?): no officer`,
		`shift 3 (sun 20:00-09:00): overlaps shift 1 (mon 08:00-20:00) on mon 08:00-09:00`,
		`override ov-1: must end after it starts (from 2026-11-25 08:00 +04 to 2026-11-24 08:00 +04)`,
		`override ov-1: officer "ghost" is not a known officer`,
	}
	err := rota.Validate(func(id string) bool { return id == "leyla" || id == "rashad" })
	if err == nil {
		t.Fatal("Validate: no error")
	}
	if got := strings.Split(err.Error(), "\n"); !slices.Equal(got, want) {
		t.Errorf("Validate\n got:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) || len(joined.Unwrap()) != len(want) {
		t.Errorf("Validate should join one error per problem (%d); got %#v", len(want), err)
	}
}

func TestGaps(t *testing.T) {
	example := MustParseRotaFile(t, "rota-example.toml")
	without := func(day, start string) dispatch.Rota {
		r := example
		r.Shifts = slices.DeleteFunc(slices.Clone(r.Shifts), func(s dispatch.Shift) bool { return s.Day == day && s.Start == start })
		return r
	}
	shifts := func(days []string, start, end string) dispatch.Rota {
		var r dispatch.Rota
		for _, d := range days {
			r.Shifts = append(r.Shifts, dispatch.Shift{Day: d, Start: start, End: end, Officer: "x"})
		}
		return r
	}
	plus := func(r dispatch.Rota, day, start, end string) dispatch.Rota {
		r.Shifts = append(slices.Clone(r.Shifts), dispatch.Shift{Day: day, Start: start, End: end, Officer: "x"})
		return r
	}
	week := []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
	tests := []struct {
		label string
		rota  dispatch.Rota
		want  []string
	}{
		{"example covers the week", example, nil},
		{"no saturday day shift", without("sat", "08:00"), []string{"nobody on duty from Sat 08:00 to Sat 20:00, 12 hours"}},
		{"no sunday night shift", without("sun", "20:00"), []string{"nobody on duty from Sun 20:00 to Mon 08:00, 12 hours"}},
		{"no monday night shift", without("mon", "20:00"), []string{"nobody on duty from Mon 20:00 to Tue 08:00, 12 hours"}},
		// The case (its "6 days" was off by one: Mon 20:00 to Sun
		// 20:00 is 6 days): read as "mon 20:00-sun 08:00" it looked like
		// one night; it is most of the week.
		{"only monday and sunday days", shifts([]string{"mon", "sun"}, "08:00", "20:00"), []string{
			"nobody on duty from Mon 20:00 to Sun 08:00, 5 days 12 hours",
			"nobody on duty from Sun 20:00 to Mon 08:00, 12 hours",
		}},
		{"days only", shifts(week, "08:00", "20:00"), []string{
			"nobody on duty from Mon 20:00 to Tue 08:00, 12 hours",
			"nobody on duty from Tue 20:00 to Wed 08:00, 12 hours",
			"nobody on duty from Wed 20:00 to Thu 08:00, 12 hours",
			"nobody on duty from Thu 20:00 to Fri 08:00, 12 hours",
			"nobody on duty from Fri 20:00 to Sat 08:00, 12 hours",
			"nobody on duty from Sat 20:00 to Sun 08:00, 12 hours",
			"nobody on duty from Sun 20:00 to Mon 08:00, 12 hours",
		}},
		{"weekend off", shifts(week[:5], "00:00", "24:00"), []string{"nobody on duty from Sat 00:00 to Mon 00:00, 2 days"}},
		{"only wednesday", shifts([]string{"wed"}, "00:00", "24:00"), []string{"nobody on duty from Thu 00:00 to Wed 00:00, 6 days"}},
		{"half an hour short", shifts(week, "00:00", "23:30"), []string{
			"nobody on duty from Mon 23:30 to Tue 00:00, 30 minutes",
			"nobody on duty from Tue 23:30 to Wed 00:00, 30 minutes",
			"nobody on duty from Wed 23:30 to Thu 00:00, 30 minutes",
			"nobody on duty from Thu 23:30 to Fri 00:00, 30 minutes",
			"nobody on duty from Fri 23:30 to Sat 00:00, 30 minutes",
			"nobody on duty from Sat 23:30 to Sun 00:00, 30 minutes",
			"nobody on duty from Sun 23:30 to Mon 00:00, 30 minutes",
		}},
		{"one day and an hour and a half", plus(shifts(week[:5], "00:00", "24:00"), "sat", "00:00", "22:30"),
			[]string{"nobody on duty from Sat 22:30 to Mon 00:00, 1 day 1 hour 30 minutes"}},
		{"no shifts", dispatch.Rota{}, []string{"nobody on duty all week (no shifts)"}},
		{"malformed shifts cover nothing", shifts([]string{"someday"}, "00:00", "24:00"), []string{"nobody on duty all week (no shifts)"}},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			if got := tt.rota.Gaps(); !slices.Equal(got, tt.want) {
				t.Errorf("Gaps\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestParseRotaExample(t *testing.T) {
	r := MustParseRotaFile(t, "rota-example.toml")
	if r.TimeZone != "Asia/Baku" {
		t.Errorf("TimeZone = %q, want Asia/Baku", r.TimeZone)
	}
	if len(r.Shifts) != 14 {
		t.Fatalf("got %d shifts, want 14", len(r.Shifts))
	}
	for i, want := range map[int]dispatch.Shift{
		0:  {Day: "mon", Start: "08:00", End: "20:00", Officer: leyla, Backup: aysel, Supervisor: farid},
		3:  {Day: "tue", Start: "20:00", End: "08:00", Officer: elvin, Backup: rashad, Supervisor: farid},
		13: {Day: "sun", Start: "20:00", End: "08:00", Officer: rashad, Backup: elvin, Supervisor: gunel},
	} {
		if got := r.Shifts[i]; got != want {
			t.Errorf("shift %d\n got %+v\nwant %+v", i+1, got, want)
		}
	}
	if len(r.Overrides) != 0 {
		t.Errorf("overrides from a file: %+v", r.Overrides)
	}
	if err := r.Validate(func(string) bool { return true }); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestParseRotaLenient(t *testing.T) {
	in := `# no time_zone: Asia/Baku
[[shift]]
day = "TUESDAY"
start = "8:00"
end = 20:00
officer = "  Leyla Aliyeva "

[[shift]]
Day = "Tue"
start = 20:00:00
end = "24:00"
officer = "Aysel Huseynova"
`
	r, err := dispatch.ParseRota(strings.NewReader(in), "loose.toml")
	if err != nil {
		t.Fatal(err)
	}
	want := dispatch.Rota{TimeZone: "Asia/Baku", Shifts: []dispatch.Shift{
		{Day: "tue", Start: "08:00", End: "20:00", Officer: leyla},
		{Day: "tue", Start: "20:00", End: "24:00", Officer: aysel},
	}}
	if r.TimeZone != want.TimeZone || !slices.Equal(r.Shifts, want.Shifts) {
		t.Errorf("ParseRota\n got %+v\nwant %+v", r, want)
	}
}

func TestParseRotaErrors(t *testing.T) {
	file := func(name string) string {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	const mon = "[[shift]]\nday = \"mon\"\nstart = \"08:00\"\nend = \"20:00\"\nofficer = \"Leyla Aliyeva\"\n"
	tests := []struct {
		label, name, in string
		want            []string // the error, one line each; a line ending in "..." is a prefix
	}{
		{"unknown key", "rota-unknown-key.toml", file("rota-unknown-key.toml"), []string{
			`rota-unknown-key.toml:14: shift 2: unknown key "offcer"`,
			`rota-unknown-key.toml:10: shift 2 (mon 20:00-08:00): no officer`,
		}},
		{"bad time", "rota-bad-time.toml", file("rota-bad-time.toml"), []string{
			`rota-bad-time.toml:14: shift 2 (tue 20:00-25:00): end "25:00" is not a time of day HH:MM`,
		}},
		{"unknown top-level key", "bad.toml", "timezone = \"Asia/Baku\"\n" + mon, []string{
			`bad.toml:1: unknown key "timezone"`,
		}},
		{"unknown table", "bad.toml", mon + "[overrides]\nofficer = \"x\"\n", []string{
			`bad.toml:6: unknown key "overrides"`,
		}},
		{"unknown key in every shift", "bad.toml", mon + "phone = \"+994\"\n" + mon + "phone = \"+994\"\n", []string{
			`bad.toml:6: shift 1: unknown key "phone"`,
			`bad.toml:12: shift 2: unknown key "phone"`,
			`bad.toml:7: shift 2 (mon 08:00-20:00): overlaps shift 1 (mon 08:00-20:00) on mon 08:00-20:00`,
		}},
		{"bad day", "bad.toml", strings.Replace(mon, `"mon"`, `"mondy"`, 1), []string{
			`bad.toml:2: shift 1 (mondy 08:00-20:00): day "mondy" is not a day of the week (mon..sun)`,
		}},
		{"wrong type", "bad.toml", strings.Replace(mon, `"Leyla Aliyeva"`, `42`, 1), []string{
			`bad.toml:5: shift 1 (mon 08:00-20:00): officer must be a string like "Leyla Aliyeva"`,
		}},
		{"date instead of a time", "bad.toml", strings.Replace(mon, `"08:00"`, `2026-11-24T08:00:00`, 1), []string{
			`bad.toml:3: shift 1 (mon ?-20:00): start must be a string like "08:00"`,
		}},
		{"bad time zone", "bad.toml", "time_zone = \"Asia/Bakuu\"\n" + mon, []string{
			`bad.toml:1: time_zone: "Asia/Bakuu" is not a known time zone (want an IANA name like "Asia/Baku")`,
		}},
		{"missing end", "bad.toml", strings.Replace(mon, "end = \"20:00\"\n", "", 1), []string{
			`bad.toml:1: shift 1 (mon 08:00-?): end "" is not a time of day HH:MM`,
		}},
		{"single brackets", "bad.toml", strings.Replace(mon, "[[shift]]", "[shift]", 1), []string{
			`bad.toml:1: shifts must be [[shift]] tables (two brackets), one per shift`,
		}},
		{"TOML syntax", "bad.toml", "[[shift]]\nday = \"mon\nstart = \"08:00\"\n", []string{
			`bad.toml:2: ...`,
		}},
		{"empty file", "empty.toml", "", []string{
			`empty.toml: no [[shift]] tables: nobody would ever be on duty`,
		}},
		{"too large", "big.toml", strings.Repeat("# padding\n", 110_000), []string{
			`big.toml: larger than 1048576 bytes; this is not a rota`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			_, err := dispatch.ParseRota(strings.NewReader(tt.in), tt.name)
			got := strings.Split(errString(err), "\n")
			ok := len(got) == len(tt.want)
			for i := 0; ok && i < len(got); i++ {
				if p, cut := strings.CutSuffix(tt.want[i], "..."); cut {
					ok = strings.HasPrefix(got[i], p)
				} else {
					ok = got[i] == tt.want[i]
				}
			}
			if !ok {
				t.Errorf("ParseRota\n got:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(tt.want, "\n\t"))
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	baku := MustLoadLocation(t, "Asia/Baku")
	ids := map[string]string{"o1": leyla, "o2": rashad, "o3": farid}
	name := func(id string) string { return ids[id] }
	r := dispatch.Rota{
		Shifts: []dispatch.Shift{
			{Day: "tue", Start: "08:00", End: "20:00", Officer: "o2", Supervisor: "o3"},
			{Day: "mon", Start: "20:00", End: "08:00", Officer: "o1", Backup: "o2", Supervisor: "gone"},
		},
		Overrides: []dispatch.Override{
			{ID: "ov-1", Officer: "o1", From: time.Date(2026, 11, 24, 20, 0, 0, 0, baku), To: time.Date(2026, 11, 25, 8, 0, 0, 0, baku)},
		},
	}
	want := `Rota in Asia/Baku
DAY  HOURS        OFFICER          BACKUP           SUPERVISOR
mon  20:00-08:00  Leyla Aliyeva    Rashad Mammadov  ?(gone)
tue  08:00-20:00  Rashad Mammadov  -                Farid Ismayilov
Overrides (a later one wins where they overlap):
ID    FROM                  TO                    OFFICER        BACKUP     SUPERVISOR
ov-1  2026-11-24 20:00 +04  2026-11-25 08:00 +04  Leyla Aliyeva  (shift's)  (shift's)
`
	if got := r.Describe(name); got != want {
		t.Errorf("Describe\n got:\n%s\nwant:\n%s", got, want)
	}
	empty := "Rota in Europe/Berlin\nNo shifts.\nNo overrides.\n"
	if got := (dispatch.Rota{TimeZone: "Europe/Berlin"}).Describe(name); got != empty {
		t.Errorf("Describe of an empty rota\n got:\n%s\nwant:\n%s", got, empty)
	}
}

func TestDescribeExample(t *testing.T) {
	got := MustParseRotaFile(t, "rota-example.toml").Describe(func(id string) string { return id })
	for _, line := range []string{
		"mon  08:00-20:00  Leyla Aliyeva    Aysel Huseynova  Farid Ismayilov",
		"sun  20:00-08:00  Rashad Mammadov  Elvin Guliyev    Gunel Abbasova",
	} {
		if !strings.Contains(got, line+"\n") {
			t.Errorf("Describe: no line %q in\n%s", line, got)
		}
	}
}

// FuzzParseRota checks that no input makes ParseRota, or the methods on
// what it returns, panic. Seeds are in testdata/fuzz/FuzzParseRota.
func FuzzParseRota(f *testing.F) {
	f.Add([]byte("[[shift]]\nday = \"sun\"\nstart = \"20:00\"\nend = \"08:00\"\nofficer = \"a\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := dispatch.ParseRota(bytes.NewReader(data), "fuzz.toml")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.toml") {
				t.Errorf("error does not name the file: %v", err)
			}
			return
		}
		if err := r.Validate(nil); err != nil {
			t.Errorf("ParseRota accepted a rota that Validate rejects: %v", err)
		}
		now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
		for h := range 7 * 24 {
			if d := r.OnDuty(now.Add(time.Duration(h) * time.Hour)); d.Officer != "" && !d.Until.After(now.Add(time.Duration(h)*time.Hour)) {
				t.Errorf("OnDuty: %+v ends before it starts", d)
			}
		}
		r.Gaps()
		r.Describe(func(id string) string { return id })
	})
}
