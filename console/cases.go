package console

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/store"
)

// CaseView is a case in a list: metadata only, never text.
type CaseView struct {
	Code      string             `json:"code"`
	Priority  hotline.Priority   `json:"priority"`
	Category  hotline.Category   `json:"category"`
	Lang      hotline.Lang       `json:"lang"`
	Channel   hotline.Channel    `json:"channel"`
	Status    hotline.CaseStatus `json:"status"`
	State     hotline.WorkState  `json:"state"`
	Messages  int                `json:"messages"`
	OpenedAt  time.Time          `json:"opened_at"`
	UpdatedAt time.Time          `json:"updated_at"`
}

// CaseDetail is one case opened: its messages, notes and workflow.
// Reading it is audited.
type CaseDetail struct {
	CaseView
	Reason   string        `json:"close_reason,omitempty"`
	Messages []MessageView `json:"messages"`
	Notes    []NoteView    `json:"notes"`
	History  []WorkView    `json:"history"`
	Alerts   []AlertView   `json:"alerts"`
	// Corrections are officers' changes of the case's priority.
	Corrections []CorrectionView `json:"corrections"`
}

// MessageView is one message of a case. It never holds the number.
type MessageView struct {
	Direction hotline.Direction `json:"direction"`
	At        time.Time         `json:"at"`
	Priority  hotline.Priority  `json:"priority,omitempty"`
	Body      string            `json:"body"`
	Matched   []string          `json:"matched,omitempty"`
}

// NoteView is an officer's note.
type NoteView struct {
	By   string    `json:"by"`
	At   time.Time `json:"at"`
	Text string    `json:"text"`
}

// WorkView is one workflow step.
type WorkView struct {
	State hotline.WorkState `json:"state"`
	By    string            `json:"by"`
	At    time.Time         `json:"at"`
}

// Cases implements AdminService.
func (a *Admin) Cases(ctx context.Context, openOnly bool) ([]CaseView, error) {
	cases, err := a.st.ListCases()
	if err != nil {
		return nil, err
	}
	out := []CaseView{}
	err = a.st.View(func(tx *store.Tx) error {
		states, err := tx.CaseWorkStates()
		if err != nil {
			return err
		}
		for _, c := range cases {
			if openOnly && c.Status != hotline.CaseOpen {
				continue
			}
			v := a.caseView(c)
			if s, ok := states[c.ID]; ok {
				v.State = s
			}
			out = append(out, v)
		}
		return nil
	})
	slices.SortStableFunc(out, func(x, y CaseView) int {
		return cmp.Or(cmp.Compare(y.Priority.Rank(), x.Priority.Rank()), x.OpenedAt.Compare(y.OpenedAt))
	})
	return out, err
}

func (a *Admin) caseView(c hotline.Case) CaseView {
	return CaseView{Code: c.Code, Priority: c.Priority, Category: c.Category, Lang: c.Lang, Channel: c.Channel,
		Status: c.Status, State: hotline.WorkNew, Messages: c.Messages, OpenedAt: c.OpenedAt.In(a.loc), UpdatedAt: c.UpdatedAt.In(a.loc)}
}

// ShowCase implements AdminService: the opening is written to the audit
// log first, and nothing is returned if that fails.
func (a *Admin) ShowCase(ctx context.Context, code string) (CaseDetail, error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	var d CaseDetail
	var caseID string
	var names map[string]string
	err := a.st.View(func(tx *store.Tx) error {
		c, err := tx.CaseByCode(code)
		if err != nil {
			return hotline.Errorf(hotline.ENOTFOUND, "CODE: no case %s (see hotline cases list)", code)
		}
		caseID = c.ID
		d.CaseView = a.caseView(c)
		if names, err = officerNames(tx); err != nil {
			return err
		}
		w, err := tx.CaseWork(c.ID)
		if err != nil {
			return err
		}
		d.State, d.Reason = w.State, w.Reason
		for _, h := range w.History {
			d.History = append(d.History, WorkView{State: h.State, By: names[h.OfficerID], At: h.At.In(a.loc)})
		}
		if d.Corrections, err = a.correctionViews(tx, c.ID, names); err != nil {
			return err
		}
		notes, err := tx.Notes(c.ID)
		if err != nil {
			return err
		}
		for _, n := range notes {
			d.Notes = append(d.Notes, NoteView{By: names[n.OfficerID], At: n.At.In(a.loc), Text: n.Text})
		}
		return nil
	})
	if err != nil {
		return d, err
	}
	if err := a.st.Update(ctx, func(tx *store.Tx) error {
		return tx.AppendAudit(store.AuditEntry{Actor: cliActor, Action: "case.open", Object: code, Via: "cli"})
	}); err != nil {
		return CaseDetail{}, err
	}
	msgs, err := a.st.CaseMessages(caseID)
	if err != nil {
		return CaseDetail{}, err
	}
	for _, m := range msgs {
		d.Messages = append(d.Messages, MessageView{Direction: m.Direction, At: m.At.In(a.loc), Priority: m.Priority, Body: m.Body, Matched: m.Matched})
	}
	alerts, err := a.Alerts(ctx)
	if err != nil {
		return CaseDetail{}, err
	}
	for _, al := range alerts {
		if al.CaseCode == code {
			d.Alerts = append(d.Alerts, al)
		}
	}
	if d.Notes == nil {
		d.Notes = []NoteView{}
	}
	if d.History == nil {
		d.History = []WorkView{}
	}
	if d.Alerts == nil {
		d.Alerts = []AlertView{}
	}
	return d, nil
}
