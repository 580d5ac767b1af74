package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/crypto"
	"github.com/hotline-az/hotline/store"
)

// maxFormBytes bounds every console form.
const maxFormBytes = 16 << 10

// loginKeys name a login attempt in the throttle by keyed hash: the pair
// of the name typed and the client, and the client alone.
func (h *handler) loginKeys(name, client string) (pair, clientKey string) {
	folded := strings.ToLower(strings.Join(strings.Fields(name), " "))
	return "p:" + h.st.AddressTag("login\x00"+folded+"\x00"+client), "c:" + h.st.AddressTag(client)
}

// throttled audits an attempt the throttle refused (at most once a
// minute per limit and key, see noteRefusal).
func (h *handler) throttled(r *http.Request, v verdict, pair, clientKey, actor, from string) {
	if !h.throttle.noteRefusal(v, pair, clientKey, h.now()) {
		return
	}
	detail := map[verdict]string{pairWaiting: "name+client", clientWaiting: "client", globalSpent: "global"}[v]
	h.st.Update(r.Context(), func(tx *store.Tx) error {
		return tx.AppendAudit(store.AuditEntry{Actor: actor, Action: "login.throttled", Detail: detail, Via: "console", From: from})
	})
	if v == globalSpent {
		h.log.Warn().Msg("console login refused: the global budget of failed logins is spent (a guessing attack from many addresses?)")
	}
}

// errVerifyBusy says every password-check slot is taken.
var errVerifyBusy = errors.New("too many password checks at once")

// verifyPassword checks password against hash in one of h.verifying's
// slots, or returns errVerifyBusy at once if none is free.
func (h *handler) verifyPassword(hash, password string) (bool, error) {
	select {
	case h.verifying <- struct{}{}:
	default:
		return false, errVerifyBusy
	}
	defer func() { <-h.verifying }()
	return crypto.VerifyPassword(hash, password) == nil, nil
}

// checkLogin checks a name and password. Whether the name exists, the
// password is wrong, or the attempt is throttled, the answer says only
// "wrong name, password or code" or "too many attempts".
func (h *handler) checkLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	name := strings.TrimSpace(r.PostFormValue("name"))
	password := r.PostFormValue("password")
	chosen := hotline.Lang(r.PostFormValue("lang"))
	if !chosen.Valid() {
		chosen = ""
	}
	now := h.now()
	client := h.clientAddr(r)
	pair, clientKey := h.loginKeys(name, client)
	from := h.st.AddressTag(client)

	again := func(status int, key string) {
		p := h.newPage(r, "login.title", loginView{Name: name, Chosen: chosen})
		p.Lang, p.Flash = langOf(chosen), key
		h.render(w, status, "login", p)
	}
	v, try := h.throttle.check(pair, clientKey, now)
	if v != allowed {
		h.throttled(r, v, pair, clientKey, "", from)
		again(http.StatusTooManyRequests, "login.locked")
		return
	}
	defer try.release()

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
	right, err := h.verifyPassword(hash, password)
	if err != nil {
		try.release()
		again(http.StatusTooManyRequests, "login.locked")
		return
	}
	if ok := right && found && password != ""; !ok {
		try.fail(now)
		h.st.Update(r.Context(), func(tx *store.Tx) error {
			return tx.AppendAudit(store.AuditEntry{Actor: off.ID, Action: "login.failed", Detail: "password", Via: "console", From: from})
		})
		h.log.Info().Msg("console login failed")
		again(http.StatusUnauthorized, "login.failed")
		return
	}
	// The language picked on the login page rides on the half-done login
	// and becomes the officer's once the code is right.
	sess := store.Session{ID: newSessionID(), OfficerID: off.ID, Stage: store.StagePassword, CreatedAt: now, LastSeen: now, Lang: chosen}
	err = h.st.Update(r.Context(), func(tx *store.Tx) error {
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
