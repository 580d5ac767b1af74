package web

import (
	"net/http"

	"github.com/hotline-az/hotline"
)

// loginView refills the login form. Chosen is the language picked with
// ?lang= ("" when none was): only an explicit choice is carried through
// the login, so an officer's saved language is not reset to the default.
type loginView struct {
	Name   string
	Chosen hotline.Lang
}

// showLogin is the login form. Its language comes from ?lang=.
func (h *handler) showLogin(w http.ResponseWriter, r *http.Request) {
	chosen := hotline.Lang(r.URL.Query().Get("lang"))
	if !chosen.Valid() {
		chosen = ""
	}
	p := h.newPage(r, "login.title", loginView{Chosen: chosen})
	p.Lang = langOf(chosen)
	if r.URL.Query().Get("expired") == "1" {
		p.Flash = "login.expired"
	}
	h.render(w, http.StatusOK, "login", p)
}
