package web

import (
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/store"
)

type deadRow struct {
	ID        string
	Kind      hotline.JobKind
	Case      string
	Alert     int
	Officer   string
	State     hotline.JobState
	Tries     int
	ErrorCode int
	LastError string
	At        time.Time
}

// showOutbox lists outbox jobs that gave up (dead, uncertain, failed).
func (h *handler) showOutbox(w http.ResponseWriter, r *http.Request) {
	var rows []deadRow
	err := h.st.View(func(tx *store.Tx) error {
		jobs, err := tx.Jobs("")
		if err != nil {
			return err
		}
		names, err := officerNames(tx)
		if err != nil {
			return err
		}
		for _, j := range jobs {
			if j.State != hotline.JobDead && j.State != hotline.JobUncertain && j.State != hotline.JobFailed {
				continue
			}
			row := deadRow{ID: j.ID, Kind: j.Kind, Officer: names[j.OfficerID], State: j.State, Tries: j.Tries,
				ErrorCode: j.ErrorCode, LastError: j.LastError, At: j.UpdatedAt}
			if j.AlertID != "" {
				if a, err := tx.Alert(j.AlertID); err == nil {
					row.Alert, row.Case = a.Number, a.CaseCode
				}
			} else if c, err := tx.CaseByID(j.CaseID); err == nil {
				row.Case = c.Code
			}
			rows = append(rows, row)
		}
		return nil
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, http.StatusOK, "outbox", h.newPage(r, "outbox.title", rows))
}

// retryJob puts a dead job back in the queue.
func (h *handler) retryJob(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	if _, err := h.disp.RetryJob(r.Context(), id); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.st.Update(r.Context(), func(tx *store.Tx) error {
		return h.audit(tx, r, "admin.job_retry", id, "")
	}); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/outbox?m=officers.done", http.StatusSeeOther)
}
