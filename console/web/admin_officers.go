package web

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/console"
	"github.com/hotline-az/hotline/store"
)

type officerRow struct {
	ID           string
	Name         string
	Role         hotline.Role
	Phone        string // masked
	HasPassword  bool
	TOTPEnrolled bool
	Sessions     int
}

// showOfficers lists officers with their login state (admins only).
func (h *handler) showOfficers(w http.ResponseWriter, r *http.Request) {
	var rows []officerRow
	err := h.st.View(func(tx *store.Tx) error {
		officers, err := tx.Officers()
		if err != nil {
			return err
		}
		accts, err := tx.AccountStatuses()
		if err != nil {
			return err
		}
		sessions, err := tx.SessionCounts()
		if err != nil {
			return err
		}
		for _, o := range officers {
			a := accts[o.ID]
			rows = append(rows, officerRow{ID: o.ID, Name: o.Name, Role: o.Role, Phone: console.MaskPhone(o.Phone),
				HasPassword: a.HasPassword, TOTPEnrolled: a.TOTPEnrolled, Sessions: sessions[o.ID]})
		}
		return nil
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, http.StatusOK, "officers", h.newPage(r, "officers.title", rows))
}

// addOfficer registers an officer (as `hotline officers add` does).
func (h *handler) addOfficer(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	v, err := console.NewAdmin(h.st, h.disp, h.loc).AddOfficer(r.Context(),
		r.PostFormValue("name"), r.PostFormValue("phone"), r.PostFormValue("role"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.st.Update(r.Context(), func(tx *store.Tx) error {
		return h.audit(tx, r, "admin.officer_add", v.ID, "role="+string(v.Role))
	}); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/officers?m=officers.done", http.StatusSeeOther)
}

// resetTOTP makes an officer enrol TOTP again at the next login and ends
// their sessions (a lost phone).
func (h *handler) resetTOTP(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	err := h.st.Update(r.Context(), func(tx *store.Tx) error {
		a, ok, err := tx.Account(id)
		if err != nil {
			return err
		}
		if !ok {
			return hotline.Errorf(hotline.ENOTFOUND, "that officer has no console login")
		}
		a.TOTPSecret, a.PendingTOTP = "", ""
		if err := tx.PutAccount(a); err != nil {
			return err
		}
		if _, err := tx.DeleteSessions(id); err != nil {
			return err
		}
		return h.audit(tx, r, "admin.totp_reset", id, "")
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/officers?m=officers.done", http.StatusSeeOther)
}

// revokeSessions ends every session of an officer.
func (h *handler) revokeSessions(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	err := h.st.Update(r.Context(), func(tx *store.Tx) error {
		if _, err := tx.Officer(id); err != nil {
			return err
		}
		if _, err := tx.DeleteSessions(id); err != nil {
			return err
		}
		return h.audit(tx, r, "admin.sessions_revoked", id, "")
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/officers?m=officers.done", http.StatusSeeOther)
}
