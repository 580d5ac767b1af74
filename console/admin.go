package console

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/config"
	"github.com/hotline-az/hotline/dispatch"
	"github.com/hotline-az/hotline/store"
)

// AdminSocketName is the admin socket's file name in the data directory.
const AdminSocketName = "admin.sock"

// maxNameLen bounds an officer's name, in characters.
const maxNameLen = 100

// AdminService is what an admin can do: manage officers and the duty rota,
// and see alerts. *Admin does it in-process on an open store; *AdminClient
// asks a running server over its admin socket, with the same results and
// the same errors.
//
// Security contract: callers are trusted admins (the socket is 0600 in the
// data directory), so names and phone numbers cross this interface, but no
// implementation logs them. Errors the caller made are *hotline.Error with
// messages safe to show, naming the command-line flag at fault ("--phone:
// ..."); an officer is named in a message only to the admin who asked.
// Alerts carry no tip content.
type AdminService interface {
	// AddOfficer registers an officer. The phone number is normalised to
	// E.164 (national Azerbaijani numbers are accepted). The phone in the
	// result is masked.
	AddOfficer(ctx context.Context, name, phone, role string) (OfficerView, error)
	// ListOfficers lists officers by name, phones masked unless withPhones.
	ListOfficers(ctx context.Context, withPhones bool) ([]OfficerView, error)
	// RemoveOfficer removes an officer, refusing while they are in a shift
	// or in an override that has not ended.
	RemoveOfficer(ctx context.Context, name string) error
	// UpdateOfficer changes an officer's name, role or number; the rota
	// follows the officer. A new number gets a verification code by SMS
	// and takes alerts only once the officer texts it back, unless
	// u.NoVerify (audited).
	UpdateOfficer(ctx context.Context, u OfficerUpdate) (OfficerView, error)
	// TestOfficer queues a test SMS and a test call to the officer named
	// name (no alert, no case; audited); the running server sends them.
	TestOfficer(ctx context.Context, name string) (OfficerTestView, error)
	// OfficerTestResult says where a test's SMS and call are now.
	OfficerTestResult(ctx context.Context, smsJob, callJob string) (OfficerTestView, error)
	// RotaZone names the rota's time zone (an IANA name like Asia/Baku).
	RotaZone(ctx context.Context) (string, error)
	// RotaShow lays out the rota and says who is on duty at at (the zero
	// time means now).
	RotaShow(ctx context.Context, at time.Time) (RotaView, error)
	// RotaSet adds a shift, or changes the shift on the same day and
	// start: fields left empty keep their value, and "none" clears a
	// backup or supervisor.
	RotaSet(ctx context.Context, shift ShiftSpec) (RotaView, error)
	// RotaRemoveShift removes the weekly shift on day starting at start.
	RotaRemoveShift(ctx context.Context, day, start string) (RotaView, error)
	// RotaCancelOverride removes an override by id, ended or not, and
	// returns it.
	RotaCancelOverride(ctx context.Context, id string) (OverrideView, error)
	// RotaOverride puts an officer (and optionally a backup) on duty from
	// from to to, whatever the shifts say.
	RotaOverride(ctx context.Context, officer, backup string, from, to time.Time) (OverrideView, error)
	// RotaImport replaces the shifts with those of a rota file (see
	// dispatch.ParseRota); name is the file's name for messages.
	// Overrides that have not ended are kept.
	RotaImport(ctx context.Context, name string, file io.Reader) (RotaView, error)
	// Alerts lists every alert, newest first, with its delivery attempts.
	Alerts(ctx context.Context) ([]AlertView, error)
	// AlertAction acknowledges or closes alert number as officer "as", or
	// reopens or escalates it, and returns the alert afterwards. action is
	// ack, close, reopen or escalate.
	AlertAction(ctx context.Context, number int, action, as string) (AlertView, error)
	// Stats counts cases, messages, alerts and outbox jobs from plaintext
	// metadata only.
	Stats(ctx context.Context) (store.Stats, error)
	// SetPassword sets an officer's console password (Argon2id, sealed)
	// and ends their sessions.
	SetPassword(ctx context.Context, name, password string) error
	// ResetTOTP makes an officer enrol TOTP again at their next login
	// and ends their sessions.
	ResetTOTP(ctx context.Context, name string) error
	// AuditList returns the audit log from since (zero: all), oldest first.
	AuditList(ctx context.Context, since time.Time) ([]AuditEntryView, error)
	// AuditVerify checks the audit log's hash chain.
	AuditVerify(ctx context.Context) (AuditReport, error)
	// Cases lists cases (metadata only), P1 first, then oldest.
	Cases(ctx context.Context, openOnly bool) ([]CaseView, error)
	// ShowCase opens one case with its messages and notes; audited.
	ShowCase(ctx context.Context, code string) (CaseDetail, error)
}

