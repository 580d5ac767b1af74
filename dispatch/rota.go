package dispatch

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	// The zone database is compiled in so that OnDuty works in a container
	// without /usr/share/zoneinfo: a missing zone must never keep a P1 tip
	// from waking the duty officer.
	_ "time/tzdata"

	"github.com/BurntSushi/toml"
)

// DefaultTimeZone is the zone a rota's wall-clock times are read in when
// Rota.TimeZone is empty.
const DefaultTimeZone = "Asia/Baku"

// Limits that keep a malformed or hostile rota from costing much to check.
const (
	// MaxShifts bounds the shifts in a rota: a week has 168 hours.
	MaxShifts = 500
	// MaxOverride is the longest an override may last.
	MaxOverride = 31 * 24 * time.Hour
	// maxRotaFile bounds what ParseRota reads.
	maxRotaFile = 1 << 20
)

// Shift is one weekly duty period in the rota's time zone.
type Shift struct {
	Day        string `toml:"day" json:"day"`               // "mon".."sun"; full names and any case accepted on input
	Start      string `toml:"start" json:"start"`           // "HH:MM", 24h local time
	End        string `toml:"end" json:"end"`               // "HH:MM" or "24:00"; End <= Start runs past midnight into the next day
	Officer    string `toml:"officer" json:"officer"`       // officer id (required)
	Backup     string `toml:"backup" json:"backup"`         // officer id (optional)
	Supervisor string `toml:"supervisor" json:"supervisor"` // officer id (optional)
}

// Override puts someone on duty instead of the rota for a while, e.g. when
// an officer is ill. It covers From (inclusive) to To (exclusive).
type Override struct {
	ID      string `json:"id"`
	Officer string `json:"officer"` // who is on duty instead
	// Backup and Supervisor replace the underlying shift's when set; when
	// empty, the shift's stay.
	Backup     string    `json:"backup,omitempty"`
	Supervisor string    `json:"supervisor,omitempty"`
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
}

// Rota is the weekly duty rota in one time zone, with one-off overrides.
// Shifts hold officer ids, except straight out of ParseRota, where they
// hold names as an admin wrote them.
//
// A Rota is a value: its methods never modify it, and the ones that return
// a Rota return a copy that shares nothing they changed.
type Rota struct {
	TimeZone  string     `toml:"time_zone" json:"time_zone"`
	Shifts    []Shift    `toml:"shift" json:"shifts"`
	Overrides []Override `toml:"-" json:"overrides"`
}

// Duty is who answers at an instant. Empty strings mean nobody.
type Duty struct {
	Officer, Backup, Supervisor string
	// Source says where the duty comes from, for people:
	// "shift tue 20:00-08:00" or "override <id> until 2026-11-28 08:00 +04".
	Source string
	// Until is when this assignment may next change: the end of the shift
	// or override, or the start of an override that takes over, whichever
	// comes first. Zero if nothing will ever change it.
	Until time.Time
}

const (
	minutesPerDay  = 24 * 60
	minutesPerWeek = 7 * minutesPerDay
)

var dayNames = [7]string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

var fullDayNames = [7]string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}

// parseDay returns 0 for Monday .. 6 for Sunday.
func parseDay(s string) (int, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for i := range dayNames {
		if s == dayNames[i] || s == fullDayNames[i] {
			return i, true
		}
	}
	return 0, false
}

// parseClock returns minutes after midnight for "H:MM" or "HH:MM";
// "24:00" only if end is set.
func parseClock(s string, end bool) (int, bool) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || len(h) < 1 || len(h) > 2 || len(m) != 2 || !isDigits(h) || !isDigits(m) {
		return 0, false
	}
	hh, _ := strconv.Atoi(h)
	mm, _ := strconv.Atoi(m)
	switch {
	case hh == 24 && mm == 0 && end:
		return minutesPerDay, true
	case hh > 23 || mm > 59:
		return 0, false
	}
	return hh*60 + mm, true
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func formatClock(min int) string { return fmt.Sprintf("%02d:%02d", min/60, min%60) }

