package web

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/store"
)

// reopenCase takes a closed case back into work (in progress, open in
// the queue again). The alert stays as it was: a reopened case is work
// for officers, not a new page to the duty phone.
func (h *handler) reopenCase(w http.ResponseWriter, r *http.Request) {
	var c hotline.Case
	err := h.st.Update(r.Context(), func(tx *store.Tx) error {
		var err error
		if c, err = caseByCode(tx, mux.Vars(r)["code"]); err != nil {
			return err
		}
		if err := tx.ReopenCase(c.ID, officerFrom(r).ID); err != nil {
			return err
		}
		return h.audit(tx, r, "case.reopen", c.Code, "state="+string(hotline.WorkInProgress))
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/cases/"+c.Code, http.StatusSeeOther)
}