var (
	_ AdminService = (*Admin)(nil)
	_ AdminService = (*AdminClient)(nil)
)

// OfficerView is an officer as an admin sees one.
type OfficerView struct {
	ID   string       `json:"id"`
	Name string       `json:"name"`
	Role hotline.Role `json:"role"`
	// Phone is E.164, masked (+99450*****01) unless full numbers were asked for.
	Phone     string    `json:"phone"`
	CreatedAt time.Time `json:"created_at"`
	// PendingPhone is a new number waiting for the officer to text back
	// its code (masked like Phone), until VerifyExpires.
	PendingPhone  string     `json:"pending_phone,omitempty"`
	VerifyExpires *time.Time `json:"verify_expires,omitempty"`
}

// ShiftSpec is a weekly shift with officers by name.
type ShiftSpec struct {
	Day        string `json:"day"`   // mon..sun
	Start      string `json:"start"` // HH:MM in the rota's zone
	End        string `json:"end"`   // HH:MM; not after Start runs past midnight
	Officer    string `json:"officer"`
	Backup     string `json:"backup,omitempty"`
	Supervisor string `json:"supervisor,omitempty"`
}

// OverrideView is an override with officers by name. An empty backup or
// supervisor means the underlying shift's.
type OverrideView struct {
	ID         string    `json:"id"`
	Officer    string    `json:"officer"`
	Backup     string    `json:"backup,omitempty"`
	Supervisor string    `json:"supervisor,omitempty"`
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
}

// DutyView says who answers at an instant, by name. Empty means nobody.
type DutyView struct {
	Officer    string `json:"officer"`
	Backup     string `json:"backup"`
	Supervisor string `json:"supervisor"`
	// Source is the shift or override the duty comes from.
	Source string `json:"source"`
	// Until is when the duty may next change (nil: never).
	Until *time.Time `json:"until"`
}

// RotaView is the rota as an admin sees it, at one instant.
type RotaView struct {
	TimeZone  string         `json:"time_zone"`
	At        time.Time      `json:"at"`
	OnDuty    DutyView       `json:"on_duty"`
	Shifts    []ShiftSpec    `json:"shifts"`
	Overrides []OverrideView `json:"overrides"`
	// Gaps lists the stretches of the week no shift covers.
	Gaps []string `json:"gaps"`
	// Text lays the rota out for people (dispatch.Rota.Describe).
	Text string `json:"text"`
}

// AlertView is an alert as an admin sees it: no tip content.
type AlertView struct {
	ID string `json:"id"`
	// Code is what an officer replies with to acknowledge ("12").
	Code      string             `json:"code"`
	Number    int                `json:"number"`
	CaseCode  string             `json:"case_code"`
	Priority  hotline.Priority   `json:"priority"`
	Channel   hotline.Channel    `json:"channel"`
	State     hotline.AlertState `json:"state"`
	Step      int                `json:"step"`
	Round     int                `json:"round"`
	Exhausted bool               `json:"exhausted"`
	OpenedAt  time.Time          `json:"opened_at"`
	NextAt    *time.Time         `json:"next_at"`
	Attempts  []AttemptView      `json:"attempts"`
	// AckedBy is the name of the officer who acknowledged ("" if nobody,
	// or if that officer was removed since).
	AckedBy  string     `json:"acked_by"`
	AckedAt  *time.Time `json:"acked_at"`
	AckedVia string     `json:"acked_via"`
}

// AttemptView is one SMS or call of an alert.
type AttemptView struct {
	Job       string           `json:"job"`
	Kind      string           `json:"kind"` // sms or call
	Officer   string           `json:"officer"`
	OfficerID string           `json:"officer_id"`
	Round     int              `json:"round"`
	Step      int              `json:"step"`
	State     hotline.JobState `json:"state"`
	Delivery  string           `json:"delivery"`
	Tries     int              `json:"tries"`
	ErrorCode int              `json:"error_code"`
	LastError string           `json:"last_error"`
	At        time.Time        `json:"at"`
}

