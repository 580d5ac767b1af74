package main

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/rs/zerolog/hlog"

	"github.com/hotline-az/hotline/intake"
	"github.com/hotline-az/hotline/store"
)

// newRouter assembles the HTTP routes. Access logs carry the route
// template, status and duration: never the client address, user agent or
// full URL.
func newRouter(log zerolog.Logger, st *store.Store, sms *intake.SMSHandler, alerts *intake.AlertHandlers, extra ...prometheus.Collector) http.Handler {
	met := newMetrics(st)
	met.registry.MustRegister(extra...)
	r := mux.NewRouter()
	r.Handle("/metrics", met.handler()).Methods(http.MethodGet)
	r.Handle("/twilio/sms", sms).Methods(http.MethodPost)
	r.HandleFunc("/twilio/status", alerts.Status).Methods(http.MethodPost)
	r.HandleFunc("/twilio/alert-call", alerts.AlertCall).Methods(http.MethodPost)
	r.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	}).Methods(http.MethodGet)
	r.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		// A failed commit (a full disk) keeps the store unready until a
		// write succeeds, even if the probe's own small write would fit.
		if err := st.Healthy(); err != nil {
			hlog.FromRequest(r).Error().Err(err).Msg("readiness check failed")
			http.Error(w, "store not writable", http.StatusServiceUnavailable)
			return
		}
		if err := st.Ping(ctx); err != nil {
			hlog.FromRequest(r).Error().Err(err).Msg("readiness check failed")
			http.Error(w, "store not writable", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	}).Methods(http.MethodGet)
	r.Use(accessLog(met))

	var h http.Handler = r
	h = recoverPanics(h)
	h = hlog.RequestIDHandler("req_id", "X-Request-Id")(h)
	h = hlog.NewHandler(log)(h)
	return h
}

func accessLog(met *metrics) mux.MiddlewareFunc {
	return hlog.AccessHandler(func(r *http.Request, status, size int, d time.Duration) {
		route := "unmatched"
		if cr := mux.CurrentRoute(r); cr != nil {
			if t, err := cr.GetPathTemplate(); err == nil {
				route = t
			}
		}
		met.observe(route, status, d)
		if route == "/metrics" || route == "/healthz" {
			return // scraped every few seconds: counted, not logged
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
