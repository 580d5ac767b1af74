package console

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/dispatch"
	"github.com/hotline-az/hotline/store"
)

// CorrectionService is what an admin does with officers' corrections of
// triage: change a case's priority, and export every corrected case as
// labelled examples for the triage rules and model. *Admin does it
// in-process, *AdminClient over a running server's admin socket.
//
// Security contract: the reason for a change is sealed at rest and never
// logged; ExportCorrections returns tip text, is audited before it
// returns anything, and its caller must encrypt what it writes.
type CorrectionService interface {
	// SetPriority changes a case's priority, with a reason (required).
	// Lowering a case with an open alert acknowledges the alert as the
	// officer named in As, who is then required; raising an open case to
	// P1 or P2 opens an alert (see dispatch.CorrectPriority).
	SetPriority(ctx context.Context, req PriorityRequest) (PriorityView, error)
	// ExportCorrections returns every corrected case as a labelled tip in
	// the shape of triage/testdata, in the order of their last correction.
	ExportCorrections(ctx context.Context) (CorrectionExport, error)
}

var (
	_ CorrectionService = (*Admin)(nil)
	_ CorrectionService = (*AdminClient)(nil)
)

// PriorityRequest is a priority change asked for by an admin.
type PriorityRequest struct {
	Code     string           `json:"code"`
	Priority hotline.Priority `json:"priority"`
	Reason   string           `json:"reason"`
	// As names the officer the change is made as ("" for the admin, who
	// cannot then lower a case whose alert is open).
	As string `json:"as,omitempty"`
}

// PriorityView says what a priority change did. It holds no reason.
type PriorityView struct {
	Code   string           `json:"code"`
	From   hotline.Priority `json:"from"`
	To     hotline.Priority `json:"to"`
	Triage hotline.Priority `json:"triage"`
	// AcknowledgedAlert is the alert that lowering acknowledged, 0 if none.
	AcknowledgedAlert int `json:"acknowledged_alert,omitempty"`
	// OpenedAlert is the alert that raising opened, 0 if none.
	OpenedAlert int `json:"opened_alert,omitempty"`
}

// LabelledTip is one line of a triage/testdata file: the text, its
// language, and the priority and category it should get.
type LabelledTip struct {
	Text     string           `json:"text"`
	Lang     hotline.Lang     `json:"lang"`
	Priority hotline.Priority `json:"priority"`
	Category hotline.Category `json:"category"`
}

// CorrectionExport is every corrected case as a labelled tip, with counts
// an admin can check the file against.
type CorrectionExport struct {
	Tips []LabelledTip `json:"tips"`
	// Lowered and Raised count the tips whose label is below or above
	// what triage said.
	Lowered int `json:"lowered"`
	Raised  int `json:"raised"`
	// Skipped counts corrected cases with no reporter text.
	Skipped int `json:"skipped"`
}

// CorrectionView is one change of a case's priority as an admin sees it,
// with the officer's reason.
type CorrectionView struct {
	From    hotline.Priority `json:"from"`
	To      hotline.Priority `json:"to"`
	Triage  hotline.Priority `json:"triage"`
	Matched []string         `json:"triage_matched"`
	// By is the officer's name, "" for an admin on the server.
	By     string    `json:"by"`
	Via    string    `json:"via"`
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
}

// correctionViews reads a case's corrections, oldest first.
func (a *Admin) correctionViews(tx *store.Tx, caseID string, names map[string]string) ([]CorrectionView, error) {
	list, err := tx.Corrections(caseID)
	out := make([]CorrectionView, 0, len(list))
	for _, c := range list {
		out = append(out, CorrectionView{From: c.From, To: c.To, Triage: c.TriagePriority, Matched: c.TriageMatched,
			By: names[c.OfficerID], Via: c.Via, At: c.At.In(a.loc), Reason: c.Reason})
	}
	return out, err
}

// labelCategory is the category a tip's label gets: the testdata gives
// P3 tips "info" or "none", and P1 and P2 tips a kind of exploitation (or
// "none"), never "info".
func labelCategory(p hotline.Priority, c hotline.Category) hotline.Category {
	switch {
	case p == hotline.P3 && c != hotline.CategoryInfo:
		return hotline.CategoryNone
	case p != hotline.P3 && (c == hotline.CategoryInfo || c == ""):
		return hotline.CategoryNone
	}
	return c
}