// Admin is the admin service on an open store.
type Admin struct {
	st *store.Store
	// disp is the running server's dispatcher, nil when the CLI opened the
	// store itself; it is kept for acknowledging alerts from the console.
	disp *dispatch.Dispatcher
	// zone is the time zone an empty rota gets, and alerts are shown in.
	zone string
	loc  *time.Location
	// by is who audit entries name (ActingAs); empty: the CLI.
	by store.AuditEntry
	// retention is the configured policy Purge applies (retention.go).
	retention store.RetentionPolicy
	// noDownloads: the server has no media worker (no Twilio account,
	// --dev), so a queued recording never downloads (recordings.go).
	noDownloads bool
}

// NewAdmin returns the admin service on st. d is the running dispatcher,
// nil when the server is stopped. loc is the configured rota time zone
// (escalation.time_zone): a rota created from nothing gets it, and alert
// times are shown in it; nil means Asia/Baku.
func NewAdmin(st *store.Store, d *dispatch.Dispatcher, loc *time.Location) *Admin {
	zone := dispatch.DefaultTimeZone
	if loc != nil && loc.String() != "Local" {
		zone = loc.String()
	}
	l, err := time.LoadLocation(zone)
	if err != nil {
		zone = dispatch.DefaultTimeZone
		l, _ = time.LoadLocation(zone)
	}
	return &Admin{st: st, disp: d, zone: zone, loc: l}
}

// MaskPhone hides the middle of a number: +994501110001 → +99450*****01.
func MaskPhone(p string) string {
	if p == "" {
		return ""
	}
	keep := 6
	if len(p) < 10 {
		keep = 3
	}
	if len(p) <= keep+2 {
		return strings.Repeat("*", len(p))
	}
	return p[:keep] + strings.Repeat("*", len(p)-keep-2) + p[len(p)-2:]
}

func invalid(format string, args ...any) *hotline.Error {
	return hotline.Errorf(hotline.EINVALID, format, args...)
}

// cleanName trims a name and collapses its inner spaces.
func cleanName(name string) string { return strings.Join(strings.Fields(name), " ") }

func nameProblem(name string) string {
	switch {
	case name == "":
		return "is required"
	case !utf8.ValidString(name):
		return "is not valid UTF-8"
	case utf8.RuneCountInString(name) > maxNameLen:
		return fmt.Sprintf("is longer than %d characters", maxNameLen)
	case strings.ContainsFunc(name, unicode.IsControl):
		return "contains control characters"
	}
	return ""
}

// AddOfficer implements AdminService.
func (a *Admin) AddOfficer(ctx context.Context, name, phone, role string) (OfficerView, error) {
	name = cleanName(name)
	r := hotline.Role(strings.ToLower(strings.TrimSpace(role)))
	var problems []string
	if p := nameProblem(name); p != "" {
		problems = append(problems, "--name: "+p)
	}
	e164, err := config.NormalizePhone(phone)
	if err != nil {
		problems = append(problems, fmt.Sprintf("--phone: %v (write it in E.164 form, like +994501110001)", err))
	}
	switch {
	case r == "":
		problems = append(problems, "--role: is required (officer, supervisor or admin)")
	case !r.Valid():
		problems = append(problems, "--role: must be officer, supervisor or admin")
	}
	if len(problems) > 0 {
		return OfficerView{}, invalid("%s", strings.Join(problems, "\n"))
	}
	var added hotline.Officer
	err = a.st.Update(ctx, func(tx *store.Tx) error {
		if _, found, err := tx.OfficerByName(name); err != nil {
			return err
		} else if found {
			return hotline.Errorf(hotline.ECONFLICT, "--name: an officer named %q already exists", name)
		}
		if _, found, err := tx.OfficerByPhone(e164); err != nil {
			return err
		} else if found {
			return hotline.Errorf(hotline.ECONFLICT, "--phone: another officer already has this number")
		}
		o, err := tx.AddOfficer(hotline.Officer{Name: name, Phone: e164, Role: r})
		added = o
		return err
	})
	if err != nil {
		return OfficerView{}, err
	}
	return a.officerView(added, false), nil
}