// span is a shift resolved onto the week: minutes after Monday 00:00.
// 0 <= start < minutesPerWeek and start < end <= start+minutesPerDay, so
// end may run past the end of the week into the next Monday.
type span struct {
	index      int // in Rota.Shifts
	start, end int
}

// segments splits s at the end of the week.
func (s span) segments() [][2]int {
	if s.end <= minutesPerWeek {
		return [][2]int{{s.start, s.end}}
	}
	return [][2]int{{s.start, minutesPerWeek}, {0, s.end - minutesPerWeek}}
}

// resolve reads the day and times of sh. ok is false if any is malformed
// or the shift is empty.
func (sh Shift) resolve(index int) (s span, ok bool) {
	day, okDay := parseDay(sh.Day)
	start, okStart := parseClock(sh.Start, false)
	end, okEnd := parseClock(sh.End, true)
	if !okDay || !okStart || !okEnd || start == end {
		return span{}, false
	}
	if end <= start {
		end += minutesPerDay
	}
	return span{index: index, start: day*minutesPerDay + start, end: day*minutesPerDay + end}, true
}

// String names the shift by its day and hours, canonically when they parse
// and as written otherwise: "tue 20:00-08:00".
func (sh Shift) String() string {
	orQ := func(s string) string {
		if s = strings.TrimSpace(s); s == "" {
			return "?"
		}
		return s
	}
	day, start, end := orQ(sh.Day), orQ(sh.Start), orQ(sh.End)
	if d, ok := parseDay(sh.Day); ok {
		day = dayNames[d]
	}
	if m, ok := parseClock(sh.Start, false); ok {
		start = formatClock(m)
	}
	if m, ok := parseClock(sh.End, true); ok {
		end = formatClock(m)
	}
	return day + " " + start + "-" + end
}

// spans resolves the well-formed shifts of r, in slice order.
func (r Rota) spans() []span {
	out := make([]span, 0, len(r.Shifts))
	for i, sh := range r.Shifts {
		if s, ok := sh.resolve(i); ok {
			out = append(out, s)
		}
	}
	return out
}

// location loads r's zone. If that fails (Validate reports it) the default
// zone is used, so that a bad zone shifts the rota rather than emptying it.
func (r Rota) location() *time.Location {
	loc, err := loadZone(r.TimeZone)
	if err != nil {
		loc, err = time.LoadLocation(DefaultTimeZone)
	}
	if err != nil { // not with time/tzdata compiled in; Baku has kept +04 since 2016
		loc = time.FixedZone("+04", 4*60*60)
	}
	return loc
}

func loadZone(name string) (*time.Location, error) {
	switch strings.TrimSpace(name) {
	case "":
		name = DefaultTimeZone
	case "Local":
		return nil, errors.New(`"Local" depends on the server's settings; name a zone like "Asia/Baku"`)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("%q is not a known time zone (want an IANA name like %q)", name, DefaultTimeZone)
	}
	return loc, nil
}

// instants returns when s starts and ends in the week whose Monday is the
// local date y-m-monday. Both ends are local wall-clock times resolved in loc
// by time.Date, so a shift boundary moves with daylight saving time and two
// shifts that meet on the wall clock meet in real time too.
func (s span) instants(y int, m time.Month, monday int, loc *time.Location) (start, end time.Time) {
	at := func(min int) time.Time {
		c := min % minutesPerDay
		return time.Date(y, m, monday+min/minutesPerDay, c/60, c%60, 0, 0, loc)
	}
	return at(s.start), at(s.end)
}

// occurrences calls f with the start and end of each span in t's week
// (Monday to Sunday in loc) and in the weeks before and after it.
func occurrences(spans []span, t time.Time, loc *time.Location, f func(s span, start, end time.Time)) {
	lt := t.In(loc)
	y, m, d := lt.Date()
	monday := d - (int(lt.Weekday())+6)%7
	for week := -1; week <= 1; week++ {
		for _, s := range spans {
			start, end := s.instants(y, m, monday+7*week, loc)
			f(s, start, end)
		}
	}
}

