package web

import (
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/store"
)

// replyCase queues an officer's reply to the reporter: sealed, sent by
// the outbox from the hotline number. Past the safe-reply window the
// officer must tick the warning first.
func (h *handler) replyCase(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	v, err := h.loadCase(mux.Vars(r)["code"])
	if err != nil {
		h.fail(w, r, err)
		return
	}
	body := r.PostFormValue("body")
	if v.LateReply && r.PostFormValue("confirm_late") != "yes" {
		v.Draft, v.AskConfirm = body, true
		p := h.newPage(r, "case.title", v)
		p.Flash = "case.reply.needconfirm"
		h.render(w, http.StatusConflict, "case", p)
		return
	}
	off := officerFrom(r)
	err = h.st.Update(r.Context(), func(tx *store.Tx) error {
		j, err := h.disp.QueueReply(tx, v.Case.ID, off.ID, body)
		if err != nil {
			return err
		}
		detail := "job=" + j.ID
		if v.LateReply {
			detail += " late=confirmed"
		}
		return h.audit(tx, r, "case.reply", v.Case.Code, detail)
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.disp.Wake()
	http.Redirect(w, r, "/cases/"+v.Case.Code+"?m=case.reply.queued", http.StatusSeeOther)
}

// addNote seals an officer's note on the case.
func (h *handler) addNote(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	code := mux.Vars(r)["code"]
	text := r.PostFormValue("text")
	if len([]rune(text)) > 4000 {
		h.fail(w, r, hotline.Errorf(hotline.ETOOLARGE, "a note is at most 4000 characters"))
		return
	}
	var c hotline.Case
	err := h.st.Update(r.Context(), func(tx *store.Tx) error {
		var err error
		if c, err = caseByCode(tx, code); err != nil {
			return err
		}
		if len(trimmed(text)) == 0 {
			return hotline.Errorf(hotline.EINVALID, "the note is empty")
		}
		n, err := tx.AddNote(c.ID, officerFrom(r).ID, trimmed(text))
		if err != nil {
			return err
		}
		return h.audit(tx, r, "case.note", c.Code, "note="+n.ID)
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/cases/"+c.Code+"#notes", http.StatusSeeOther)
}

// changeState moves the case forward in its workflow; closing needs a
// reason.
func (h *handler) changeState(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	code := mux.Vars(r)["code"]
	to := hotline.WorkState(r.PostFormValue("state"))
	reason := trimmed(r.PostFormValue("reason"))
	if len([]rune(reason)) > 1000 {
		h.fail(w, r, hotline.Errorf(hotline.ETOOLARGE, "a reason is at most 1000 characters"))
		return
	}
	var c hotline.Case
	err := h.st.Update(r.Context(), func(tx *store.Tx) error {
		var err error
		if c, err = caseByCode(tx, code); err != nil {
			return err
		}
		if err := tx.SetCaseState(c.ID, to, officerFrom(r).ID, reason); err != nil {
			return err
		}
		return h.audit(tx, r, "case.state", c.Code, "state="+string(to))
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/cases/"+c.Code, http.StatusSeeOther)
}

func trimmed(s string) string { return strings.TrimSpace(s) }

// caseByCode finds a case by the code in a URL, refusing a malformed code
// before it reaches the store.
func caseByCode(tx *store.Tx, code string) (hotline.Case, error) {
	if !validCode(code) {
		return hotline.Case{}, hotline.Errorf(hotline.ENOTFOUND, "no case with that code")
	}
	return tx.CaseByCode(code)
}
