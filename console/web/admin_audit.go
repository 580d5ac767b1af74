package web

import (
	"net/http"
	"time"

	"github.com/hotline-az/hotline/store"
)

type auditView struct {
	Entries []auditRow
	Filter  auditFilterForm
	Names   map[string]string
}

type auditFilterForm struct {
	Since, Actor, Action, Object string
}

type auditRow struct {
	store.AuditEntry
	ActorName string
}

// auditPageLimit bounds one page of the audit log (newest first).
const auditPageLimit = 500

// showAudit shows the audit log, newest first, with filters.
func (h *handler) showAudit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	form := auditFilterForm{Since: q.Get("since"), Actor: q.Get("actor"), Action: q.Get("action"), Object: q.Get("object")}
	f := store.AuditFilter{Actor: form.Actor, Action: form.Action, Object: form.Object, Limit: auditPageLimit}
	if form.Since != "" {
		t, err := time.ParseInLocation("2006-01-02", form.Since, h.loc)
		if err != nil {
			h.renderError(w, r, http.StatusBadRequest, "error.invalid")
			return
		}
		f.Since = t
	}
	entries, err := h.st.Audit(f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var names map[string]string
	if err := h.st.View(func(tx *store.Tx) error {
		var err error
		names, err = officerNames(tx)
		return err
	}); err != nil {
		h.fail(w, r, err)
		return
	}
	v := auditView{Filter: form, Names: names}
	for i := len(entries) - 1; i >= 0; i-- {
		v.Entries = append(v.Entries, auditRow{AuditEntry: entries[i], ActorName: names[entries[i].Actor]})
	}
	h.render(w, http.StatusOK, "audit", h.newPage(r, "audit.title", v))
}
