package web

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/console"
	"github.com/hotline-az/hotline/store"
)

// officerEditView is the form that edits one officer.
type officerEditView struct {
	ID    string
	Name  string
	Role  hotline.Role
	Phone string // masked: the admin types a whole new number or nothing
	// PendingPhone says a new number waits for its verification code.
	PendingPhone bool
	Roles        []hotline.Role
}

// showOfficerEdit is the edit form of one officer (admins only).
func (h *handler) showOfficerEdit(w http.ResponseWriter, r *http.Request) {
	var v officerEditView
	err := h.st.View(func(tx *store.Tx) error {
		o, err := tx.Officer(mux.Vars(r)["id"])
		if err != nil {
			return hotline.Errorf(hotline.ENOTFOUND, "no such officer")
		}
		v = officerEditView{ID: o.ID, Name: o.Name, Role: o.Role, Phone: console.MaskPhone(o.Phone), PendingPhone: o.PendingPhone != "",
			Roles: []hotline.Role{hotline.RoleOfficer, hotline.RoleSupervisor, hotline.RoleAdmin}}
		return nil
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, http.StatusOK, "officer_edit", h.newPage(r, "officers.edit", v))
}

// setOfficerPassword sets or resets an officer's console password (as
// `hotline officers passwd` does): every session of theirs ends.
func (h *handler) setOfficerPassword(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	var o hotline.Officer
	if err := h.st.View(func(tx *store.Tx) error {
		var err error
		if o, err = tx.Officer(mux.Vars(r)["id"]); err != nil {
			return hotline.Errorf(hotline.ENOTFOUND, "no such officer")
		}
		return nil
	}); err != nil {
		h.fail(w, r, err)
		return
	}
	if r.PostFormValue("new") != r.PostFormValue("again") {
		h.renderError(w, r, http.StatusBadRequest, "account.mismatch")
		return
	}
	if err := h.admin(r).SetPassword(r.Context(), o.Name, r.PostFormValue("new")); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/officers?m=officers.done", http.StatusSeeOther)
}

// editOfficer changes an officer's name, number or role with the same
// code as `hotline officers update` (a new number is the officer's once
// they answer the code sent to it), audited as the admin in the console.
func (h *handler) editOfficer(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	id := mux.Vars(r)["id"]
	var current hotline.Officer
	if err := h.st.View(func(tx *store.Tx) error {
		var err error
		if current, err = tx.Officer(id); err != nil {
			return hotline.Errorf(hotline.ENOTFOUND, "no such officer")
		}
		return nil
	}); err != nil {
		h.fail(w, r, err)
		return
	}
	u := console.OfficerUpdate{Name: current.Name, Phone: trimmed(r.PostFormValue("phone"))}
	if n := trimmed(r.PostFormValue("name")); n != current.Name {
		u.NewName = n
	}
	if role := hotline.Role(r.PostFormValue("role")); role != current.Role {
		u.Role = string(role)
	}
	if _, err := h.admin(r).UpdateOfficer(r.Context(), u); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/officers?m=officers.done", http.StatusSeeOther)
}