func (a *Admin) officerView(o hotline.Officer, withPhone bool) OfficerView {
	v := OfficerView{ID: o.ID, Name: o.Name, Role: o.Role, Phone: o.Phone, CreatedAt: o.CreatedAt.In(a.loc)}
	if o.PendingPhone != "" {
		v.PendingPhone = o.PendingPhone
		exp := o.VerifyExpires.In(a.loc)
		v.VerifyExpires = &exp
	}
	if !withPhone {
		v.Phone = MaskPhone(o.Phone)
		v.PendingPhone = MaskPhone(v.PendingPhone)
	}
	return v
}

// ListOfficers implements AdminService.
func (a *Admin) ListOfficers(ctx context.Context, withPhones bool) ([]OfficerView, error) {
	out := []OfficerView{}
	err := a.st.View(func(tx *store.Tx) error {
		officers, err := tx.Officers()
		for _, o := range officers {
			out = append(out, a.officerView(o, withPhones))
		}
		return err
	})
	return out, err
}

// RemoveOfficer implements AdminService. Overrides that have ended are
// dropped from the rota in the same transaction.
func (a *Admin) RemoveOfficer(ctx context.Context, name string) error {
	name = cleanName(name)
	if name == "" {
		return invalid("--name: is required")
	}
	return a.st.Update(ctx, func(tx *store.Tx) error {
		o, found, err := tx.OfficerByName(name)
		if err != nil {
			return err
		}
		if !found {
			return hotline.Errorf(hotline.ENOTFOUND, "--name: no officer named %q (see hotline officers list)", name)
		}
		stored, err := a.loadRota(tx)
		if err != nil {
			return err
		}
		rota := stored.PruneOverrides(tx.Now())
		if uses := rotaUses(rota, o.ID); len(uses) > 0 {
			fix := "put someone else in those shifts first (hotline rota set, rota import)"
			if !slices.ContainsFunc(uses, func(u string) bool { return strings.Contains(u, " of shift ") }) {
				fix = "wait for the override to end"
			} else if slices.ContainsFunc(uses, func(u string) bool { return strings.Contains(u, " of override ") }) {
				fix += ", and wait for the override to end"
			}
			return hotline.Errorf(hotline.ECONFLICT, "%s is still in the rota: %s; %s", o.Name, strings.Join(uses, ", "), fix)
		}
		if len(rota.Overrides) != len(stored.Overrides) {
			if err := dispatch.SaveRota(tx, rota); err != nil {
				return err
			}
		}
		if _, err := tx.DeleteSessions(o.ID); err != nil {
			return err
		}
		if err := tx.DeleteAccount(o.ID); err != nil {
			return err
		}
		return tx.RemoveOfficer(o.ID)
	})
}

// rotaUses says where an officer appears in the rota: "officer of tue
// 20:00-08:00", "backup of override 3fa9c1 (until 2026-11-28 08:00)".
func rotaUses(r dispatch.Rota, id string) []string {
	var uses []string
	for _, sh := range sortedShifts(r.Shifts) {
		for _, f := range [][2]string{{"officer", sh.Officer}, {"backup", sh.Backup}, {"supervisor", sh.Supervisor}} {
			if f[1] == id {
				uses = append(uses, fmt.Sprintf("%s of shift %s", f[0], sh))
			}
		}
	}
	loc := rotaLocation(r)
	for _, o := range r.Overrides {
		for _, f := range [][2]string{{"officer", o.Officer}, {"backup", o.Backup}, {"supervisor", o.Supervisor}} {
			if f[1] == id {
				uses = append(uses, fmt.Sprintf("%s of override %s (until %s)", f[0], o.ID, o.To.In(loc).Format("2006-01-02 15:04")))
			}
		}
	}
	return uses
}

// loadRota reads the stored rota; an empty one is in the configured zone.
func (a *Admin) loadRota(tx *store.Tx) (dispatch.Rota, error) {
	r, err := dispatch.LoadRota(tx)
	if err != nil {
		return r, err
	}
	if len(r.Shifts) == 0 && len(r.Overrides) == 0 {
		r.TimeZone = a.zone
	}
	return r, nil
}