// SetPriority implements CorrectionService. It is audited as
// "case.priority" by the admin (the cli actor), with the change and the
// alert it acted on as detail.
func (a *Admin) SetPriority(ctx context.Context, req PriorityRequest) (PriorityView, error) {
	if a.disp == nil {
		return PriorityView{}, hotline.Errorf(hotline.EINTERNAL, "changing a priority needs the alert dispatcher")
	}
	code := strings.ToUpper(strings.TrimSpace(req.Code))
	to := hotline.Priority(strings.ToUpper(strings.TrimSpace(string(req.Priority))))
	if err := store.CheckCorrection(to, req.Reason); err != nil {
		field := "--reason"
		if to.Rank() == 0 {
			field = "PRIORITY"
		}
		return PriorityView{}, &hotline.Error{Code: err.Code, Message: field + ": " + err.Message}
	}
	var c hotline.Case
	var officerID string
	err := a.st.View(func(tx *store.Tx) error {
		var err error
		if c, err = tx.CaseByCode(code); err != nil {
			return hotline.Errorf(hotline.ENOTFOUND, "CODE: no case %s (see hotline cases list)", code)
		}
		if strings.TrimSpace(req.As) != "" {
			o, found, err := tx.OfficerByName(req.As)
			if err != nil {
				return err
			} else if !found {
				return hotline.Errorf(hotline.ENOTFOUND, "--as: no officer named %q (see hotline officers list)", cleanName(req.As))
			}
			officerID = o.ID
		} else if open, isOpen, err := tx.OpenAlertForCase(c.ID); err != nil {
			return err
		} else if isOpen && to.Rank() < c.Priority.Rank() {
			return invalid("--as: case %s has open alert %d; lowering the case acknowledges it, so name the officer who takes it", c.Code, open.Number)
		}
		return nil
	})
	if err != nil {
		return PriorityView{}, err
	}
	res, err := a.disp.CorrectPriority(ctx, dispatch.PriorityChange{CaseID: c.ID, To: to, OfficerID: officerID, Via: "cli", Reason: req.Reason},
		func(tx *store.Tx, res dispatch.CorrectionResult) error {
			return tx.AppendAudit(store.AuditEntry{Actor: cliActor, Action: "case.priority", Object: res.Case.Code, Via: "cli",
				Detail: res.AuditDetail()})
		})
	if err != nil {
		return PriorityView{}, err
	}
	return priorityView(res), nil
}

func priorityView(res dispatch.CorrectionResult) PriorityView {
	return PriorityView{Code: res.Case.Code, From: res.Correction.From, To: res.Correction.To, Triage: res.Correction.TriagePriority,
		AcknowledgedAlert: res.Acknowledged.Number, OpenedAlert: res.Opened.Number}
}

// ExportCorrections implements CorrectionService. The export is written
// to the audit log ("triage.corrections_export") before any tip is
// returned; if that fails, nothing is.
func (a *Admin) ExportCorrections(ctx context.Context) (CorrectionExport, error) {
	tips, skipped, err := a.st.CorrectedTips()
	if err != nil {
		return CorrectionExport{}, err
	}
	out := CorrectionExport{Tips: make([]LabelledTip, 0, len(tips)), Skipped: skipped}
	for _, t := range tips {
		out.Tips = append(out.Tips, LabelledTip{Text: t.Text, Lang: t.Lang, Priority: t.Priority, Category: labelCategory(t.Priority, t.Category)})
		switch {
		case t.Priority.Rank() < t.Triage.Rank():
			out.Lowered++
		case t.Priority.Rank() > t.Triage.Rank():
			out.Raised++
		}
	}
	err = a.st.Update(ctx, func(tx *store.Tx) error {
		return tx.AppendAudit(store.AuditEntry{Actor: cliActor, Action: "triage.corrections_export", Via: "cli",
			Detail: fmt.Sprintf("tips=%d", len(out.Tips))})
	})
	if err != nil {
		return CorrectionExport{}, err
	}
	return out, nil
}
