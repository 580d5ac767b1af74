package web

import (
	"net/http"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/store"
)

// removeSession logs out: the session is deleted server-side.
func (h *handler) removeSession(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r)
	err := h.st.Update(r.Context(), func(tx *store.Tx) error {
		if err := tx.DeleteSession(sess.ID); err != nil {
			return err
		}
		return h.audit(tx, r, "logout", "", "")
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.clearSessionCookie(w)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// saveLang keeps the officer's interface language.
func (h *handler) saveLang(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	lang := hotline.Lang(r.PostFormValue("lang"))
	if !lang.Valid() {
		h.renderError(w, r, http.StatusBadRequest, "error.invalid")
		return
	}
	off := officerFrom(r)
	err := h.st.Update(r.Context(), func(tx *store.Tx) error {
		a, ok, err := tx.Account(off.ID)
		if err != nil || !ok {
			return err
		}
		a.Lang = lang
		return tx.PutAccount(a)
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/queue", http.StatusSeeOther)
}

// showHome sends a logged-in officer to the queue.
func (h *handler) showHome(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/queue", http.StatusSeeOther)
}
