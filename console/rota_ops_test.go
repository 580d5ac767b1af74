package console_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/console"
	"github.com/hotline-az/hotline/store"
)

// auditActions lists the audit log's actions, oldest first.
func auditActions(tb testing.TB, st *store.Store) []string {
	tb.Helper()
	entries, err := st.Audit(store.AuditFilter{})
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Action+" "+e.Object)
	}
	return out
}

// TestRotaSetKeepsFieldsNotGiven is the data-loss bug: changing a
// shift's officer silently dropped its backup and supervisor.
func TestRotaSetKeepsFieldsNotGiven(t *testing.T) {
	both(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		addOfficers(t, e.svc)
		night := console.ShiftSpec{Day: "tue", Start: "20:00", End: "08:00", Officer: "Leyla Aliyeva", Backup: "Rashad Mammadov", Supervisor: "Farid Ismayilov"}
		if _, err := e.svc.RotaSet(ctx, night); err != nil {
			t.Fatal(err)
		}
		v, err := e.svc.RotaSet(ctx, console.ShiftSpec{Day: "Tuesday", Start: "20:00", Officer: "Elvin Guliyev"})
		if err != nil {
			t.Fatal(err)
		}
		want := console.ShiftSpec{Day: "tue", Start: "20:00", End: "08:00", Officer: "Elvin Guliyev", Backup: "Rashad Mammadov", Supervisor: "Farid Ismayilov"}
		if len(v.Shifts) != 1 || v.Shifts[0] != want {
			t.Fatalf("after changing the officer: got %+v, want %+v", v.Shifts, want)
		}
		v, err = e.svc.RotaSet(ctx, console.ShiftSpec{Day: "tue", Start: "20:00", End: "09:00", Supervisor: "Gunel Abbasova"})
		if err != nil {
			t.Fatal(err)
		}
		want.End, want.Supervisor = "09:00", "Gunel Abbasova"
		if v.Shifts[0] != want {
			t.Fatalf("after changing the end and supervisor: got %+v, want %+v", v.Shifts[0], want)
		}
		// "none" empties a backup; the officer cannot be emptied.
		v, err = e.svc.RotaSet(ctx, console.ShiftSpec{Day: "tue", Start: "20:00", Backup: "none"})
		if err != nil {
			t.Fatal(err)
		}
		want.Backup = ""
		if v.Shifts[0] != want {
			t.Fatalf("after --backup none: got %+v, want %+v", v.Shifts[0], want)
		}
		_, err = e.svc.RotaSet(ctx, console.ShiftSpec{Day: "tue", Start: "20:00", Officer: "none"})
		wantErr(t, err, hotline.EINVALID, "--officer: a shift needs an officer", "rota remove-shift")
		// A new shift needs its end and officer.
		_, err = e.svc.RotaSet(ctx, console.ShiftSpec{Day: "wed", Start: "08:00", Officer: "Aysel Huseynova"})
		wantErr(t, err, hotline.EINVALID, "--end: is required for a new shift")
		_, err = e.svc.RotaSet(ctx, console.ShiftSpec{Day: "wed", Start: "08:00", End: "20:00"})
		wantErr(t, err, hotline.EINVALID, "--officer: is required")

		if got := auditActions(t, e.st); !slices.Equal(got, []string{"rota.shift_set tue 20:00", "rota.shift_set tue 20:00", "rota.shift_set tue 20:00", "rota.shift_set tue 20:00"}) {
			t.Errorf("audit log: got %q", got)
		}
	})
}

func TestRotaRemoveShift(t *testing.T) {
	both(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		addOfficers(t, e.svc)
		before := importExample(t, e.svc)
		if len(before.Gaps) != 0 {
			t.Fatalf("example rota has gaps: %q", before.Gaps)
		}
		v, err := e.svc.RotaRemoveShift(ctx, "Tuesday", "20:00")
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Shifts) != len(before.Shifts)-1 || slices.ContainsFunc(v.Shifts, func(s console.ShiftSpec) bool { return s.Day == "tue" && s.Start == "20:00" }) {
			t.Fatalf("after remove-shift: %+v", v.Shifts)
		}
		if want := []string{"nobody on duty from Tue 20:00 to Wed 08:00, 12 hours"}; !slices.Equal(v.Gaps, want) {
			t.Errorf("gaps: got %q, want %q", v.Gaps, want)
		}
		// tuesdayNight is in the removed shift: nobody is on duty now.
		if v.OnDuty.Officer != "" {
			t.Errorf("on duty in the removed shift: %+v", v.OnDuty)
		}
		_, err = e.svc.RotaRemoveShift(ctx, "tue", "20:00")
		wantErr(t, err, hotline.ENOTFOUND, "no shift starts on tue 20:00", "shifts that day: tue 08:00-20:00")
		_, err = e.svc.RotaRemoveShift(ctx, "", "")
		wantErr(t, err, hotline.EINVALID, "--day: is required", "--start: is required")
		if got := auditActions(t, e.st); !slices.Equal(got, []string{"rota.shift_removed tue 20:00"}) {
			t.Errorf("audit log: got %q", got)
		}
	})
}

