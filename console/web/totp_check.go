package web

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/store"
)

func newSessionID() string { return rand.Text() }

// totpOpts are the usual authenticator settings; totpSkew accepts one
// step of clock drift either way.
var totpOpts = totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

const totpSkew = 1

// totpStep returns the time step whose code matches code, if one within
// the skew does. totp.Validate says only yes or no; the step is what
// stops a code from being used twice.
func totpStep(code, secret string, now time.Time) (int64, bool) {
	if len(code) != int(totpOpts.Digits) {
		return 0, false
	}
	period := int64(totpOpts.Period)
	step := now.Unix() / period
	for s := step - totpSkew; s <= step+totpSkew; s++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(s*period, 0), totpOpts)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return s, true
		}
	}
	return 0, false
}

// errCodeUsed refuses a code whose step was already used.
var errCodeUsed = errors.New("totp code already used")

// checkTOTP checks the code (confirming enrolment on first login) and
// turns the half-done login into a full session under a new id. Each
// code logs in once: the step of the last accepted code is kept (sealed
// with the account) and a code of that step or an earlier one is refused.
func (h *handler) checkTOTP(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	sess, off, acct, ok := h.pendingLogin(r)
	if !ok {
		http.Redirect(w, r, "/login?expired=1", http.StatusSeeOther)
		return
	}
	now := h.now()
	client := h.clientAddr(r)
	pair, clientKey := h.loginKeys(off.Name, client)
	from := h.st.AddressTag(client)
	lang := langOf(acct.Lang)
	if sess.Lang != "" {
		lang = sess.Lang
	}
	retry := func(status int, key string) {
		p := h.newPage(r, "totp.title", totpView{})
		p.Lang, p.Flash = lang, key
		if acct.TOTPSecret == "" {
			if k, err := otp.NewKeyFromURL(acct.PendingTOTP); err == nil {
				p.Data = totpView{Enroll: true, Secret: k.Secret()}
			}
		}
		h.render(w, status, "totp", p)
	}
	v, try := h.throttle.check(pair, clientKey, now)
	if v != allowed {
		h.throttled(r, v, pair, clientKey, off.ID, from)
		retry(http.StatusTooManyRequests, "login.locked")
		return
	}
	defer try.release()
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
	sessKey, accountKey := "s:"+h.st.AddressTag("totp\x00"+sess.ID), "a:"+off.ID
	failed := func(detail string) {
		try.fail(now)
		h.st.Update(r.Context(), func(tx *store.Tx) error {
			return tx.AppendAudit(store.AuditEntry{Actor: off.ID, Action: "login.failed", Detail: detail, Via: "console", From: from})
		})
		if !h.throttle.failTOTP(sessKey, accountKey, now) {
			retry(http.StatusUnauthorized, "login.failed")
			return
		}
		// Too many wrong codes: end the half-done login, so the next
		// guess needs the password (and its throttle) again.
		err := h.st.Update(r.Context(), func(tx *store.Tx) error {
			if err := tx.DeleteSession(sess.ID); err != nil {
				return err
			}
			return tx.AppendAudit(store.AuditEntry{Actor: off.ID, Action: "login.totp_locked", Detail: "too many wrong codes; password required again", Via: "console", From: from})
		})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		h.log.Warn().Msg("console login ended after too many wrong codes (a stolen password?)")
		h.clearSessionCookie(w)
		http.Redirect(w, r, "/login?expired=1", http.StatusSeeOther)
	}
	step, valid := totpStep(code, secret, now)
	if !valid {
		failed("totp")
		return
	}
	full := store.Session{ID: newSessionID(), OfficerID: off.ID, Stage: store.StageFull, CreatedAt: now, LastSeen: now}
	err := h.st.Update(r.Context(), func(tx *store.Tx) error {
		// Read the account again inside the write: two requests racing
		// with one code must not both pass.
		a, found, err := tx.Account(off.ID)
		if err != nil {
			return err
		}
		if !found {
			return hotline.Errorf(hotline.ENOTFOUND, "no such account")
		}
		if step <= a.TOTPLastStep {
			return errCodeUsed
		}
		a.TOTPLastStep = step
		if enrolling {
			a.TOTPSecret, a.PendingTOTP = secret, ""
		}
		if sess.Lang != "" {
			a.Lang = sess.Lang
		}
		if err := tx.PutAccount(a); err != nil {
			return err
		}
		if enrolling {
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
	if errors.Is(err, errCodeUsed) {
		failed("totp reused")
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.throttle.succeed(pair, now)
	h.throttle.succeedTOTP(sessKey, accountKey)
	h.setSessionCookie(w, full.ID)
	http.Redirect(w, r, "/queue", http.StatusSeeOther)
}
