package web

import (
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/dispatch"
	"github.com/hotline-az/hotline/store"
)

// correctionItem is one priority change on the case page.
type correctionItem struct {
	From, To, Triage hotline.Priority
	By               string
	At               time.Time
	Reason           string
	Matched          []string
}

// OtherPriorities are the priorities the case can be changed to.
func (v caseView) OtherPriorities() []hotline.Priority {
	var out []hotline.Priority
	for _, p := range []hotline.Priority{hotline.P1, hotline.P2, hotline.P3} {
		if p != v.Case.Priority {
			out = append(out, p)
		}
	}
	return out
}

// correctionItems reads a case's priority changes for its page.
func correctionItems(tx *store.Tx, caseID string, names map[string]string) ([]correctionItem, error) {
	list, err := tx.Corrections(caseID)
	var out []correctionItem
	for _, c := range list {
		by := names[c.OfficerID]
		if c.OfficerID == "" {
			by = "admin (" + c.Via + ")"
		}
		out = append(out, correctionItem{From: c.From, To: c.To, Triage: c.TriagePriority, By: by, At: c.At, Reason: c.Reason, Matched: c.TriageMatched})
	}
	return out, err
}

// changePriority corrects the case's priority on the officer's word, with
// a reason, through the same dispatch.CorrectPriority as the CLI: lowering
// acknowledges the case's open alert in the officer's name, raising an
// open case to P1 or P2 opens one. The change is audited in the same
// transaction; the reason is sealed and never logged.
func (h *handler) changePriority(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	code := mux.Vars(r)["code"]
	to := hotline.Priority(r.PostFormValue("priority"))
	reason := trimmed(r.PostFormValue("reason"))
	if err := store.CheckCorrection(to, reason); err != nil {
		h.fail(w, r, err)
		return
	}
	var c hotline.Case
	if err := h.st.View(func(tx *store.Tx) error {
		var err error
		c, err = caseByCode(tx, code)
		return err
	}); err != nil {
		h.fail(w, r, err)
		return
	}
	res, err := h.disp.CorrectPriority(r.Context(),
		dispatch.PriorityChange{CaseID: c.ID, To: to, OfficerID: officerFrom(r).ID, Via: "console", Reason: reason},
		func(tx *store.Tx, res dispatch.CorrectionResult) error {
			return h.audit(tx, r, "case.priority", res.Case.Code, res.AuditDetail())
		})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	msg := "case.priority.changed"
	switch {
	case res.Acknowledged.Number != 0:
		msg = "case.priority.acked"
	case res.Opened.Number != 0:
		msg = "case.priority.alerted"
	}
	http.Redirect(w, r, "/cases/"+c.Code+"?m="+msg, http.StatusSeeOther)
}

func init() {
	for k, v := range map[string][3]string{
		"case.priority":         {"Prioritet", "Приоритет", "Priority"},
		"case.priority.change":  {"Prioriteti dəyiş", "Изменить приоритет", "Change priority"},
		"case.priority.reason":  {"Səbəb (triaj nədə yanılıb)", "Причина (в чём ошибся триаж)", "Reason (what triage got wrong)"},
		"case.priority.hint":    {"Prioriteti azaltmaq açıq xəbərdarlığı sizin adınızdan qəbul edir. P1 və ya P2-yə qaldırmaq növbətçiyə xəbərdarlıq göndərir.", "Понижение приоритета принимает открытое оповещение от вашего имени. Повышение до P1 или P2 оповещает дежурного.", "Lowering the priority acknowledges the open alert in your name. Raising it to P1 or P2 alerts the duty officer."},
		"case.priority.changed": {"Prioritet dəyişdi.", "Приоритет изменён.", "Priority changed."},
		"case.priority.acked":   {"Prioritet azaldıldı; açıq xəbərdarlıq sizin adınızdan qəbul edildi.", "Приоритет понижен; открытое оповещение принято от вашего имени.", "Priority lowered; the open alert is acknowledged in your name."},
		"case.priority.alerted": {"Prioritet qaldırıldı; növbətçiyə xəbərdarlıq göndərilir.", "Приоритет повышен; дежурный оповещается.", "Priority raised; the duty officer is being alerted."},
		"case.priority.history": {"Prioritet dəyişiklikləri", "Изменения приоритета", "Priority changes"},
		"case.priority.triage":  {"triaj", "триаж", "triage"},
	} {
		messages[k] = v
	}
}
