package web

import (
	"net/http"

	"github.com/hotline-az/hotline"
)

type loginView struct{ Name string }

// showLogin is the login form. Its language comes from ?lang= (the
// officer's own choice applies once logged in).
func (h *handler) showLogin(w http.ResponseWriter, r *http.Request) {
	p := h.newPage(r, "login.title", loginView{})
	p.Lang = langOf(hotline.Lang(r.URL.Query().Get("lang")))
	if r.URL.Query().Get("expired") == "1" {
		p.Flash = "login.expired"
	}
	h.render(w, http.StatusOK, "login", p)
}