func rotaLocation(r dispatch.Rota) *time.Location {
	zone := strings.TrimSpace(r.TimeZone)
	if zone == "" {
		zone = dispatch.DefaultTimeZone
	}
	if loc, err := time.LoadLocation(zone); err == nil && zone != "Local" {
		return loc
	}
	loc, _ := time.LoadLocation(dispatch.DefaultTimeZone)
	return loc
}

var dayIndex = map[string]int{"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}

// slot is a shift's canonical day and start, "tue 20:00" (dispatch writes
// a well-formed shift canonically).
func slot(sh dispatch.Shift) string {
	s, _, _ := strings.Cut(sh.String(), "-")
	return s
}

// canonical writes a well-formed shift's day and times as dispatch does
// ("tue", "08:00").
func canonical(sh dispatch.Shift) dispatch.Shift {
	day, hours, _ := strings.Cut(sh.String(), " ")
	start, end, _ := strings.Cut(hours, "-")
	sh.Day, sh.Start, sh.End = day, start, end
	return sh
}

// sortedShifts returns the shifts in weekly order, malformed ones last.
func sortedShifts(shifts []dispatch.Shift) []dispatch.Shift {
	out := slices.Clone(shifts)
	key := func(sh dispatch.Shift) (int, string) {
		day, start, _ := strings.Cut(slot(sh), " ")
		d, ok := dayIndex[day]
		if !ok {
			d = 7
		}
		return d, start
	}
	slices.SortStableFunc(out, func(x, y dispatch.Shift) int {
		dx, sx := key(x)
		dy, sy := key(y)
		return cmp.Or(cmp.Compare(dx, dy), cmp.Compare(sx, sy))
	})
	return out
}

// officerNames maps every officer id to a name.
func officerNames(tx *store.Tx) (map[string]string, error) {
	officers, err := tx.Officers()
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(officers))
	for _, o := range officers {
		names[o.ID] = o.Name
	}
	return names, nil
}

func known(names map[string]string) func(string) bool {
	return func(id string) bool { _, ok := names[id]; return ok }
}

// rotaError turns a Validate error into one that names officers, not ids.
func rotaError(err error, names map[string]string) *hotline.Error {
	msg := err.Error()
	for id, name := range names {
		msg = strings.ReplaceAll(msg, id, name)
	}
	return invalid("%s", msg)
}

// nameRef is an officer named on the command line.
type nameRef struct {
	flag, name string
	required   bool
}

// resolve turns names into officer ids, reporting every unknown name at once.
func resolve(tx *store.Tx, refs ...nameRef) ([]string, error) {
	ids := make([]string, len(refs))
	var problems []string
	notFound := false
	for i, ref := range refs {
		name := cleanName(ref.name)
		if name == "" {
			if ref.required {
				problems = append(problems, ref.flag+": is required")
			}
			continue
		}
		o, found, err := tx.OfficerByName(name)
		if err != nil {
			return nil, err
		}
		if !found {
			notFound = true
			problems = append(problems, fmt.Sprintf("%s: no officer named %q (see hotline officers list)", ref.flag, name))
			continue
		}
		ids[i] = o.ID
	}
	if len(problems) > 0 {
		code := hotline.EINVALID
		if notFound {
			code = hotline.ENOTFOUND
		}
		return nil, hotline.Errorf(code, "%s", strings.Join(problems, "\n"))
	}
	return ids, nil
}

// RotaZone implements AdminService.
func (a *Admin) RotaZone(ctx context.Context) (string, error) {
	var zone string
	err := a.st.View(func(tx *store.Tx) error {
		r, err := a.loadRota(tx)
		zone = rotaLocation(r).String()
		return err
	})
	return zone, err
}

// RotaShow implements AdminService.
func (a *Admin) RotaShow(ctx context.Context, at time.Time) (RotaView, error) {
	if at.IsZero() {
		at = a.st.Now()
	}
	var v RotaView
	err := a.st.View(func(tx *store.Tx) error {
		r, err := a.loadRota(tx)
		if err != nil {
			return err
		}
		names, err := officerNames(tx)
		if err != nil {
			return err
		}
		v = rotaView(r, names, at)
		return nil
	})
	return v, err
}