func TestRotaCancelOverride(t *testing.T) {
	both(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		addOfficers(t, e.svc)
		importExample(t, e.svc)
		now := e.clock.Now()
		shift, err := e.svc.RotaShow(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		// An officer in no shift, so only the override keeps them in the rota.
		if _, err := e.svc.AddOfficer(ctx, "Zaur Karimov", "+994501110009", "officer"); err != nil {
			t.Fatal(err)
		}
		o, err := e.svc.RotaOverride(ctx, "Zaur Karimov", "", now, now.Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := e.svc.RotaShow(ctx, now); v.OnDuty.Officer != "Zaur Karimov" {
			t.Fatalf("override not on duty: %+v", v.OnDuty)
		}
		got, err := e.svc.RotaCancelOverride(ctx, strings.ToUpper(o.ID))
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != o.ID || got.Officer != "Zaur Karimov" {
			t.Errorf("cancelled: got %+v, want %+v", got, o)
		}
		v, _ := e.svc.RotaShow(ctx, now)
		if len(v.Overrides) != 0 || v.OnDuty.Officer != shift.OnDuty.Officer || v.OnDuty.Officer == "" {
			t.Errorf("after cancel: overrides %+v, on duty %+v, want the shift's %q", v.Overrides, v.OnDuty, shift.OnDuty.Officer)
		}
		_, err = e.svc.RotaCancelOverride(ctx, o.ID)
		wantErr(t, err, hotline.ENOTFOUND, "no override", "rota override list")
		_, err = e.svc.RotaCancelOverride(ctx, " ")
		wantErr(t, err, hotline.EINVALID, "give the override's ID")
		// The officer of a cancelled override can be removed at once.
		if err := e.svc.RemoveOfficer(ctx, "Zaur Karimov"); err != nil {
			t.Errorf("remove after cancel: %v", err)
		}
		if got := auditActions(t, e.st); !slices.Contains(got, "rota.override_cancelled "+o.ID) {
			t.Errorf("audit log: got %q", got)
		}
	})
}

func TestUpdateOfficer(t *testing.T) {
	both(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		addOfficers(t, e.svc)
		importExample(t, e.svc)
		before, _ := e.svc.RotaShow(ctx, time.Time{})
		v, err := e.svc.UpdateOfficer(ctx, console.OfficerUpdate{Name: before.OnDuty.Officer, NewName: "Renamed Officer", Phone: "+994501118888"})
		if err != nil {
			t.Fatal(err)
		}
		if v.Name != "Renamed Officer" || v.PendingPhone != "+99450*****88" || v.Phone == v.PendingPhone {
			t.Errorf("update: got %+v", v)
		}
		// The rota follows the officer, not the name or number.
		if after, _ := e.svc.RotaShow(ctx, time.Time{}); after.OnDuty.Officer != "Renamed Officer" {
			t.Errorf("on duty after the rename: %+v", after.OnDuty)
		}
		// The alert call's language is stored with the officer.
		if _, err := e.svc.UpdateOfficer(ctx, console.OfficerUpdate{Name: "Renamed Officer", Lang: "RU"}); err != nil {
			t.Fatal(err)
		}
		err = e.st.View(func(tx *store.Tx) error {
			o, _, err := tx.OfficerByName("Renamed Officer")
			if err == nil && o.Lang != hotline.LangRu {
				t.Errorf("officer language %q, want ru", o.Lang)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.UpdateOfficer(ctx, console.OfficerUpdate{Name: "Renamed Officer", Phone: "12ab", Role: "boss", Lang: "de"})
		wantErr(t, err, hotline.EINVALID, "--phone:", "--role: must be", "--lang: must be az, ru or en")
	})
}
