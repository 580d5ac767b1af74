package console

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"
	"github.com/rs/zerolog/hlog"

	"github.com/hotline-az/hotline"
)

// Request bounds for the admin API.
const (
	maxJSONBody = 64 << 10
	maxRotaBody = 2 << 20 // dispatch.ParseRota itself stops at 1 MiB
)

// errorBody is how the admin API reports an error.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// addOfficerRequest is the body of POST /officers.
type addOfficerRequest struct {
	Name  string `json:"name"`
	Phone string `json:"phone"`
	Role  string `json:"role"`
}

// overrideRequest is the body of POST /rota/overrides.
type overrideRequest struct {
	Officer string    `json:"officer"`
	Backup  string    `json:"backup,omitempty"`
	From    time.Time `json:"from,omitzero"`
	To      time.Time `json:"to,omitzero"`
}

type zoneBody struct {
	TimeZone string `json:"time_zone"`
}

// NewAdminHandler serves the admin API of a as JSON over HTTP, for the
// admin socket:
//
//	POST   /officers            {name, phone, role} → OfficerView
//	GET    /officers[?phones=1] → []OfficerView
//	DELETE /officers?name=N
//	GET    /rota[?at=RFC3339]   → RotaView
//	GET    /rota/zone           → {time_zone}
//	POST   /rota/shifts         ShiftSpec → RotaView
//	POST   /rota/overrides      {officer, backup, from, to} → OverrideView
//	PUT    /rota[?name=FILE]    TOML rota file → RotaView
//	GET    /alerts              → []AlertView
//	POST   /alerts/N/ACTION     {"as"} → AlertView (ack, close, reopen, escalate)
//
// Errors are {"error": {"code", "message"}} with a status from the code.
// Log lines carry the route, status, error code and duration: never a
// name, number, query string or body.
func NewAdminHandler(a *Admin, log zerolog.Logger) http.Handler {
	h := &adminHandler{a: a}
	r := mux.NewRouter()
	r.HandleFunc("/officers", h.addOfficer).Methods(http.MethodPost)
	r.HandleFunc("/officers", h.listOfficers).Methods(http.MethodGet)
	r.HandleFunc("/officers", h.removeOfficer).Methods(http.MethodDelete)
	r.HandleFunc("/rota", h.rotaShow).Methods(http.MethodGet)
	r.HandleFunc("/rota", h.rotaImport).Methods(http.MethodPut)
	r.HandleFunc("/rota/zone", h.rotaZone).Methods(http.MethodGet)
	r.HandleFunc("/rota/shifts", h.rotaSet).Methods(http.MethodPost)
	r.HandleFunc("/rota/overrides", h.rotaOverride).Methods(http.MethodPost)
	r.HandleFunc("/alerts", h.alerts).Methods(http.MethodGet)
	r.HandleFunc("/alerts/{number:[0-9]{1,9}}/{action}", h.alertAction).Methods(http.MethodPost)
	r.HandleFunc("/stats", h.stats).Methods(http.MethodGet)
	h.consoleRoutes(r)
	h.rotaRoutes(r)
	h.officerTestRoutes(r)
	h.keyRoutes(r)
	h.retentionRoutes(r)
	h.correctionRoutes(r)
	h.recordingRoutes(r)
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, hotline.Errorf(hotline.ENOTFOUND, "no such admin API route"))
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeErrorStatus(w, r, hotline.Errorf(hotline.EINVALID, "method not allowed on this admin API route"), http.StatusMethodNotAllowed)
	})

	r.Use(routeName)

	var handler http.Handler = r
	handler = recoverPanics(handler)
	handler = accessLog(handler)
	handler = hlog.RequestIDHandler("req_id", "X-Request-Id")(handler)
	handler = hlog.NewHandler(log.With().Str("component", "admin").Logger())(handler)
	return handler
}

type adminHandler struct{ a *Admin }

// reqInfo is what the access log says about a request, filled in on
// the way: the route template (never the URL) and the error code.
type reqInfo struct{ route, errCode string }

type reqInfoKey struct{}

// accessLog writes one line per request: method, route, status, error
// code, duration. No address, user agent, query or body.
func accessLog(next http.Handler) http.Handler {
	logged := hlog.AccessHandler(func(r *http.Request, status, size int, d time.Duration) {
		info, _ := r.Context().Value(reqInfoKey{}).(*reqInfo)
		e := hlog.FromRequest(r).Info().Str("method", r.Method).Str("route", info.route).Int("status", status)
		if info.errCode != "" {
			e = e.Str("error_code", info.errCode)
		}
		e.Dur("duration", d).Msg("admin request")
	})(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := &reqInfo{route: "unmatched"}
		logged.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), reqInfoKey{}, info)))
	})
}

