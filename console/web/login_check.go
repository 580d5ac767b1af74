package web

import (
	"net/http"
	"strings"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/crypto"
	"github.com/hotline-az/hotline/store"
)

// maxFormBytes bounds every console form.
const maxFormBytes = 16 << 10

// accountKey and addressKey name an account and a client address in the
// lockout limiter by keyed hash.
func (h *handler) accountKey(name string) string {
	return "n:" + h.st.AddressTag("login-name\x00"+strings.ToLower(strings.Join(strings.Fields(name), " ")))
}

func (h *handler) addressKey(r *http.Request) string { return "a:" + h.st.AddressTag(clientAddr(r)) }

// checkLogin checks a name and password. Whether the name exists, the
// password is wrong, or the account or address is locked out, the
// answer says only "wrong name, password or code" or "too many attempts".
func (h *handler) checkLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	name := strings.TrimSpace(r.PostFormValue("name"))
	password := r.PostFormValue("password")
	lang := langOf(hotline.Lang(r.PostFormValue("lang")))
	now := h.now()
	acctKey, addrKey := h.accountKey(name), h.addressKey(r)
	from := h.st.AddressTag(clientAddr(r))

	again := func(status int, key string) {
		p := h.newPage(r, "login.title", loginView{Name: name})
		p.Lang, p.Flash = lang, key
		h.render(w, status, "login", p)
	}
	if !h.limiter.blockedUntil(acctKey, now).IsZero() || !h.limiter.blockedUntil(addrKey, now).IsZero() {
		h.st.Update(r.Context(), func(tx *store.Tx) error {
			return tx.AppendAudit(store.AuditEntry{Action: "login.locked", Via: "console", From: from})
		})
		again(http.StatusTooManyRequests, "login.locked")
		return
	}

	var off hotline.Officer
	var acct store.Account
	found := false
	if name != "" && len(name) < 200 {
		err := h.st.View(func(tx *store.Tx) error {
			o, ok, err := tx.OfficerByName(name)
			if err != nil || !ok {
				return err
			}
			a, ok, err := tx.Account(o.ID)
			if err != nil || !ok {
				return err
			}
			off, acct, found = o, a, true
			return nil
		})
		if err != nil {
			h.fail(w, r, err)
			return
		}
	}
	hash := h.dummyHash
	if found {
		hash = acct.PasswordHash
	}
	// Verify even for an unknown name, so both take as long.
	ok := crypto.VerifyPassword(hash, password) == nil && found && password != ""
	if !ok {
		h.limiter.fail(acctKey, accountFreeFailures, now)
		h.limiter.fail(addrKey, addressFreeFailures, now)
		h.st.Update(r.Context(), func(tx *store.Tx) error {
			return tx.AppendAudit(store.AuditEntry{Actor: off.ID, Action: "login.failed", Detail: "password", Via: "console", From: from})
		})
		h.log.Info().Msg("console login failed")
		again(http.StatusUnauthorized, "login.failed")
		return
	}
	sess := store.Session{ID: newSessionID(), OfficerID: off.ID, Stage: store.StagePassword, CreatedAt: now, LastSeen: now}
	err := h.st.Update(r.Context(), func(tx *store.Tx) error {
		if err := tx.PutSession(sess); err != nil {
			return err
		}
		return tx.AppendAudit(store.AuditEntry{Actor: off.ID, Action: "login.password", Via: "console", From: from})
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.setSessionCookie(w, sess.ID)
	http.Redirect(w, r, "/login/totp", http.StatusSeeOther)
}
