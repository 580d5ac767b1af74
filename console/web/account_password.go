package web

import (
	"net/http"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/console"
	"github.com/hotline-az/hotline/crypto"
	"github.com/hotline-az/hotline/store"
)

// accountView is the officer's own account page.
type accountView struct {
	MinLength int
	// Problem is why the new password was refused ("" if it was not).
	Problem string
}

// showAccount is the officer's own page: change the password.
func (h *handler) showAccount(w http.ResponseWriter, r *http.Request) {
	h.render(w, http.StatusOK, "account", h.newPage(r, "account.title", accountView{MinLength: console.MinPasswordLen}))
}

// changePassword sets the officer's own password after checking the
// current one. A wrong current password counts as a failed login (a
// stolen session must not become a way to guess it). Every other session
// of the officer ends; this browser gets a new session id.
func (h *handler) changePassword(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	off := officerFrom(r)
	current, next, again := r.PostFormValue("current"), r.PostFormValue("new"), r.PostFormValue("again")
	now := h.now()
	client := h.clientAddr(r)
	pair, clientKey := h.loginKeys(off.Name, client)
	refuse := func(status int, flash, problem string) {
		p := h.newPage(r, "account.title", accountView{MinLength: console.MinPasswordLen, Problem: problem})
		p.Flash = flash
		h.render(w, status, "account", p)
	}
	v, try := h.throttle.check(pair, clientKey, now)
	if v != allowed {
		h.throttled(r, v, pair, clientKey, off.ID, h.st.AddressTag(client))
		refuse(http.StatusTooManyRequests, "login.locked", "")
		return
	}
	defer try.release()
	var acct store.Account
	if err := h.st.View(func(tx *store.Tx) error {
		a, ok, err := tx.Account(off.ID)
		if err == nil && !ok {
			err = hotline.Errorf(hotline.ENOTFOUND, "no console account")
		}
		acct = a
		return err
	}); err != nil {
		h.fail(w, r, err)
		return
	}
	right, err := h.verifyPassword(acct.PasswordHash, current)
	if err != nil {
		try.release()
		refuse(http.StatusTooManyRequests, "login.locked", "")
		return
	}
	if !right {
		try.fail(now)
		h.st.Update(r.Context(), func(tx *store.Tx) error {
			return h.audit(tx, r, "password.change_failed", off.ID, "current password wrong")
		})
		refuse(http.StatusUnauthorized, "account.wrongcurrent", "")
		return
	}
	if p := console.PasswordProblem(next); p != "" {
		refuse(http.StatusBadRequest, "", p)
		return
	}
	if next != again {
		refuse(http.StatusBadRequest, "account.mismatch", "")
		return
	}
	if next == current {
		refuse(http.StatusBadRequest, "account.same", "")
		return
	}
	hash, err := crypto.HashPassword(next, h.cfg.PasswordParams)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	fresh := store.Session{ID: newSessionID(), OfficerID: off.ID, Stage: store.StageFull, CreatedAt: sessionFrom(r).CreatedAt, LastSeen: now}
	err = h.st.Update(r.Context(), func(tx *store.Tx) error {
		a, ok, err := tx.Account(off.ID)
		if err != nil {
			return err
		}
		if !ok || a.PasswordHash != acct.PasswordHash {
			return hotline.Errorf(hotline.ECONFLICT, "the password was changed meanwhile; log in again")
		}
		a.PasswordHash, a.PasswordSetAt = hash, now
		if err := tx.PutAccount(a); err != nil {
			return err
		}
		if _, err := tx.DeleteSessions(off.ID); err != nil {
			return err
		}
		if err := tx.PutSession(fresh); err != nil {
			return err
		}
		return h.audit(tx, r, "password.changed", off.ID, "")
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.setSessionCookie(w, fresh.ID)
	http.Redirect(w, r, "/account?m=account.changed", http.StatusSeeOther)
}
