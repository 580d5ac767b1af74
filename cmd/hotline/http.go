package main

import (
	"crypto/rand"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"
	"github.com/rs/zerolog/hlog"

	"github.com/hotline-az/hotline/intake"
)

// newPublicRouter is what the internet sees through the TLS proxy: Twilio's
// webhooks and a bare /healthz, nothing else. Everything that tells volume
// or timing (metrics, readiness, pprof) is on the internal router: a
// watcher must not learn from here whether a victim reported.
func newPublicRouter(log zerolog.Logger, met *metrics, sms *intake.SMSHandler, alerts *intake.AlertHandlers, voice *intake.VoiceHandlers, prompts *intake.Prompts) http.Handler {
	r := mux.NewRouter()
	r.Handle("/twilio/sms", sms).Methods(http.MethodPost)
	r.HandleFunc("/twilio/status", alerts.Status).Methods(http.MethodPost)
	r.HandleFunc("/twilio/alert-call", alerts.AlertCall).Methods(http.MethodPost)
	routeVoice(r, voice, prompts)
	r.HandleFunc("/healthz", serveHealthz).Methods(http.MethodGet)
	// Unknown paths are counted (a scan shows in the metrics) but not
	// logged, so a flood of them cannot fill the disk.
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		met.count("unmatched", http.StatusNotFound)
		http.NotFound(w, r)
	})
	r.Use(accessLog(met))
	return withRequestLog(log, r)
}

// newInternalRouter serves operators on the internal listener (loopback
// or a private network): /readyz, /metrics and net/http/pprof. The officer
// console mounts its routes on the returned router (see Main.Internal).
func newInternalRouter(met *metrics, ready *readiness) *mux.Router {
	r := mux.NewRouter()
	r.Handle("/metrics", met.handler()).Methods(http.MethodGet)
	r.HandleFunc("/readyz", ready.serveHTTP).Methods(http.MethodGet)
	r.HandleFunc("/healthz", serveHealthz).Methods(http.MethodGet)
	// pprof registers itself on http.DefaultServeMux too, which no
	// listener of ours serves: it is reachable here only.
	r.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	r.HandleFunc("/debug/pprof/profile", pprof.Profile)
	r.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	r.HandleFunc("/debug/pprof/trace", pprof.Trace)
	r.PathPrefix("/debug/pprof/").HandlerFunc(pprof.Index)
	r.Use(accessLog(met))
	return r
}

func serveHealthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

// withRequestLog gives each request a logger carrying a random request id
// (log only: it is never sent back) and turns panics into 500s.
func withRequestLog(log zerolog.Logger, h http.Handler) http.Handler {
	h = recoverPanics(h)
	h = requestID(h)
	h = hlog.NewHandler(log)(h)
	return h
}

// requestID adds a random req_id to the request's logger. It is random
// rather than hlog's xid, whose counter and timestamp would tell how many
// requests the server handled, and it stays in the log: no response
// header carries it.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := rand.Text()
		zerolog.Ctx(r.Context()).UpdateContext(func(c zerolog.Context) zerolog.Context {
			return c.Str("req_id", id)
		})
		next.ServeHTTP(w, r)
	})
}

// quietRoutes are polled every few seconds by probes and scrapers: counted
// in the metrics, not logged.
var quietRoutes = map[string]bool{"/metrics": true, "/healthz": true, "/readyz": true}

// accessLog writes one line per request with the route template, status
// and duration: never the client address, user agent or full URL.
func accessLog(met *metrics) mux.MiddlewareFunc {
	return hlog.AccessHandler(func(r *http.Request, status, size int, d time.Duration) {
		route := "unmatched"
		if cr := mux.CurrentRoute(r); cr != nil {
			if t, err := cr.GetPathTemplate(); err == nil {
				route = t
			}
		}
		met.observe(route, status, d)
		if quietRoutes[route] {
			return
		}
		if strings.HasPrefix(route, "/twilio/") && (status == http.StatusBadRequest || status == http.StatusForbidden || status == http.StatusRequestEntityTooLarge) {
			return // a refused webhook: intake counts it and logs it, at most once a second per reason
		}
		hlog.FromRequest(r).Info().Str("method", r.Method).Str("route", route).
			Int("status", status).Dur("duration", d).Msg("request")
	})
}

// recoverPanics turns a panic into a 500 with nothing of the request in
// the log but the route.
func recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				hlog.FromRequest(r).Error().Msg("panic in handler")
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}