// shiftAt returns the shift covering t: start inclusive, end exclusive.
// If shifts overlap (Validate reports it) the first in the slice wins.
func shiftAt(spans []span, t time.Time, loc *time.Location) (s span, start, end time.Time, ok bool) {
	best := -1
	occurrences(spans, t, loc, func(o span, os, oe time.Time) {
		if !t.Before(os) && t.Before(oe) && (best < 0 || o.index < best) {
			s, start, end, ok, best = o, os, oe, true, o.index
		}
	})
	return s, start, end, ok
}

// nextShiftStart returns the first shift start after t, or zero.
func nextShiftStart(spans []span, t time.Time, loc *time.Location) time.Time {
	var next time.Time
	occurrences(spans, t, loc, func(_ span, start, _ time.Time) {
		if start.After(t) && (next.IsZero() || start.Before(next)) {
			next = start
		}
	})
	return next
}

func (o Override) covers(t time.Time) bool {
	return o.Officer != "" && !t.Before(o.From) && t.Before(o.To)
}

// earlier returns the earlier of a and b, treating zero as "never".
func earlier(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// OnDuty returns who answers at t. An override covering t wins over the
// shifts; of several, the last in the slice (the latest created) wins.
// Overrides without an officer are ignored. An override with no backup or
// supervisor keeps the underlying shift's, except that a backup who is the
// override's officer is dropped rather than paged twice.
//
// Shift times are wall-clock times in the rota's zone, resolved per date, so
// a night shift on a daylight-saving night is an hour shorter or longer.
func (r Rota) OnDuty(t time.Time) Duty {
	loc := r.location()
	spans := r.spans()
	s, _, shiftEnd, inShift := shiftAt(spans, t, loc)
	var sh Shift
	if inShift {
		sh = r.Shifts[s.index]
	}

	active := -1
	for i, o := range r.Overrides {
		if o.covers(t) {
			active = i
		}
	}
	// takeover returns when the first override after index `after` that
	// would displace the current duty starts, or zero.
	takeover := func(after int) time.Time {
		var next time.Time
		for _, o := range r.Overrides[after+1:] {
			if o.Officer != "" && o.From.After(t) && o.To.After(o.From) {
				next = earlier(next, o.From)
			}
		}
		return next
	}

	if active >= 0 {
		o := r.Overrides[active]
		d := Duty{
			Officer:    o.Officer,
			Backup:     o.Backup,
			Supervisor: o.Supervisor,
			Source:     fmt.Sprintf("override %s until %s", o.ID, formatInstant(o.To, loc)),
			Until:      o.To,
		}
		if o.Backup == "" || o.Supervisor == "" {
			if d.Backup == "" {
				d.Backup = sh.Backup
			}
			if d.Supervisor == "" {
				d.Supervisor = sh.Supervisor
			}
			if inShift {
				d.Until = earlier(d.Until, shiftEnd)
			} else {
				d.Until = earlier(d.Until, nextShiftStart(spans, t, loc))
			}
		}
		if d.Backup == d.Officer {
			d.Backup = ""
		}
		d.Until = earlier(d.Until, takeover(active))
		return d
	}
	if inShift {
		return Duty{
			Officer:    sh.Officer,
			Backup:     sh.Backup,
			Supervisor: sh.Supervisor,
			Source:     "shift " + sh.String(),
			Until:      earlier(shiftEnd, takeover(-1)),
		}
	}
	return Duty{
		Source: "no shift or override covers this time",
		Until:  earlier(nextShiftStart(spans, t, loc), takeover(-1)),
	}
}

// formatInstant writes t in loc as "2026-11-28 08:00 +04".
func formatInstant(t time.Time, loc *time.Location) string {
	t = t.In(loc)
	if _, off := t.Zone(); off%3600 != 0 {
		return t.Format("2006-01-02 15:04 -0700")
	}
	return t.Format("2006-01-02 15:04 -07")
}

// formatSpan names a stretch of the week: "sat 08:00-20:00",
// "sat 08:00-24:00" or, when it ends on a later day, "sat 20:00-sun 08:00".
func formatSpan(start, end int) string {
	day := start / minutesPerDay
	from := dayNames[day] + " " + formatClock(start%minutesPerDay)
	if end <= (day+1)*minutesPerDay {
		return from + "-" + formatClock(end-day*minutesPerDay)
	}
	return from + "-" + dayNames[(end/minutesPerDay)%7] + " " + formatClock(end%minutesPerDay)
}

// formatGap says when a gap of the week starts and ends, and how long it
// is: "nobody on duty from Mon 20:00 to Sun 08:00, 6 days 12 hours". The
// length is spelt out because "mon 20:00-sun 08:00" reads as a few hours.
func formatGap(start, end int) string {
	at := func(m int) string {
		m %= minutesPerWeek
		day := dayNames[m/minutesPerDay]
		return strings.ToUpper(day[:1]) + day[1:] + " " + formatClock(m%minutesPerDay)
	}
	return fmt.Sprintf("nobody on duty from %s to %s, %s", at(start), at(end), formatLength(end-start))
}

// formatLength writes a number of minutes as "6 days 12 hours 30 minutes",
// leaving out the parts that are zero.
func formatLength(minutes int) string {
	var parts []string
	for _, u := range []struct {
		size int
		name string
	}{{minutesPerDay, "day"}, {60, "hour"}, {1, "minute"}} {
		n := minutes / u.size
		minutes %= u.size
		switch {
		case n == 1:
			parts = append(parts, "1 "+u.name)
		case n > 1:
			parts = append(parts, fmt.Sprintf("%d %ss", n, u.name))
		}
	}
	return strings.Join(parts, " ")
}

// Gaps describes the stretches of the week that no shift covers, e.g.
// "nobody on duty from Sat 08:00 to Sat 20:00, 12 hours", in order from
// Monday 00:00. A gap
// over the end of the week is one gap, listed where it starts. Malformed
// shifts count for nothing; overrides are not considered.
func (r Rota) Gaps() []string {
	var segs [][2]int
	for _, s := range r.spans() {
		segs = append(segs, s.segments()...)
	}
	if len(segs) == 0 {
		return []string{"nobody on duty all week (no shifts)"}
	}
	slices.SortFunc(segs, func(a, b [2]int) int { return cmp.Compare(a[0], b[0]) })
	var gaps [][2]int
	covered := 0 // the week is covered up to here
	for _, g := range segs {
		if g[0] > covered {
			gaps = append(gaps, [2]int{covered, g[0]})
		}
		covered = max(covered, g[1])
	}
	if covered < minutesPerWeek {
		gaps = append(gaps, [2]int{covered, minutesPerWeek})
	}
	// Join a gap at the end of the week to one at its start.
	if n := len(gaps); n >= 2 && gaps[0][0] == 0 && gaps[n-1][1] == minutesPerWeek {
		gaps[n-1][1] += gaps[0][1]
		gaps = gaps[1:]
	}
	out := make([]string, 0, len(gaps))
	for _, g := range gaps {
		out = append(out, formatGap(g[0], g[1]))
	}
	return out
}

// problem is one thing wrong with a rota. shift is an index into
// Rota.Shifts, or -1 if the problem is not about a shift.
type problem struct {
	shift int
	field string // the TOML key at fault, to find its line; may be empty
	msg   string
}

// problems finds everything wrong with r. known may be nil: ids are then
// not checked (ParseRota's shifts hold names).
func (r Rota) problems(known func(id string) bool) []problem {
	var ps []problem
	add := func(shift int, field, format string, args ...any) {
		ps = append(ps, problem{shift: shift, field: field, msg: fmt.Sprintf(format, args...)})
	}
	if _, err := loadZone(r.TimeZone); err != nil {
		add(-1, "time_zone", "time_zone: %v", err)
	}
	checkID := func(shift int, field, id string) {
		if id != "" && known != nil && !known(id) {
			add(shift, field, "%s %q is not a known officer", field, id)
		}
	}
	for i, sh := range r.Shifts {
		_, okDay := parseDay(sh.Day)
		start, okStart := parseClock(sh.Start, false)
		end, okEnd := parseClock(sh.End, true)
		if !okDay {
			add(i, "day", "day %q is not a day of the week (mon..sun)", sh.Day)
		}
		if !okStart {
			if _, ok := parseClock(sh.Start, true); ok {
				add(i, "start", "start %q: only an end may be 24:00", sh.Start)
			} else {
				add(i, "start", "start %q is not a time of day HH:MM", sh.Start)
			}
		}
		if !okEnd {
			add(i, "end", "end %q is not a time of day HH:MM", sh.End)
		}
		if okStart && okEnd && start == end {
			add(i, "end", "starts and ends at %s: the shift is empty", formatClock(start))
		}
		if strings.TrimSpace(sh.Officer) == "" {
			add(i, "officer", "no officer")
		}
		checkID(i, "officer", sh.Officer)
		checkID(i, "backup", sh.Backup)
		checkID(i, "supervisor", sh.Supervisor)
		if sh.Officer != "" && sh.Backup == sh.Officer {
			add(i, "backup", "backup is the same as the officer")
		}
	}
	if len(r.Shifts) > MaxShifts {
		add(-1, "", "%d shifts is too many (at most %d)", len(r.Shifts), MaxShifts)
	} else {
		// Report each overlapping pair once, on the later shift.
		spans := r.spans()
		for j, b := range spans {
			for _, a := range spans[:j] {
				if from, to, ok := overlap(a, b); ok {
					add(b.index, "", "overlaps shift %d (%s) on %s", a.index+1, r.Shifts[a.index], formatSpan(from, to))
				}
			}
		}
	}
	loc := r.location()
	for i, o := range r.Overrides {
		p := func(format string, args ...any) {
			add(-1, "", "%s: %s", o.label(i), fmt.Sprintf(format, args...))
		}
		switch {
		case o.From.IsZero() || o.To.IsZero():
			p("needs both a start and an end")
		case !o.To.After(o.From):
			p("must end after it starts (from %s to %s)", formatInstant(o.From, loc), formatInstant(o.To, loc))
		case o.To.Sub(o.From) > MaxOverride:
			p("lasts %s; at most %d days", formatDuration(o.To.Sub(o.From)), MaxOverride/(24*time.Hour))
		}
		if o.Officer == "" {
			p("no officer")
		}
		for _, f := range [][2]string{{"officer", o.Officer}, {"backup", o.Backup}, {"supervisor", o.Supervisor}} {
			if f[1] != "" && known != nil && !known(f[1]) {
				p("%s %q is not a known officer", f[0], f[1])
			}
		}
		if o.Officer != "" && o.Backup == o.Officer {
			p("backup is the same as the officer")
		}
	}
	return ps
}

// overlap returns the first stretch of the week where a and b both run.
func overlap(a, b span) (from, to int, ok bool) {
	for _, x := range a.segments() {
		for _, y := range b.segments() {
			if lo, hi := max(x[0], y[0]), min(x[1], y[1]); lo < hi {
				return lo, hi, true
			}
		}
	}
	return 0, 0, false
}

func (o Override) label(i int) string {
	if o.ID == "" {
		return fmt.Sprintf("override #%d", i+1)
	}
	return "override " + o.ID
}

func formatDuration(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	return d.Round(time.Minute).String()
}

func shiftLabel(r Rota, i int) string {
	return fmt.Sprintf("shift %d (%s)", i+1, r.Shifts[i])
}

// Validate reports every problem with r at once, joined with errors.Join,
// one line each. Shifts are numbered from 1 as in the file they came from:
// "shift 3 (tue 20:00-08:00): overlaps shift 2 (tue 08:00-22:00) on tue
// 20:00-22:00". It checks days, times, empty shifts, officer ids (known
// reports whether an id exists; nil skips the check), an officer who is
// their own backup, shifts that overlap on the weekly wall clock (across
// midnight and from Sunday into Monday too), the time zone, and overrides:
// both ends set, To after From, at most MaxOverride long, officer known.
func (r Rota) Validate(known func(id string) bool) error {
	var errs []error
	for _, p := range r.problems(known) {
		if p.shift >= 0 {
			errs = append(errs, fmt.Errorf("%s: %s", shiftLabel(r, p.shift), p.msg))
		} else {
			errs = append(errs, errors.New(p.msg))
		}
	}
	return errors.Join(errs...)
}

// WithOverride returns a copy of r with o appended: o wins over every
// override already there.
func (r Rota) WithOverride(o Override) Rota {
	r.Overrides = append(slices.Clip(r.Overrides), o)
	return r
}

// PruneOverrides returns a copy of r without the overrides that have ended
// by now (To <= now), keeping the order of the rest.
func (r Rota) PruneOverrides(now time.Time) Rota {
	kept := make([]Override, 0, len(r.Overrides))
	for _, o := range r.Overrides {
		if o.To.After(now) {
			kept = append(kept, o)
		}
	}
	r.Overrides = kept
	return r
}

// Describe lays out the week, one shift a line in weekly order, and the
// overrides in r, for people. name turns an id into something to show; an
// id it returns "" for is shown as "?(id)". Gaps are not included: see Gaps.
func (r Rota) Describe(name func(id string) string) string {
	show := func(id string) string {
		switch {
		case id == "":
			return "-"
		case name == nil:
			return id
		}
		if n := name(id); n != "" {
			return n
		}
		return "?(" + id + ")"
	}
	loc := r.location()
	zone := strings.TrimSpace(r.TimeZone)
	if zone == "" {
		zone = DefaultTimeZone
	}

	var b bytes.Buffer
	fmt.Fprintf(&b, "Rota in %s\n", zone)
	if len(r.Shifts) == 0 {
		b.WriteString("No shifts.\n")
	} else {
		// Weekly order; malformed shifts last, in file order.
		order := make([]int, len(r.Shifts))
		key := make([]int, len(r.Shifts))
		for i, sh := range r.Shifts {
			order[i] = i
			key[i] = minutesPerWeek
			if s, ok := sh.resolve(i); ok {
				key[i] = s.start
			}
		}
		slices.SortStableFunc(order, func(i, j int) int { return cmp.Compare(key[i], key[j]) })
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "DAY\tHOURS\tOFFICER\tBACKUP\tSUPERVISOR")
		for _, i := range order {
			sh := r.Shifts[i]
			day, hours, _ := strings.Cut(sh.String(), " ")
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", day, hours, show(sh.Officer), show(sh.Backup), show(sh.Supervisor))
		}
		tw.Flush()
	}
	if len(r.Overrides) == 0 {
		b.WriteString("No overrides.\n")
		return b.String()
	}
	b.WriteString("Overrides (a later one wins where they overlap):\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tFROM\tTO\tOFFICER\tBACKUP\tSUPERVISOR")
	for _, o := range r.Overrides {
		backup, super := "(shift's)", "(shift's)"
		if o.Backup != "" {
			backup = show(o.Backup)
		}
		if o.Supervisor != "" {
			super = show(o.Supervisor)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", o.ID, formatInstant(o.From, loc), formatInstant(o.To, loc), show(o.Officer), backup, super)
	}
	tw.Flush()
	return b.String()
}

// fileRota is the TOML form of a rota. Values are decoded as any so that a
// wrong type is reported with its shift, and so that a TOML time of day
// (start = 08:00, unquoted) can be accepted. Shifts is decoded in a second
// step so that "[shift]" for "[[shift]]" gets an error of its own.
type fileRota struct {
	TimeZone any            `toml:"time_zone"`
	Shifts   toml.Primitive `toml:"shift"`
}

type fileShift struct {
	Day        any `toml:"day"`
	Start      any `toml:"start"`
	End        any `toml:"end"`
	Officer    any `toml:"officer"`
	Backup     any `toml:"backup"`
	Supervisor any `toml:"supervisor"`
}

// ParseRota reads a rota file for `hotline rota import`:
//
//	time_zone = "Asia/Baku"   # optional; this is the default
//
//	[[shift]]
//	day = "mon"
//	start = "08:00"
//	end = "20:00"
//	officer = "Leyla Aliyeva"
//	backup = "Rashad Mammadov"    # optional
//	supervisor = "Aysel Huseynova" # optional
//
// The officer fields hold names as written; the caller resolves them to ids
// and then calls Validate with its id check. ParseRota reports every other
// problem at once: TOML syntax, unknown keys, wrong types and everything
// Validate checks but ids. Each error begins with name and, where it can
// be found, the line: "rota.toml:9: shift 2 (mon 20:00-25:00): end ...".
// Errors never repeat an officer's name.
// Days come back as "mon".."sun", times as "HH:MM", names trimmed, and an
// empty time zone as DefaultTimeZone.
func ParseRota(r io.Reader, name string) (Rota, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxRotaFile+1))
	if err != nil {
		return Rota{}, fmt.Errorf("%s: %w", name, err)
	}
	if len(data) > maxRotaFile {
		return Rota{}, fmt.Errorf("%s: larger than %d bytes; this is not a rota", name, maxRotaFile)
	}
	var f fileRota
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&f)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) && pe.Position.Line > 0 {
			return Rota{}, fmt.Errorf("%s:%d: %s", name, pe.Position.Line, pe.Message)
		}
		return Rota{}, fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "toml: "))
	}
	lines := scanKeys(data)
	at := func(line int) string {
		if line > 0 {
			return fmt.Sprintf("%s:%d", name, line)
		}
		return name
	}
	var shifts []fileShift
	if err := md.PrimitiveDecode(f.Shifts, &shifts); err != nil {
		line := 0
		if i := slices.IndexFunc(lines, func(l keyLine) bool { return l.table == "" && l.key == "shift" }); i >= 0 {
			line = lines[i].line
		}
		return Rota{}, fmt.Errorf("%s: shifts must be [[shift]] tables (two brackets), one per shift", at(line))
	}
	var errs []error

	// Unknown keys, each once per place it occurs; none under another.
	var reported []toml.Key
	for _, k := range md.Undecoded() {
		if slices.ContainsFunc(reported, func(p toml.Key) bool { return isPrefix(p, k) }) {
			continue
		}
		reported = append(reported, k)
		table, key := "", k[0]
		if len(k) == 2 && k[0] == "shift" {
			table, key = k[0], k[1]
		}
		placed := false
		for _, l := range lines {
			if l.table == table && l.key == key {
				placed = true
				where := ""
				if l.shift > 0 {
					where = fmt.Sprintf("shift %d: ", l.shift)
				}
				errs = append(errs, fmt.Errorf("%s: %sunknown key %q", at(l.line), where, key))
			}
		}
		if !placed {
			errs = append(errs, fmt.Errorf("%s: unknown key %q", name, k.String()))
		}
	}

	rota := Rota{Shifts: make([]Shift, len(shifts))}
	var found []problem // wrong types first, then what problems finds
	str := func(shift int, field string, v any) string {
		switch v := v.(type) {
		case nil:
			return ""
		case string:
			return strings.TrimSpace(v)
		case time.Time:
			// A TOML local time (start = 08:00) comes as a time on 0000-01-01.
			if (field == "start" || field == "end") && v.Year() == 0 && v.YearDay() == 1 && v.Second() == 0 && v.Nanosecond() == 0 {
				return v.Format("15:04")
			}
		}
		found = append(found, problem{shift: shift, field: field, msg: fmt.Sprintf("%s must be a string like %q", field, example[field])})
		return ""
	}
	rota.TimeZone = str(-1, "time_zone", f.TimeZone)
	if rota.TimeZone == "" {
		rota.TimeZone = DefaultTimeZone
	}
	for i, fs := range shifts {
		sh := Shift{
			Day:        str(i, "day", fs.Day),
			Start:      str(i, "start", fs.Start),
			End:        str(i, "end", fs.End),
			Officer:    str(i, "officer", fs.Officer),
			Backup:     str(i, "backup", fs.Backup),
			Supervisor: str(i, "supervisor", fs.Supervisor),
		}
		if d, ok := parseDay(sh.Day); ok {
			sh.Day = dayNames[d]
		}
		if m, ok := parseClock(sh.Start, false); ok {
			sh.Start = formatClock(m)
		}
		if m, ok := parseClock(sh.End, true); ok {
			sh.End = formatClock(m)
		}
		rota.Shifts[i] = sh
	}
	if len(rota.Shifts) == 0 {
		errs = append(errs, fmt.Errorf("%s: no [[shift]] tables: nobody would ever be on duty", name))
	}

	// lineOf finds the line of the key at fault, or else of its [[shift]].
	lineOf := func(p problem) int {
		table, n := "", 0
		if p.shift >= 0 {
			table, n = "shift", p.shift+1
		}
		header := 0
		for _, l := range lines {
			switch {
			case l.table != table || l.shift != n:
			case p.field != "" && l.key == p.field:
				return l.line
			case l.key == "" && header == 0:
				header = l.line
			}
		}
		return header
	}
	typeErrs := len(found)
	mistyped := func(p problem) bool {
		return slices.ContainsFunc(found[:typeErrs], func(q problem) bool { return q.shift == p.shift && q.field == p.field })
	}
	for _, p := range rota.problems(nil) {
		if !mistyped(p) {
			found = append(found, p)
		}
	}
	for _, p := range found {
		msg := p.msg
		if p.shift >= 0 {
			msg = shiftLabel(rota, p.shift) + ": " + msg
		}
		errs = append(errs, fmt.Errorf("%s: %s", at(lineOf(p)), msg))
	}
	if err := errors.Join(errs...); err != nil {
		return Rota{}, err
	}
	return rota, nil
}

