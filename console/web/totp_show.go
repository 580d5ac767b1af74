package web

import (
	"crypto/rand"
	"net/http"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/store"
)

// totpIssuer is how authenticator apps label the account.
const totpIssuer = "Hotline"

type totpView struct {
	Enroll bool
	Secret string
}

// pendingLogin returns the session of a login whose password was right
// and whose TOTP code is due.
func (h *handler) pendingLogin(r *http.Request) (store.Session, hotline.Officer, store.Account, bool) {
	sess, off, acct, ok := h.loadSession(r)
	if !ok || sess.Stage != store.StagePassword {
		return store.Session{}, hotline.Officer{}, store.Account{}, false
	}
	return sess, off, acct, true
}

// showTOTP asks for the TOTP code, or on first login shows the QR code
// to enrol (a new secret is made once and kept until it is confirmed).
func (h *handler) showTOTP(w http.ResponseWriter, r *http.Request) {
	sess, off, acct, ok := h.pendingLogin(r)
	if !ok {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	view := totpView{}
	if acct.TOTPSecret == "" {
		if acct.PendingTOTP == "" {
			key, err := totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: off.Name, Rand: rand.Reader})
			if err != nil {
				h.fail(w, r, err)
				return
			}
			acct.PendingTOTP = key.String()
			if err := h.st.Update(r.Context(), func(tx *store.Tx) error { return tx.PutAccount(acct) }); err != nil {
				h.fail(w, r, err)
				return
			}
		}
		key, err := otp.NewKeyFromURL(acct.PendingTOTP)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		view = totpView{Enroll: true, Secret: key.Secret()}
	}
	p := h.newPage(r, "totp.title", view)
	p.Lang = langOf(acct.Lang)
	if sess.Lang != "" {
		p.Lang = sess.Lang // picked on the login page
	}
	h.render(w, http.StatusOK, "totp", p)
}

// showTOTPQR draws the enrolment QR code (an otpauth:// URL) as a PNG.
func (h *handler) showTOTPQR(w http.ResponseWriter, r *http.Request) {
	_, _, acct, ok := h.pendingLogin(r)
	if !ok || acct.TOTPSecret != "" || acct.PendingTOTP == "" {
		h.renderError(w, r, http.StatusNotFound, "error.notfound")
		return
	}
	png, err := qrcode.Encode(acct.PendingTOTP, qrcode.Medium, 256)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Write(png)
}