func rotaView(r dispatch.Rota, names map[string]string, at time.Time) RotaView {
	loc := rotaLocation(r)
	name := func(id string) string {
		if id == "" {
			return ""
		}
		if n, ok := names[id]; ok {
			return n
		}
		return "?(" + id + ")"
	}
	d := r.OnDuty(at)
	v := RotaView{
		TimeZone: loc.String(),
		At:       at.In(loc),
		OnDuty: DutyView{
			Officer: name(d.Officer), Backup: name(d.Backup), Supervisor: name(d.Supervisor),
			Source: d.Source,
		},
		Shifts:    []ShiftSpec{},
		Overrides: []OverrideView{},
		Gaps:      r.Gaps(),
		Text:      r.Describe(func(id string) string { return names[id] }),
	}
	if !d.Until.IsZero() {
		u := d.Until.In(loc)
		v.OnDuty.Until = &u
	}
	if v.Gaps == nil {
		v.Gaps = []string{}
	}
	for _, sh := range sortedShifts(r.Shifts) {
		v.Shifts = append(v.Shifts, ShiftSpec{
			Day: sh.Day, Start: sh.Start, End: sh.End,
			Officer: name(sh.Officer), Backup: name(sh.Backup), Supervisor: name(sh.Supervisor),
		})
	}
	for _, o := range r.Overrides {
		v.Overrides = append(v.Overrides, overrideView(o, name, loc))
	}
	return v
}

func overrideView(o dispatch.Override, name func(string) string, loc *time.Location) OverrideView {
	return OverrideView{
		ID: o.ID, Officer: name(o.Officer), Backup: name(o.Backup), Supervisor: name(o.Supervisor),
		From: o.From.In(loc), To: o.To.In(loc),
	}
}

// shiftFlagErrors checks one shift on its own, so that problems with its
// day and hours name their flags.
func shiftFlagErrors(sh dispatch.Shift) error {
	err := (dispatch.Rota{Shifts: []dispatch.Shift{sh}}).Validate(nil)
	if err == nil {
		return nil
	}
	prefix := fmt.Sprintf("shift 1 (%s): ", sh)
	var out []string
	for _, line := range strings.Split(err.Error(), "\n") {
		msg, ok := strings.CutPrefix(line, prefix)
		if !ok {
			continue // not about the shift (the zone): checked with the rota
		}
		switch {
		case strings.HasPrefix(msg, "day "):
			msg = "--day: " + msg
		case strings.HasPrefix(msg, "start "):
			msg = "--start: " + msg
		case strings.HasPrefix(msg, "end "), strings.HasPrefix(msg, "starts and ends"):
			msg = "--end: " + msg
		case msg == "no officer":
			msg = "--officer: is required"
		case strings.HasPrefix(msg, "backup is the same"):
			msg = "--backup: is the same person as --officer"
		}
		out = append(out, msg)
	}
	if len(out) == 0 {
		return nil
	}
	return invalid("%s", strings.Join(out, "\n"))
}

// newOverrideID returns a short id unused in r: admins type it.
func newOverrideID(r dispatch.Rota) string {
	for {
		var b [3]byte
		rand.Read(b[:])
		id := hex.EncodeToString(b[:])
		if !slices.ContainsFunc(r.Overrides, func(o dispatch.Override) bool { return o.ID == id }) {
			return id
		}
	}
}

// RotaOverride implements AdminService. Ended overrides are dropped.
func (a *Admin) RotaOverride(ctx context.Context, officer, backup string, from, to time.Time) (OverrideView, error) {
	var problems []string
	switch {
	case from.IsZero():
		problems = append(problems, "--from: is required")
	case to.IsZero():
		problems = append(problems, "--hours or --until: is required")
	case !to.After(from):
		problems = append(problems, "--until: must be after --from")
	case to.Sub(from) > dispatch.MaxOverride:
		problems = append(problems, fmt.Sprintf("--hours/--until: an override lasts at most %d days", dispatch.MaxOverride/(24*time.Hour)))
	case !to.After(a.st.Now()):
		problems = append(problems, "--until: the override would be over already")
	}
	if len(problems) > 0 {
		return OverrideView{}, invalid("%s", strings.Join(problems, "\n"))
	}
	var v OverrideView
	err := a.st.Update(ctx, func(tx *store.Tx) error {
		ids, err := resolve(tx, nameRef{"--officer", officer, true}, nameRef{"--backup", backup, false})
		if err != nil {
			return err
		}
		if ids[1] != "" && ids[1] == ids[0] {
			return invalid("--backup: is the same person as --officer")
		}
		names, err := officerNames(tx)
		if err != nil {
			return err
		}
		r, err := a.loadRota(tx)
		if err != nil {
			return err
		}
		r = r.PruneOverrides(tx.Now())
		o := dispatch.Override{ID: newOverrideID(r), Officer: ids[0], Backup: ids[1], From: from, To: to}
		r = r.WithOverride(o)
		if err := r.Validate(known(names)); err != nil {
			return rotaError(err, names)
		}
		if err := dispatch.SaveRota(tx, r); err != nil {
			return err
		}
		v = overrideView(o, func(id string) string { return names[id] }, rotaLocation(r))
		return tx.AppendAudit(a.entry("rota.override", o.ID, ""))
	})
	return v, err
}

