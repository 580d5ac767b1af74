package console

import (
	"context"
	"slices"
	"strings"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/dispatch"
	"github.com/hotline-az/hotline/store"
)

// clearField is what --backup and --supervisor take to empty a field of
// an existing shift (an empty value keeps it).
const clearField = "none"

// findShift returns the index of the shift on day starting at start, both
// as typed ("Tue", "8:00"), or -1.
func findShift(shifts []dispatch.Shift, day, start string) int {
	key := slot(dispatch.Shift{Day: strings.TrimSpace(day), Start: strings.TrimSpace(start)})
	return slices.IndexFunc(shifts, func(sh dispatch.Shift) bool { return slot(sh) == key })
}

// RotaSet implements AdminService. Changing a shift keeps what was not
// given: "rota set --day tue --start 20:00 --officer X" used to drop the
// shift's backup and supervisor. The whole rota is validated with the
// shift in it; ended overrides are dropped.
func (a *Admin) RotaSet(ctx context.Context, spec ShiftSpec) (RotaView, error) {
	var v RotaView
	err := a.st.Update(ctx, func(tx *store.Tx) error {
		now := tx.Now()
		r, err := a.loadRota(tx)
		if err != nil {
			return err
		}
		r = r.PruneOverrides(now)
		sh := dispatch.Shift{Day: strings.TrimSpace(spec.Day), Start: strings.TrimSpace(spec.Start), End: strings.TrimSpace(spec.End)}
		var old dispatch.Shift
		i := findShift(r.Shifts, sh.Day, sh.Start)
		if i >= 0 {
			old = r.Shifts[i]
			if sh.End == "" {
				sh.End = old.End
			}
		} else if sh.End == "" {
			return invalid("--end: is required for a new shift (there is no shift on %s)", slot(sh))
		}
		clear := func(s string) bool { return strings.EqualFold(strings.TrimSpace(s), clearField) }
		officer, backup, supervisor := spec.Officer, spec.Backup, spec.Supervisor
		if clear(officer) {
			return invalid("--officer: a shift needs an officer (remove the shift with hotline rota remove-shift)")
		}
		if clear(backup) {
			backup = ""
		}
		if clear(supervisor) {
			supervisor = ""
		}
		ids, err := resolve(tx,
			nameRef{"--officer", officer, i < 0}, nameRef{"--backup", backup, false}, nameRef{"--supervisor", supervisor, false})
		if err != nil {
			return err
		}
		sh.Officer, sh.Backup, sh.Supervisor = ids[0], ids[1], ids[2]
		if sh.Officer == "" {
			sh.Officer = old.Officer
		}
		if sh.Backup == "" && !clear(spec.Backup) {
			sh.Backup = old.Backup
		}
		if sh.Supervisor == "" && !clear(spec.Supervisor) {
			sh.Supervisor = old.Supervisor
		}
		if err := shiftFlagErrors(sh); err != nil {
			return err
		}
		sh = canonical(sh)
		names, err := officerNames(tx)
		if err != nil {
			return err
		}
		key := slot(sh)
		r.Shifts = slices.DeleteFunc(slices.Clone(r.Shifts), func(old dispatch.Shift) bool { return slot(old) == key })
		r.Shifts = append(r.Shifts, sh)
		if err := r.Validate(known(names)); err != nil {
			return rotaError(err, names)
		}
		r.Shifts = sortedShifts(r.Shifts)
		if err := dispatch.SaveRota(tx, r); err != nil {
			return err
		}
		if err := tx.AppendAudit(a.entry("rota.shift_set", key, "")); err != nil {
			return err
		}
		v = rotaView(r, names, now)
		return nil
	})
	return v, err
}

// RotaRemoveShift implements AdminService. Ended overrides are dropped.
func (a *Admin) RotaRemoveShift(ctx context.Context, day, start string) (RotaView, error) {
	var problems []string
	if strings.TrimSpace(day) == "" {
		problems = append(problems, "--day: is required")
	}
	if strings.TrimSpace(start) == "" {
		problems = append(problems, "--start: is required")
	}
	if len(problems) > 0 {
		return RotaView{}, invalid("%s", strings.Join(problems, "\n"))
	}
	var v RotaView
	err := a.st.Update(ctx, func(tx *store.Tx) error {
		now := tx.Now()
		r, err := a.loadRota(tx)
		if err != nil {
			return err
		}
		r = r.PruneOverrides(now)
		i := findShift(r.Shifts, day, start)
		if i < 0 {
			var there []string
			d, _, _ := strings.Cut(slot(dispatch.Shift{Day: strings.TrimSpace(day), Start: "00:00"}), " ")
			for _, sh := range sortedShifts(r.Shifts) {
				if strings.HasPrefix(sh.String(), d+" ") {
					there = append(there, sh.String())
				}
			}
			hint := "see hotline rota show"
			if len(there) > 0 {
				hint = "shifts that day: " + strings.Join(there, ", ")
			}
			return hotline.Errorf(hotline.ENOTFOUND, "no shift starts on %s %s (%s)", strings.TrimSpace(day), strings.TrimSpace(start), hint)
		}
		removed := slot(r.Shifts[i])
		r.Shifts = slices.Delete(slices.Clone(r.Shifts), i, i+1)
		if err := dispatch.SaveRota(tx, r); err != nil {
			return err
		}
		if err := tx.AppendAudit(a.entry("rota.shift_removed", removed, "")); err != nil {
			return err
		}
		names, err := officerNames(tx)
		if err != nil {
			return err
		}
		v = rotaView(r, names, now)
		return nil
	})
	return v, err
}

// RotaCancelOverride implements AdminService.
func (a *Admin) RotaCancelOverride(ctx context.Context, id string) (OverrideView, error) {
	id = strings.ToLower(strings.TrimSpace(id))
	if id == "" {
		return OverrideView{}, invalid("give the override's ID (see hotline rota override list)")
	}
	var v OverrideView
	err := a.st.Update(ctx, func(tx *store.Tx) error {
		r, err := a.loadRota(tx)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(r.Overrides, func(o dispatch.Override) bool { return o.ID == id })
		if i < 0 {
			return hotline.Errorf(hotline.ENOTFOUND, "no override %q (see hotline rota override list)", id)
		}
		o := r.Overrides[i]
		r.Overrides = slices.Delete(slices.Clone(r.Overrides), i, i+1)
		if err := dispatch.SaveRota(tx, r); err != nil {
			return err
		}
		if err := tx.AppendAudit(a.entry("rota.override_cancelled", o.ID, "")); err != nil {
			return err
		}
		names, err := officerNames(tx)
		if err != nil {
			return err
		}
		v = overrideView(o, func(id string) string { return names[id] }, rotaLocation(r))
		return nil
	})
	return v, err
}
