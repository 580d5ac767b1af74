package console

import (
	"net/http"

	"github.com/gorilla/mux"
)

// rotaRoutes adds the rota operations beyond set, override and import:
//
//	DELETE /rota/shifts?day=D&start=HH:MM → RotaView
//	DELETE /rota/overrides/ID             → OverrideView (the cancelled one)
//	PATCH  /officers {OfficerUpdate}      → OfficerView
func (h *adminHandler) rotaRoutes(r *mux.Router) {
	r.HandleFunc("/rota/shifts", h.rotaRemoveShift).Methods(http.MethodDelete)
	r.HandleFunc("/rota/overrides/{id}", h.rotaCancelOverride).Methods(http.MethodDelete)
	r.HandleFunc("/officers", h.updateOfficer).Methods(http.MethodPatch)
}

func (h *adminHandler) updateOfficer(w http.ResponseWriter, r *http.Request) {
	var req OfficerUpdate
	if !readJSON(w, r, &req) {
		return
	}
	v, err := h.a.UpdateOfficer(r.Context(), req)
	writeResult(w, r, http.StatusOK, v, err)
}

func (h *adminHandler) rotaRemoveShift(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v, err := h.a.RotaRemoveShift(r.Context(), q.Get("day"), q.Get("start"))
	writeResult(w, r, http.StatusOK, v, err)
}

func (h *adminHandler) rotaCancelOverride(w http.ResponseWriter, r *http.Request) {
	v, err := h.a.RotaCancelOverride(r.Context(), mux.Vars(r)["id"])
	writeResult(w, r, http.StatusOK, v, err)
}
