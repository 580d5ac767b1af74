package console

import (
	"context"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/store"
)

// RetentionService purges what the configured retention policy says.
// *Admin does it in-process, *AdminClient through a running server's
// admin socket (which applies the server's own policy).
type RetentionService interface {
	// Purge applies the policy, or with dryRun only reports what it
	// would remove. Audited as "retention.purge" (not a dry run).
	Purge(ctx context.Context, dryRun bool) (store.PurgeReport, error)
}

var (
	_ RetentionService = (*Admin)(nil)
	_ RetentionService = (*AdminClient)(nil)
)

// SetRetention sets the policy Purge applies (the server's config).
func (a *Admin) SetRetention(p store.RetentionPolicy) { a.retention = p }

// Purge implements RetentionService.
func (a *Admin) Purge(ctx context.Context, dryRun bool) (store.PurgeReport, error) {
	if a.retention.Off() {
		return store.PurgeReport{}, hotline.Errorf(hotline.EINVALID, "retention is off in the configuration ([retention] all 0): nothing to purge")
	}
	return a.st.Purge(ctx, a.retention, store.PurgeOptions{DryRun: dryRun, By: cliBy})
}

type purgeRequest struct {
	DryRun bool `json:"dry_run"`
}

// retentionRoutes adds POST /purge {dry_run} → store.PurgeReport.
func (h *adminHandler) retentionRoutes(r *mux.Router) {
	r.HandleFunc("/purge", h.purge).Methods(http.MethodPost)
}

func (h *adminHandler) purge(w http.ResponseWriter, r *http.Request) {
	var req purgeRequest
	if !readJSON(w, r, &req) {
		return
	}
	// Detached like a rewrap: an interrupted command does not stop a purge
	// half way through a batch (each batch is one transaction anyway).
	rep, err := h.a.Purge(context.WithoutCancel(r.Context()), req.DryRun)
	writeResult(w, r, http.StatusOK, rep, err)
}

// Purge implements RetentionService.
func (c *AdminClient) Purge(ctx context.Context, dryRun bool) (store.PurgeReport, error) {
	var rep store.PurgeReport
	err := c.doJSON(ctx, http.MethodPost, "/purge", purgeRequest{DryRun: dryRun}, &rep)
	return rep, err
}