var example = map[string]string{
	"time_zone":  DefaultTimeZone,
	"day":        "tue",
	"start":      "08:00",
	"end":        "20:00",
	"officer":    "Leyla Aliyeva",
	"backup":     "Rashad Mammadov",
	"supervisor": "Aysel Huseynova",
}

func isPrefix(p, k toml.Key) bool {
	return len(p) <= len(k) && slices.Equal(p, k[:len(p)])
}

// keyLine is where a key (or, with key "", a [[shift]] header) is written.
type keyLine struct {
	line  int
	table string // "" at the top level
	shift int    // 1-based [[shift]] number, or 0 outside one
	key   string // "" for a table header
}

// scanKeys finds the lines of table headers and simple "key = value" lines,
// only to point error messages at a line; TOML itself is parsed by the toml
// package. Keys it cannot place (dotted, inside multi-line strings) are
// reported without a line.
func scanKeys(data []byte) []keyLine {
	var out []keyLine
	table, shift := "", 0
	for i, raw := range strings.Split(string(data), "\n") {
		l := strings.TrimSpace(raw)
		switch {
		case l == "" || l[0] == '#':
		case strings.HasPrefix(l, "[["):
			name, _, _ := strings.Cut(l[2:], "]]")
			table, shift = unquote(name), 0
			if table == "shift" {
				shift = countShift(out) + 1
				out = append(out, keyLine{line: i + 1, table: table, shift: shift})
			} else {
				out = append(out, keyLine{line: i + 1, key: table})
			}
		case l[0] == '[':
			name, _, _ := strings.Cut(l[1:], "]")
			table, shift = unquote(name), 0
			out = append(out, keyLine{line: i + 1, key: table})
		default:
			if key, _, ok := strings.Cut(l, "="); ok {
				out = append(out, keyLine{line: i + 1, table: table, shift: shift, key: unquote(key)})
			}
		}
	}
	return out
}

func countShift(ls []keyLine) int {
	n := 0
	for _, l := range ls {
		if l.table == "shift" && l.key == "" {
			n++
		}
	}
	return n
}

func unquote(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}
