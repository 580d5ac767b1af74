package console

import (
	"net/http"
	"time"

	"github.com/gorilla/mux"
)

type passwordRequest struct {
	Name     string `json:"name"`
	Password string `json:"password"`
}

type nameRequest struct {
	Name string `json:"name"`
}

// consoleRoutes adds the console's admin routes:
//
//	POST /officers/password    {name, password}
//	POST /officers/reset-totp  {name}
//	GET  /audit[?since=RFC3339] → []AuditEntryView
//	GET  /audit/verify          → AuditReport
//	GET  /cases[?open=1]        → []CaseView
//	GET  /cases/{code}          → CaseDetail (audited)
func (h *adminHandler) consoleRoutes(r *mux.Router) {
	r.HandleFunc("/officers/password", h.setPassword).Methods(http.MethodPost)
	r.HandleFunc("/officers/reset-totp", h.resetTOTP).Methods(http.MethodPost)
	r.HandleFunc("/audit", h.auditList).Methods(http.MethodGet)
	r.HandleFunc("/audit/verify", h.auditVerify).Methods(http.MethodGet)
	r.HandleFunc("/cases", h.cases).Methods(http.MethodGet)
	r.HandleFunc("/cases/{code}", h.showCase).Methods(http.MethodGet)
}

func (h *adminHandler) setPassword(w http.ResponseWriter, r *http.Request) {
	var req passwordRequest
	if !readJSON(w, r, &req) {
		return
	}
	err := h.a.SetPassword(r.Context(), req.Name, req.Password)
	writeResult(w, r, http.StatusOK, struct{}{}, err)
}

func (h *adminHandler) resetTOTP(w http.ResponseWriter, r *http.Request) {
	var req nameRequest
	if !readJSON(w, r, &req) {
		return
	}
	err := h.a.ResetTOTP(r.Context(), req.Name)
	writeResult(w, r, http.StatusOK, struct{}{}, err)
}

func (h *adminHandler) auditList(w http.ResponseWriter, r *http.Request) {
	var since time.Time
	if s := r.URL.Query().Get("since"); s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			writeError(w, r, invalid("--since: must be a time like 2026-11-24 or 2026-11-24T21:00:00+04:00"))
			return
		}
		since = t
	}
	list, err := h.a.AuditList(r.Context(), since)
	writeResult(w, r, http.StatusOK, list, err)
}

func (h *adminHandler) auditVerify(w http.ResponseWriter, r *http.Request) {
	rep, err := h.a.AuditVerify(r.Context())
	writeResult(w, r, http.StatusOK, rep, err)
}

func (h *adminHandler) cases(w http.ResponseWriter, r *http.Request) {
	list, err := h.a.Cases(r.Context(), r.URL.Query().Get("open") == "1")
	writeResult(w, r, http.StatusOK, list, err)
}

func (h *adminHandler) showCase(w http.ResponseWriter, r *http.Request) {
	d, err := h.a.ShowCase(r.Context(), mux.Vars(r)["code"])
	writeResult(w, r, http.StatusOK, d, err)
}
