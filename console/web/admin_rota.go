package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/config"
	"github.com/hotline-az/hotline/console"
	"github.com/hotline-az/hotline/store"
)

// rotaPage is the rota and what its forms offer.
type rotaPage struct {
	console.RotaView
	Days     []string
	Officers []string // names, for the officer pickers
	// Policies is the escalation in force, read-only (set in the config
	// file's [escalation] table).
	Policies []policyView
}

// policyView is one priority's escalation for people.
type policyView struct {
	Priority string
	Repeat   int
	RoundGap time.Duration
	Steps    []config.EscalationStep
}

var rotaDays = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// showRota shows the week, who is on duty now, and the forms that change
// it (admins only).
func (h *handler) showRota(w http.ResponseWriter, r *http.Request) {
	v, err := console.NewAdmin(h.st, h.disp, h.loc).RotaShow(r.Context(), h.now())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := rotaPage{RotaView: v, Days: rotaDays}
	if e := h.cfg.Escalation; len(e.P1.Steps) > 0 {
		for _, pol := range []struct {
			name string
			p    config.EscalationPolicy
		}{{"P1", e.P1}, {"P2", e.P2}} {
			p.Policies = append(p.Policies, policyView{Priority: pol.name, Repeat: pol.p.Repeat, RoundGap: pol.p.RoundGap.Duration, Steps: pol.p.Steps})
		}
	}
	if err := h.st.View(func(tx *store.Tx) error {
		officers, err := tx.Officers()
		for _, o := range officers {
			p.Officers = append(p.Officers, o.Name)
		}
		return err
	}); err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, http.StatusOK, "rota", h.newPage(r, "rota.title", p))
}

// setShift adds a shift or changes one (as `hotline rota set` does).
func (h *handler) setShift(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	spec := console.ShiftSpec{
		Day: r.PostFormValue("day"), Start: r.PostFormValue("start"), End: r.PostFormValue("end"),
		Officer: r.PostFormValue("officer"), Backup: r.PostFormValue("backup"), Supervisor: r.PostFormValue("supervisor"),
	}
	if _, err := h.admin(r).RotaSet(r.Context(), spec); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/rota?m=officers.done", http.StatusSeeOther)
}

// removeShift removes the shift on a day starting at a time.
func (h *handler) removeShift(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if _, err := h.admin(r).RotaRemoveShift(r.Context(), r.PostFormValue("day"), r.PostFormValue("start")); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/rota?m=officers.done", http.StatusSeeOther)
}

// addOverride puts someone on duty for a stretch of hours from a time
// (in the rota's zone), over the shifts.
func (h *handler) addOverride(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	v, err := console.NewAdmin(h.st, h.disp, h.loc).RotaShow(r.Context(), h.now())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	loc, err := time.LoadLocation(v.TimeZone)
	if err != nil {
		loc = h.loc
	}
	from, err := time.ParseInLocation("2006-01-02T15:04", r.PostFormValue("from"), loc)
	if err != nil {
		h.fail(w, r, hotline.Errorf(hotline.EINVALID, "from: give a date and time like 2026-12-24T20:00"))
		return
	}
	hours, err := strconv.Atoi(r.PostFormValue("hours"))
	if err != nil || hours < 1 {
		h.fail(w, r, hotline.Errorf(hotline.EINVALID, "hours: give a whole number of hours, at least 1"))
		return
	}
	to := from.Add(time.Duration(hours) * time.Hour)
	if _, err := h.admin(r).RotaOverride(r.Context(), r.PostFormValue("officer"), r.PostFormValue("backup"), from, to); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/rota?m=officers.done", http.StatusSeeOther)
}

// cancelOverride ends an override.
func (h *handler) cancelOverride(w http.ResponseWriter, r *http.Request) {
	if _, err := h.admin(r).RotaCancelOverride(r.Context(), mux.Vars(r)["id"]); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/rota?m=officers.done", http.StatusSeeOther)
}
