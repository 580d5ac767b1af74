package console

import (
	"context"
	"net/http"
	"net/url"

	"github.com/gorilla/mux"

	"github.com/hotline-az/hotline"
)

// priorityBody is the body of POST /cases/{code}/priority.
type priorityBody struct {
	Priority hotline.Priority `json:"priority"`
	Reason   string           `json:"reason"`
	As       string           `json:"as,omitempty"`
}

// correctionRoutes adds the routes of officers' corrections of triage:
//
//	POST /cases/{code}/priority {priority, reason, as} → PriorityView (audited)
//	GET  /triage/corrections    → CorrectionExport, tip text (audited)
func (h *adminHandler) correctionRoutes(r *mux.Router) {
	r.HandleFunc("/cases/{code}/priority", h.setPriority).Methods(http.MethodPost)
	r.HandleFunc("/triage/corrections", h.exportCorrections).Methods(http.MethodGet)
}

func (h *adminHandler) setPriority(w http.ResponseWriter, r *http.Request) {
	var req priorityBody
	if !readJSON(w, r, &req) {
		return
	}
	v, err := h.a.SetPriority(r.Context(), PriorityRequest{Code: mux.Vars(r)["code"], Priority: req.Priority, Reason: req.Reason, As: req.As})
	writeResult(w, r, http.StatusOK, v, err)
}

func (h *adminHandler) exportCorrections(w http.ResponseWriter, r *http.Request) {
	v, err := h.a.ExportCorrections(r.Context())
	writeResult(w, r, http.StatusOK, v, err)
}

// SetPriority implements CorrectionService.
func (c *AdminClient) SetPriority(ctx context.Context, req PriorityRequest) (PriorityView, error) {
	var v PriorityView
	err := c.doJSON(ctx, http.MethodPost, "/cases/"+url.PathEscape(req.Code)+"/priority",
		priorityBody{Priority: req.Priority, Reason: req.Reason, As: req.As}, &v)
	return v, err
}

// ExportCorrections implements CorrectionService.
func (c *AdminClient) ExportCorrections(ctx context.Context) (CorrectionExport, error) {
	var v CorrectionExport
	err := c.do(ctx, http.MethodGet, "/triage/corrections", nil, nil, "", &v)
	return v, err
}