// RotaImport implements AdminService.
func (a *Admin) RotaImport(ctx context.Context, name string, file io.Reader) (RotaView, error) {
	name = filepath.Base(strings.TrimSpace(name))
	if name == "." || name == "/" || nameProblem(name) != "" {
		name = "rota file"
	}
	parsed, err := dispatch.ParseRota(file, name)
	if err != nil {
		return RotaView{}, invalid("%s", err.Error())
	}
	var v RotaView
	err = a.st.Update(ctx, func(tx *store.Tx) error {
		r := parsed
		r.Shifts = slices.Clone(parsed.Shifts)
		// Resolve every name once; list every unknown one with its places.
		ids := map[string]string{}
		var unknown []string
		where := map[string][]string{}
		for i := range r.Shifts {
			sh := &r.Shifts[i]
			for _, f := range []struct {
				field string
				name  *string
			}{{"officer", &sh.Officer}, {"backup", &sh.Backup}, {"supervisor", &sh.Supervisor}} {
				n := cleanName(*f.name)
				if n == "" {
					continue
				}
				key := strings.ToLower(n)
				id, seen := ids[key]
				if !seen {
					o, found, err := tx.OfficerByName(n)
					if err != nil {
						return err
					}
					id = o.ID
					ids[key] = id
					if !found {
						unknown = append(unknown, n)
					}
				}
				if id == "" {
					where[key] = append(where[key], fmt.Sprintf("shift %d %s", i+1, f.field))
				}
				*f.name = id
			}
		}
		if len(unknown) > 0 {
			lines := make([]string, len(unknown))
			for i, n := range unknown {
				lines[i] = fmt.Sprintf("  %q (%s)", n, strings.Join(where[strings.ToLower(n)], ", "))
			}
			noun := "name is not a registered officer"
			if len(unknown) > 1 {
				noun = fmt.Sprintf("%d names are not registered officers", len(unknown))
			}
			return hotline.Errorf(hotline.ENOTFOUND, "%s: %s (fix the spelling, or add them with hotline officers add):\n%s",
				name, noun, strings.Join(lines, "\n"))
		}
		names, err := officerNames(tx)
		if err != nil {
			return err
		}
		now := tx.Now()
		current, err := a.loadRota(tx)
		if err != nil {
			return err
		}
		r.Overrides = current.PruneOverrides(now).Overrides
		if err := r.Validate(known(names)); err != nil {
			lines := strings.Split(err.Error(), "\n")
			for i := range lines {
				lines[i] = name + ": " + lines[i]
			}
			return rotaError(errors.New(strings.Join(lines, "\n")), names)
		}
		r.Shifts = sortedShifts(r.Shifts)
		if err := dispatch.SaveRota(tx, r); err != nil {
			return err
		}
		v = rotaView(r, names, now)
		return nil
	})
	return v, err
}

// Alerts implements AdminService.
func (a *Admin) Alerts(ctx context.Context) ([]AlertView, error) {
	out := []AlertView{}
	err := a.st.View(func(tx *store.Tx) error {
		alerts, err := tx.Alerts()
		if err != nil {
			return err
		}
		jobs, err := tx.Jobs("")
		if err != nil {
			return err
		}
		names, err := officerNames(tx)
		if err != nil {
			return err
		}
		byAlert := map[string][]hotline.Job{}
		for _, j := range jobs {
			byAlert[j.AlertID] = append(byAlert[j.AlertID], j)
		}
		for _, js := range byAlert {
			// In escalation order; a step's SMS before its call.
			slices.SortStableFunc(js, func(x, y hotline.Job) int {
				return cmp.Or(cmp.Compare(x.Round, y.Round), cmp.Compare(x.Step, y.Step),
					x.CreatedAt.Compare(y.CreatedAt), cmp.Compare(kindOrder(x.Kind), kindOrder(y.Kind)), cmp.Compare(x.ID, y.ID))
			})
		}
		for _, al := range alerts {
			out = append(out, a.alertView(al, byAlert[al.ID], names))
		}
		return nil
	})
	return out, err
}

