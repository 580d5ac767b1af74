package web

import (
	"crypto/rand"
	"net/http"
	"strings"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/hotline-az/hotline/store"
)

func newSessionID() string { return rand.Text() }

// totpOpts are the usual authenticator settings, with one step of clock
// skew either way.
var totpOpts = totp.ValidateOpts{Period: 30, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// checkTOTP checks the code (confirming enrolment on first login) and
// turns the half-done login into a full session under a new id.
func (h *handler) checkTOTP(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	sess, off, acct, ok := h.pendingLogin(r)
	if !ok {
		http.Redirect(w, r, "/login?expired=1", http.StatusSeeOther)
		return
	}
	now := h.now()
	acctKey, addrKey := h.accountKey(off.Name), h.addressKey(r)
	from := h.st.AddressTag(clientAddr(r))
	retry := func(status int, key string) {
		p := h.newPage(r, "totp.title", totpView{})
		p.Lang, p.Flash = langOf(acct.Lang), key
		if acct.TOTPSecret == "" {
			if k, err := otp.NewKeyFromURL(acct.PendingTOTP); err == nil {
				p.Data = totpView{Enroll: true, Secret: k.Secret()}
			}
		}
		h.render(w, status, "totp", p)
	}
	if !h.limiter.blockedUntil(acctKey, now).IsZero() || !h.limiter.blockedUntil(addrKey, now).IsZero() {
		retry(http.StatusTooManyRequests, "login.locked")
		return
	}
	code := strings.Join(strings.Fields(r.PostFormValue("code")), "")
	secret, enrolling := acct.TOTPSecret, false
	if secret == "" {
		k, err := otp.NewKeyFromURL(acct.PendingTOTP)
		if err != nil {
			http.Redirect(w, r, "/login/totp", http.StatusSeeOther)
			return
		}
		secret, enrolling = k.Secret(), true
	}
	valid, err := totp.ValidateCustom(code, secret, now, totpOpts)
	if err != nil || !valid {
		h.limiter.fail(acctKey, accountFreeFailures, now)
		h.limiter.fail(addrKey, addressFreeFailures, now)
		h.st.Update(r.Context(), func(tx *store.Tx) error {
			return tx.AppendAudit(store.AuditEntry{Actor: off.ID, Action: "login.failed", Detail: "totp", Via: "console", From: from})
		})
		retry(http.StatusUnauthorized, "login.failed")
		return
	}
	full := store.Session{ID: newSessionID(), OfficerID: off.ID, Stage: store.StageFull, CreatedAt: now, LastSeen: now}
	err = h.st.Update(r.Context(), func(tx *store.Tx) error {
		if enrolling {
			a := acct
			a.TOTPSecret, a.PendingTOTP = secret, ""
			if err := tx.PutAccount(a); err != nil {
				return err
			}
			if err := tx.AppendAudit(store.AuditEntry{Actor: off.ID, Action: "totp.enrolled", Object: off.ID, Via: "console", From: from}); err != nil {
				return err
			}
		}
		if err := tx.DeleteSession(sess.ID); err != nil {
			return err
		}
		if err := tx.PutSession(full); err != nil {
			return err
		}
		return tx.AppendAudit(store.AuditEntry{Actor: off.ID, Action: "login", Via: "console", From: from})
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.limiter.reset(acctKey)
	h.setSessionCookie(w, full.ID)
	http.Redirect(w, r, "/queue", http.StatusSeeOther)
}
