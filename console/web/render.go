package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/gorilla/csrf"

	"github.com/hotline-az/hotline"
)

// page is what every template gets: the layout's needs and the page's
// own data.
type page struct {
	Lang    hotline.Lang
	Officer hotline.Officer
	IsAdmin bool
	CSRF    template.HTML
	Title   string // message key
	// Flash is a message key shown above the content; FlashText a message
	// already safe to show (a *hotline.Error's).
	Flash     string
	FlashText string
	// Refresh reloads the page every so many seconds (meta refresh: no
	// script needed).
	Refresh int
	Data    any

	loc *time.Location
	now time.Time
}

// T translates a message key into the page's language.
func (p page) T(key string) string { return translate(p.Lang, key) }

// Time formats t in the console's zone.
func (p page) Time(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(p.loc).Format("2006-01-02 15:04")
}

// Age says how long ago t was, shortly (3m, 2h10m, 4d).
func (p page) Age(t time.Time) string {
	d := p.now.Sub(t)
	switch {
	case d < time.Minute:
		return "<1m"
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

var templateFuncs = template.FuncMap{
	"join": func(s []string) string {
		var b bytes.Buffer
		for i, x := range s {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(x)
		}
		return b.String()
	},
}

// newPage starts a page for the request's officer.
func (h *handler) newPage(r *http.Request, title string, data any) page {
	off := officerFrom(r)
	lang, _ := r.Context().Value(ctxLang).(hotline.Lang)
	p := page{
		Lang: langOf(lang), Officer: off, IsAdmin: off.Role == hotline.RoleAdmin,
		CSRF: csrf.TemplateField(r), Title: title, Data: data, loc: h.loc, now: h.now(),
	}
	if m := r.URL.Query().Get("m"); m != "" {
		if _, ok := messages[m]; ok {
			p.Flash = m
		}
	}
	return p
}

// render writes a page, buffered so a template error becomes a clean 500.
func (h *handler) render(w http.ResponseWriter, status int, name string, p page) {
	t, ok := h.pages[name]
	if !ok {
		h.log.Error().Str("page", name).Msg("no such console template")
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", p); err != nil {
		h.log.Error().Err(err).Str("page", name).Msg("render console page")
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// renderError shows an error page with a message key.
func (h *handler) renderError(w http.ResponseWriter, r *http.Request, status int, key string) {
	p := h.newPage(r, "error.title", nil)
	p.Flash = key
	h.render(w, status, "error", p)
}

// fail answers an error from the store or dispatcher: a *hotline.Error
// by its safe message and status, anything else as a logged 500.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var he *hotline.Error
	if !errors.As(err, &he) {
		h.log.Error().Err(err).Msg("console action failed")
		h.renderError(w, r, http.StatusInternalServerError, "error.internal")
		return
	}
	status := map[string]int{
		hotline.EINVALID: http.StatusBadRequest, hotline.ENOTFOUND: http.StatusNotFound,
		hotline.ECONFLICT: http.StatusConflict, hotline.EFORBIDDEN: http.StatusForbidden,
		hotline.ETOOLARGE: http.StatusRequestEntityTooLarge,
	}[he.Code]
	if status == 0 {
		status = http.StatusInternalServerError
	}
	p := h.newPage(r, "error.title", nil)
	p.FlashText = he.Message
	h.render(w, status, "error", p)
}