// AlertAction implements AdminService.
func (a *Admin) AlertAction(ctx context.Context, number int, action, as string) (AlertView, error) {
	if a.disp == nil {
		return AlertView{}, hotline.Errorf(hotline.EINTERNAL, "alert actions need the alert dispatcher")
	}
	var al hotline.Alert
	var officerID string
	err := a.st.View(func(tx *store.Tx) error {
		found := false
		var err error
		if al, found, err = tx.AlertByNumber(number); err != nil {
			return err
		} else if !found {
			return hotline.Errorf(hotline.ENOTFOUND, "no alert %d", number)
		}
		if action != "ack" && action != "close" {
			return nil
		}
		if strings.TrimSpace(as) == "" {
			return invalid("--as: name the officer who takes the alert")
		}
		o, found, err := tx.OfficerByName(as)
		if err != nil {
			return err
		} else if !found {
			return hotline.Errorf(hotline.ENOTFOUND, "no officer named %q", cleanName(as))
		}
		officerID = o.ID
		return nil
	})
	if err != nil {
		return AlertView{}, err
	}
	switch action {
	case "ack":
		_, err = a.disp.Acknowledge(ctx, al.ID, officerID, "cli")
	case "close":
		_, err = a.disp.CloseAlert(ctx, al.ID, officerID, "cli")
	case "reopen":
		_, err = a.disp.Reopen(ctx, al.ID, "cli")
	case "escalate":
		_, err = a.disp.Escalate(ctx, al.ID, "cli")
	default:
		err = invalid("unknown alert action %q (use ack, close, reopen or escalate)", action)
	}
	if err != nil {
		return AlertView{}, err
	}
	list, err := a.Alerts(ctx)
	for _, v := range list {
		if v.Number == number {
			return v, err
		}
	}
	return AlertView{}, err
}

func kindOrder(k hotline.JobKind) int {
	if k == hotline.JobAlertSMS {
		return 0
	}
	return 1
}

func (a *Admin) alertView(al hotline.Alert, jobs []hotline.Job, names map[string]string) AlertView {
	at := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		t = t.In(a.loc)
		return &t
	}
	v := AlertView{
		ID: al.ID, Code: fmt.Sprint(al.Number), Number: al.Number, CaseCode: al.CaseCode,
		Priority: al.Priority, Channel: al.Channel, State: al.State,
		Step: al.Step, Round: al.Round, Exhausted: al.Exhausted,
		OpenedAt: al.OpenedAt.In(a.loc), NextAt: at(al.NextAt),
		Attempts: make([]AttemptView, 0, len(jobs)),
		AckedBy:  names[al.AckedBy], AckedAt: at(al.AckedAt), AckedVia: al.AckedVia,
	}
	for _, j := range jobs {
		kind := string(j.Kind)
		switch j.Kind {
		case hotline.JobAlertSMS:
			kind = "sms"
		case hotline.JobAlertCall:
			kind = "call"
		}
		v.Attempts = append(v.Attempts, AttemptView{
			Job: j.ID, Kind: kind, Officer: names[j.OfficerID], OfficerID: j.OfficerID,
			Round: j.Round, Step: j.Step, State: j.State, Delivery: j.Delivery,
			Tries: j.Tries, ErrorCode: j.ErrorCode, LastError: j.LastError, At: j.UpdatedAt.In(a.loc),
		})
	}
	return v
}

// errorCode returns the code of a *hotline.Error, or EINTERNAL.
func errorCode(err error) string {
	var he *hotline.Error
	if errors.As(err, &he) {
		return he.Code
	}
	return hotline.EINTERNAL
}

// Stats implements AdminService.
func (a *Admin) Stats(ctx context.Context) (store.Stats, error) { return a.st.Stats() }