// routeName records the matched route's template for accessLog.
func routeName(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if info, ok := r.Context().Value(reqInfoKey{}).(*reqInfo); ok {
			if cr := mux.CurrentRoute(r); cr != nil {
				if t, err := cr.GetPathTemplate(); err == nil {
					info.route = t
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// recoverPanics turns a panic into a 500 with nothing of the request in
// the log.
func recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				hlog.FromRequest(r).Error().Msg("panic in admin handler")
				writeError(w, r, hotline.Errorf(hotline.EINTERNAL, "internal error (see the server log)"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func (h *adminHandler) addOfficer(w http.ResponseWriter, r *http.Request) {
	var req addOfficerRequest
	if !readJSON(w, r, &req) {
		return
	}
	o, err := h.a.AddOfficer(r.Context(), req.Name, req.Phone, req.Role)
	writeResult(w, r, http.StatusCreated, o, err)
}

func (h *adminHandler) listOfficers(w http.ResponseWriter, r *http.Request) {
	list, err := h.a.ListOfficers(r.Context(), r.URL.Query().Get("phones") == "1")
	writeResult(w, r, http.StatusOK, list, err)
}

func (h *adminHandler) removeOfficer(w http.ResponseWriter, r *http.Request) {
	err := h.a.RemoveOfficer(r.Context(), r.URL.Query().Get("name"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *adminHandler) rotaShow(w http.ResponseWriter, r *http.Request) {
	var at time.Time
	if s := r.URL.Query().Get("at"); s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			writeError(w, r, invalid("--at: must be a time in RFC 3339 form, like 2026-11-24T21:00:00+04:00"))
			return
		}
		at = t
	}
	v, err := h.a.RotaShow(r.Context(), at)
	writeResult(w, r, http.StatusOK, v, err)
}

func (h *adminHandler) rotaZone(w http.ResponseWriter, r *http.Request) {
	zone, err := h.a.RotaZone(r.Context())
	writeResult(w, r, http.StatusOK, zoneBody{TimeZone: zone}, err)
}

func (h *adminHandler) rotaSet(w http.ResponseWriter, r *http.Request) {
	var req ShiftSpec
	if !readJSON(w, r, &req) {
		return
	}
	v, err := h.a.RotaSet(r.Context(), req)
	writeResult(w, r, http.StatusOK, v, err)
}

func (h *adminHandler) rotaOverride(w http.ResponseWriter, r *http.Request) {
	var req overrideRequest
	if !readJSON(w, r, &req) {
		return
	}
	v, err := h.a.RotaOverride(r.Context(), req.Officer, req.Backup, req.From, req.To)
	writeResult(w, r, http.StatusCreated, v, err)
}

func (h *adminHandler) rotaImport(w http.ResponseWriter, r *http.Request) {
	body := http.MaxBytesReader(w, r.Body, maxRotaBody)
	v, err := h.a.RotaImport(r.Context(), r.URL.Query().Get("name"), body)
	writeResult(w, r, http.StatusOK, v, err)
}

func (h *adminHandler) alerts(w http.ResponseWriter, r *http.Request) {
	list, err := h.a.Alerts(r.Context())
	writeResult(w, r, http.StatusOK, list, err)
}

// alertActionRequest names the officer acting, for ack and close.
type alertActionRequest struct {
	As string `json:"as,omitempty"`
}

func (h *adminHandler) alertAction(w http.ResponseWriter, r *http.Request) {
	var req alertActionRequest
	if !readJSON(w, r, &req) {
		return
	}
	vars := mux.Vars(r)
	n, _ := strconv.Atoi(vars["number"])
	v, err := h.a.AlertAction(r.Context(), n, vars["action"], req.As)
	writeResult(w, r, http.StatusOK, v, err)
}

func (h *adminHandler) stats(w http.ResponseWriter, r *http.Request) {
	st, err := h.a.Stats(r.Context())
	writeResult(w, r, http.StatusOK, st, err)
}

// readJSON decodes a bounded JSON body, answering 400 or 413 itself.
func readJSON(w http.ResponseWriter, r *http.Request, dst any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, r, hotline.Errorf(hotline.ETOOLARGE, "request body is larger than %d bytes", maxJSONBody))
		} else {
			writeError(w, r, invalid("request body is not the JSON this route takes"))
		}
		return false
	}
	return true
}

func writeResult(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		hlog.FromRequest(r).Warn().Err(err).Msg("write admin answer")
	}
}

var statusOf = map[string]int{
	hotline.EINVALID:   http.StatusBadRequest,
	hotline.ENOTFOUND:  http.StatusNotFound,
	hotline.ECONFLICT:  http.StatusConflict,
	hotline.EFORBIDDEN: http.StatusForbidden,
	hotline.ETOOLARGE:  http.StatusRequestEntityTooLarge,
	hotline.EBUSY:      http.StatusServiceUnavailable,
	hotline.EINTERNAL:  http.StatusInternalServerError,
}

// writeError answers with err's code and safe message. Anything not a
// *hotline.Error is logged (store and crypto errors carry no names) and
// answered as an internal error.
func writeError(w http.ResponseWriter, r *http.Request, err error) { writeErrorStatus(w, r, err, 0) }

// writeErrorStatus is writeError with a status other than the code's.
func writeErrorStatus(w http.ResponseWriter, r *http.Request, err error, status int) {
	var body errorBody
	var he *hotline.Error
	if errors.As(err, &he) {
		body.Error.Code, body.Error.Message = he.Code, he.Message
	} else {
		hlog.FromRequest(r).Error().Err(err).Msg("admin request failed")
		body.Error.Code, body.Error.Message = hotline.EINTERNAL, "internal error (see the server log)"
	}
	if status == 0 {
		var ok bool
		if status, ok = statusOf[body.Error.Code]; !ok {
			status = http.StatusInternalServerError
		}
	}
	if info, ok := r.Context().Value(reqInfoKey{}).(*reqInfo); ok {
		info.errCode = body.Error.Code
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}
