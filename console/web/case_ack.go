package web

import (
	"fmt"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/store"
)

// ackCase acknowledges the case's open alert with the same
// Dispatcher.Acknowledge that SMS and calls use, and marks a new case
// acknowledged.
func (h *handler) ackCase(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	code := mux.Vars(r)["code"]
	if !validCode(code) {
		h.renderError(w, r, http.StatusNotFound, "error.notfound")
		return
	}
	off := officerFrom(r)
	var c hotline.Case
	var alertID string
	err := h.st.View(func(tx *store.Tx) error {
		var err error
		if c, err = tx.CaseByCode(code); err != nil {
			return err
		}
		a, ok, err := tx.OpenAlertForCase(c.ID)
		if ok {
			alertID = a.ID
		}
		return err
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	msg := "case.noalert"
	detail := ""
	if alertID != "" {
		res, err := h.disp.Acknowledge(r.Context(), alertID, off.ID, "console")
		if err != nil {
			h.fail(w, r, err)
			return
		}
		msg = "case.acked"
		detail = fmt.Sprintf("alert=%d", res.Alert.Number)
	}
	err = h.st.Update(r.Context(), func(tx *store.Tx) error {
		work, err := tx.CaseWork(c.ID)
		if err != nil {
			return err
		}
		if work.State == hotline.WorkNew {
			if err := tx.SetCaseState(c.ID, hotline.WorkAcknowledged, off.ID, ""); err != nil {
				return err
			}
		}
		return h.audit(tx, r, "case.ack", c.Code, detail)
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if r.PostFormValue("return") == "queue" {
		http.Redirect(w, r, "/queue?m="+msg, http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/cases/"+c.Code+"?m="+msg, http.StatusSeeOther)
}
