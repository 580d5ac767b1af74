package web

import (
	"net/http"

	"github.com/hotline-az/hotline/console"
)

// showRota shows the week and who is on duty now (admins only; changes
// go through `hotline rota`).
func (h *handler) showRota(w http.ResponseWriter, r *http.Request) {
	v, err := console.NewAdmin(h.st, h.disp, h.loc).RotaShow(r.Context(), h.now())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, http.StatusOK, "rota", h.newPage(r, "rota.title", v))
}
