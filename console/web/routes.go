package web

import (
	"io/fs"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/hotline-az/hotline"
)

// routes lays out every console route.
func (h *handler) routes() http.Handler {
	r := mux.NewRouter()
	r.Use(h.accessLog)

	static, _ := fs.Sub(staticFS, "static")
	r.PathPrefix("/static/").Handler(http.StripPrefix("/static/", http.FileServerFS(static))).Methods(http.MethodGet)

	r.HandleFunc("/login", h.showLogin).Methods(http.MethodGet)
	r.HandleFunc("/login", h.checkLogin).Methods(http.MethodPost)
	r.HandleFunc("/login/totp", h.showTOTP).Methods(http.MethodGet)
	r.HandleFunc("/login/totp", h.checkTOTP).Methods(http.MethodPost)
	r.HandleFunc("/login/totp/qr.png", h.showTOTPQR).Methods(http.MethodGet)

	admin := r.PathPrefix("/admin").Subrouter()
	admin.Use(h.requireRole(hotline.RoleAdmin))
	admin.HandleFunc("/officers", h.showOfficers).Methods(http.MethodGet)
	admin.HandleFunc("/officers", h.addOfficer).Methods(http.MethodPost)
	admin.HandleFunc("/officers/{id}/reset-totp", h.resetTOTP).Methods(http.MethodPost)
	admin.HandleFunc("/officers/{id}/revoke", h.revokeSessions).Methods(http.MethodPost)
	admin.HandleFunc("/rota", h.showRota).Methods(http.MethodGet)
	admin.HandleFunc("/outbox", h.showOutbox).Methods(http.MethodGet)
	admin.HandleFunc("/outbox/{id}/retry", h.retryJob).Methods(http.MethodPost)
	admin.HandleFunc("/audit", h.showAudit).Methods(http.MethodGet)

	officer := r.NewRoute().Subrouter()
	officer.Use(h.requireRole())
	officer.HandleFunc("/", h.showHome).Methods(http.MethodGet)
	officer.HandleFunc("/logout", h.removeSession).Methods(http.MethodPost)
	officer.HandleFunc("/lang", h.saveLang).Methods(http.MethodPost)
	officer.HandleFunc("/queue", h.showQueue).Methods(http.MethodGet)
	officer.HandleFunc("/cases/{code}", h.showCase).Methods(http.MethodGet)
	officer.HandleFunc("/cases/{code}/ack", h.ackCase).Methods(http.MethodPost)
	officer.HandleFunc("/cases/{code}/reply", h.replyCase).Methods(http.MethodPost)
	officer.HandleFunc("/cases/{code}/notes", h.addNote).Methods(http.MethodPost)
	officer.HandleFunc("/cases/{code}/state", h.changeState).Methods(http.MethodPost)
	officer.HandleFunc("/cases/{code}/priority", h.changePriority).Methods(http.MethodPost)

	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.renderError(w, r, http.StatusNotFound, "error.notfound")
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.renderError(w, r, http.StatusMethodNotAllowed, "error.method")
	})

	var out http.Handler = r
	out = h.csrfProtect()(out)
	out = h.csrfTransport(out)
	out = h.recoverPanics(out)
	out = securityHeaders(out)
	return out
}
