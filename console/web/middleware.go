package web

import (
	"context"
	"net/http"
	"time"

	"github.com/gorilla/csrf"
	"github.com/gorilla/mux"
	"github.com/rs/zerolog/hlog"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/console"
	"github.com/hotline-az/hotline/store"
)

// contentSecurityPolicy allows nothing but our own stylesheet, our own
// images (the enrolment QR code), our own audio (voicemail) and forms
// posted to ourselves: no script, no frames, no outside fetches.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self'; media-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// securityHeaders sets the headers every console response carries,
// errors and redirects included.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("Cache-Control", "no-store")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// accessLog writes one line per request: method, route template, status,
// duration. Never the URL (it holds case codes' neighbours: ids), the
// client address, a form field or a cookie.
func (h *handler) accessLog(next http.Handler) http.Handler {
	return hlog.AccessHandler(func(r *http.Request, status, size int, d time.Duration) {
		route := "unmatched"
		if cr := mux.CurrentRoute(r); cr != nil {
			if t, err := cr.GetPathTemplate(); err == nil {
				route = t
			}
		}
		h.log.Info().Str("method", r.Method).Str("route", route).Int("status", status).Dur("duration", d).Msg("console request")
	})(next)
}

// recoverPanics turns a panic into a 500 page with nothing of the request
// in the log.
func (h *handler) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				h.log.Error().Msg("panic in console handler")
				h.renderError(w, r, http.StatusInternalServerError, "error.internal")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// csrfTransport adapts requests for gorilla/csrf. Over plain HTTP (dev on
// loopback) it says so, or csrf would demand an https Origin. And since
// every page sends Referrer-Policy: no-referrer, browsers post forms with
// "Origin: null" and no Referer, which csrf would refuse: such requests
// are checked by the masked token alone (plus SameSite=Strict cookies).
// A real foreign Origin is still refused.
func (h *handler) csrfTransport(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !h.cfg.Secure {
			r = csrf.PlaintextHTTPRequest(r)
		}
		if r.Header.Get("Origin") == "null" {
			r.Header.Del("Origin")
			r = csrf.PlaintextHTTPRequest(r) // no Referer to check either
		}
		next.ServeHTTP(w, r)
	})
}

func (h *handler) csrfProtect() func(http.Handler) http.Handler {
	return csrf.Protect(h.cfg.CSRFKey,
		csrf.CookieName(h.cookieName("csrf")),
		csrf.FieldName("csrf_token"),
		csrf.Secure(h.cfg.Secure),
		csrf.HttpOnly(true),
		csrf.Path("/"),
		csrf.SameSite(csrf.SameSiteStrictMode),
		csrf.ErrorHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.log.Warn().Str("reason", csrf.FailureReason(r).Error()).Msg("console form refused: CSRF check failed")
			h.renderError(w, r, http.StatusForbidden, "error.csrf")
		})),
	)
}

type ctxKey int

const (
	ctxSession ctxKey = iota
	ctxOfficer
	ctxLang
)

