package web

import (
	"cmp"
	"net/http"
	"slices"
	"time"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/store"
)

// queueRefresh is how often the queue reloads itself, in seconds.
const queueRefresh = 30

// queueRow is one open case in the queue: metadata only, never text.
type queueRow struct {
	Code        string
	Priority    hotline.Priority
	Category    hotline.Category
	Lang        hotline.Lang
	Channel     hotline.Channel
	OpenedAt    time.Time
	State       hotline.WorkState
	AlertNumber int
	AlertState  hotline.AlertState
	AckedBy     string
	CanAck      bool
}

// showQueue lists open cases, P1 first, then the longest waiting.
func (h *handler) showQueue(w http.ResponseWriter, r *http.Request) {
	cases, err := h.st.ListCases()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var rows []queueRow
	err = h.st.View(func(tx *store.Tx) error {
		alerts, err := tx.Alerts()
		if err != nil {
			return err
		}
		latest := map[string]hotline.Alert{}
		for _, a := range alerts { // newest first
			if _, seen := latest[a.CaseID]; !seen {
				latest[a.CaseID] = a
			}
		}
		states, err := tx.CaseWorkStates()
		if err != nil {
			return err
		}
		names, err := officerNames(tx)
		if err != nil {
			return err
		}
		for _, c := range cases {
			if c.Status != hotline.CaseOpen {
				continue
			}
			row := queueRow{
				Code: c.Code, Priority: c.Priority, Category: c.Category, Lang: c.Lang,
				Channel: c.Channel, OpenedAt: c.OpenedAt, State: hotline.WorkNew,
			}
			if s, ok := states[c.ID]; ok {
				row.State = s
			}
			if a, ok := latest[c.ID]; ok {
				row.AlertNumber, row.AlertState, row.AckedBy = a.Number, a.State, names[a.AckedBy]
				row.CanAck = a.State == hotline.AlertOpen
			}
			rows = append(rows, row)
		}
		return nil
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	slices.SortStableFunc(rows, func(x, y queueRow) int {
		return cmp.Or(cmp.Compare(y.Priority.Rank(), x.Priority.Rank()), x.OpenedAt.Compare(y.OpenedAt), cmp.Compare(x.Code, y.Code))
	})
	p := h.newPage(r, "queue.title", rows)
	p.Refresh = queueRefresh
	h.render(w, http.StatusOK, "queue", p)
}

// officerNames maps officer ids to names.
func officerNames(tx *store.Tx) (map[string]string, error) {
	officers, err := tx.Officers()
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(officers))
	for _, o := range officers {
		names[o.ID] = o.Name
	}
	return names, nil
}
