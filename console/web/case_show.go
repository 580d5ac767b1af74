package web

import (
	"cmp"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/store"
)

// caseView is everything the case page shows.
type caseView struct {
	Case       hotline.Case
	State      hotline.WorkState
	Reason     string
	NextStates []hotline.WorkState
	History    []historyItem
	Timeline   []timelineItem
	Alerts     []alertItem
	OpenAlert  int // number of the open alert, 0 if none
	Notes      []noteItem
	// Corrections are officers' changes of the case's priority.
	Corrections []correctionItem
	// LateReply is set when the reporter's last message is older than the
	// safe-reply window: the reply form then asks for a confirmation.
	LateReply   bool
	LastInbound time.Time
	// Draft and AskConfirm refill the reply form when a late reply was
	// sent without the confirmation.
	Draft      string
	AskConfirm bool
}

type timelineItem struct {
	In       bool
	At       time.Time
	Body     string
	Matched  []string
	Priority hotline.Priority
	Delivery string // of a reply: the outbox job's state and Twilio's status
}

type alertItem struct {
	Number   int
	Priority hotline.Priority
	State    hotline.AlertState
	OpenedAt time.Time
	AckedBy  string
	AckedAt  time.Time
	AckedVia string
	Attempts []attemptItem
}

type attemptItem struct {
	Kind     string
	Officer  string
	Round    int
	Step     int
	State    hotline.JobState
	Delivery string
	At       time.Time
}

type noteItem struct {
	By   string
	At   time.Time
	Text string
}

type historyItem struct {
	State hotline.WorkState
	By    string
	At    time.Time
}

// validCode says whether s looks like a case code, before any lookup.
func validCode(s string) bool {
	if len(s) != store.CodeLength {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("ACDEFHJKMNPQRTWXY34679", c) {
			return false
		}
	}
	return true
}

// loadCase reads a case and everything about it.
func (h *handler) loadCase(code string) (caseView, error) {
	var v caseView
	code = strings.ToUpper(code)
	if !validCode(code) {
		return v, hotline.Errorf(hotline.ENOTFOUND, "no case with that code")
	}
	var replyJobs = map[string]hotline.Job{}
	err := h.st.View(func(tx *store.Tx) error {
		c, err := tx.CaseByCode(code)
		if err != nil {
			return err
		}
		v.Case = c
		names, err := officerNames(tx)
		if err != nil {
			return err
		}
		work, err := tx.CaseWork(c.ID)
		if err != nil {
			return err
		}
		v.State, v.Reason = work.State, work.Reason
		for _, ch := range work.History {
			v.History = append(v.History, historyItem{State: ch.State, By: names[ch.OfficerID], At: ch.At})
		}
		jobs, err := tx.Jobs("")
		if err != nil {
			return err
		}
		byAlert := map[string][]hotline.Job{}
		for _, j := range jobs {
			if j.Kind == hotline.JobReplySMS && j.CaseID == c.ID {
				replyJobs[j.MessageID] = j
			} else if j.AlertID != "" {
				byAlert[j.AlertID] = append(byAlert[j.AlertID], j)
			}
		}
		alerts, err := tx.Alerts()
		if err != nil {
			return err
		}
		for _, a := range alerts {
			if a.CaseID != c.ID {
				continue
			}
			v.State = effectiveState(v.State, a)
			if a.State == hotline.AlertOpen {
				v.OpenAlert = a.Number
			}
			item := alertItem{Number: a.Number, Priority: a.Priority, State: a.State, OpenedAt: a.OpenedAt,
				AckedBy: names[a.AckedBy], AckedAt: a.AckedAt, AckedVia: a.AckedVia}
			js := byAlert[a.ID]
			slices.SortStableFunc(js, func(x, y hotline.Job) int {
				return cmp.Or(cmp.Compare(x.Round, y.Round), cmp.Compare(x.Step, y.Step), x.CreatedAt.Compare(y.CreatedAt))
			})
			for _, j := range js {
				kind := "sms"
				if j.Kind == hotline.JobAlertCall {
					kind = "call"
				}
				item.Attempts = append(item.Attempts, attemptItem{Kind: kind, Officer: names[j.OfficerID], Round: j.Round,
					Step: j.Step, State: j.State, Delivery: j.Delivery, At: j.UpdatedAt})
			}
			v.Alerts = append(v.Alerts, item)
		}
		if v.Corrections, err = correctionItems(tx, c.ID, names); err != nil {
			return err
		}
		notes, err := tx.Notes(c.ID)
		if err != nil {
			return err
		}
		for _, n := range notes {
			v.Notes = append(v.Notes, noteItem{By: names[n.OfficerID], At: n.At, Text: n.Text})
		}
		return nil
	})
	if err != nil {
		return v, err
	}
	msgs, err := h.st.CaseMessages(v.Case.ID)
	if err != nil {
		return v, err
	}
	for _, m := range msgs {
		item := timelineItem{In: m.Direction == hotline.Inbound, At: m.At, Body: m.Body, Matched: m.Matched, Priority: m.Priority}
		if item.In {
			v.LastInbound = m.At
		} else if j, ok := replyJobs[m.ID]; ok {
			item.Delivery = string(j.State)
			if j.Delivery != "" && j.Delivery != string(j.State) {
				item.Delivery += " · " + j.Delivery
			}
		}
		v.Timeline = append(v.Timeline, item)
	}
	v.LateReply = !v.LastInbound.IsZero() && h.now().Sub(v.LastInbound) > h.cfg.SafeReplyWindow
	for _, s := range hotline.WorkStates {
		if s.Rank() > v.State.Rank() {
			v.NextStates = append(v.NextStates, s)
		}
	}
	return v, nil
}

// showCase opens a case. The opening is written to the audit log before
// anything of the case is shown; if that fails, nothing is shown.
func (h *handler) showCase(w http.ResponseWriter, r *http.Request) {
	v, err := h.loadCase(mux.Vars(r)["code"])
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.st.Update(r.Context(), func(tx *store.Tx) error {
		return h.audit(tx, r, "case.open", v.Case.Code, "")
	}); err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, http.StatusOK, "case", h.newPage(r, "case.title", v))
}