// loadSession finds the request's session, ends it if it is idle or too
// old, and refreshes its last-seen time (at most once a minute, to spare
// the disk a write per page).
func (h *handler) loadSession(r *http.Request) (store.Session, hotline.Officer, store.Account, bool) {
	c, err := r.Cookie(h.cookieName("session"))
	if err != nil || c.Value == "" || len(c.Value) > 128 {
		return store.Session{}, hotline.Officer{}, store.Account{}, false
	}
	now := h.now()
	var sess store.Session
	var off hotline.Officer
	var acct store.Account
	found := false
	err = h.st.View(func(tx *store.Tx) error {
		s, ok, err := tx.Session(c.Value)
		if err != nil || !ok {
			return err
		}
		o, err := tx.Officer(s.OfficerID)
		if err != nil {
			return nil // officer removed: the session is worthless
		}
		a, ok, err := tx.Account(s.OfficerID)
		if err != nil || !ok {
			return err
		}
		sess, off, acct, found = s, o, a, true
		return nil
	})
	if err != nil {
		h.log.Error().Err(err).Msg("load console session")
		return store.Session{}, hotline.Officer{}, store.Account{}, false
	}
	if !found {
		return store.Session{}, hotline.Officer{}, store.Account{}, false
	}
	idle := h.cfg.IdleTimeout
	if sess.Stage != store.StageFull {
		idle = loginStageTimeout
	}
	if now.Sub(sess.LastSeen) > idle || now.Sub(sess.CreatedAt) > h.cfg.AbsoluteTimeout {
		h.st.Update(r.Context(), func(tx *store.Tx) error { return tx.DeleteSession(sess.ID) })
		return store.Session{}, hotline.Officer{}, store.Account{}, false
	}
	if now.Sub(sess.LastSeen) > time.Minute {
		sess.LastSeen = now
		if err := h.st.Update(r.Context(), func(tx *store.Tx) error { return tx.PutSession(sess) }); err != nil {
			h.log.Error().Err(err).Msg("refresh console session")
		}
	}
	return sess, off, acct, true
}

// requireRole lets through only a fully logged-in officer with one of
// roles (any role when none are given): anonymous visitors are sent to
// the login page, officers without the role get 403.
func (h *handler) requireRole(roles ...hotline.Role) mux.MiddlewareFunc {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sess, off, acct, ok := h.loadSession(r)
			if !ok || sess.Stage != store.StageFull {
				h.clearSessionCookie(w)
				http.Redirect(w, r, "/login", http.StatusSeeOther)
				return
			}
			ctx := context.WithValue(r.Context(), ctxSession, sess)
			ctx = context.WithValue(ctx, ctxOfficer, off)
			ctx = context.WithValue(ctx, ctxLang, langOf(acct.Lang))
			r = r.WithContext(ctx)
			if len(roles) > 0 && !hasRole(off.Role, roles) {
				h.renderError(w, r, http.StatusForbidden, "error.forbidden")
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func hasRole(r hotline.Role, roles []hotline.Role) bool {
	for _, want := range roles {
		if r == want {
			return true
		}
	}
	return false
}

func officerFrom(r *http.Request) hotline.Officer {
	o, _ := r.Context().Value(ctxOfficer).(hotline.Officer)
	return o
}

func sessionFrom(r *http.Request) store.Session {
	s, _ := r.Context().Value(ctxSession).(store.Session)
	return s
}

// cookieName uses the __Host- prefix when cookies are Secure, so a
// neighbour on the same site cannot plant them.
func (h *handler) cookieName(name string) string {
	if h.cfg.Secure {
		return "__Host-hotline_" + name
	}
	return "hotline_" + name
}

func (h *handler) setSessionCookie(w http.ResponseWriter, id string) {
	http.SetCookie(w, &http.Cookie{
		Name: h.cookieName("session"), Value: id, Path: "/",
		HttpOnly: true, Secure: h.cfg.Secure, SameSite: http.SameSiteStrictMode,
	})
}

func (h *handler) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: h.cookieName("session"), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: h.cfg.Secure, SameSite: http.SameSiteStrictMode,
	})
}

// admin is the admin service acting for the request's officer: what it
// changes is audited as them, via the console, from their address.
func (h *handler) admin(r *http.Request) *console.Admin {
	return console.NewAdmin(h.st, h.disp, h.loc).ActingAs(officerFrom(r).ID, "console", h.st.AddressTag(h.clientAddr(r)))
}

// audit appends an audit entry in tx for the request's officer.
func (h *handler) audit(tx *store.Tx, r *http.Request, action, object, detail string) error {
	return tx.AppendAudit(store.AuditEntry{
		Actor: officerFrom(r).ID, Action: action, Object: object, Detail: detail,
		Via: "console", From: h.st.AddressTag(h.clientAddr(r)),
	})
}
