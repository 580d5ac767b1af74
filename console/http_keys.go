package console

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog/hlog"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/store"
)

// snapshotTrailer carries the size of a complete snapshot after GET /backup.
const snapshotTrailer = "X-Snapshot-Bytes"

type versionRequest struct {
	Version uint32 `json:"version"`
}

type versionAnswer struct {
	Version uint32 `json:"version"`
	// Blocked is how many records a minimum decryption version leaves
	// unreadable.
	Blocked int `json:"blocked,omitempty"`
}

// rewrapEvent is one line of the NDJSON stream of POST /keys/rewrap.
type rewrapEvent struct {
	Progress *store.RewrapProgress `json:"progress,omitempty"`
	Failure  *store.RewrapFailure  `json:"failure,omitempty"`
	Error    *errorBody            `json:"error,omitempty"`
}

// keyRoutes adds the key and backup routes:
//
//	GET  /keys                       → store.KeyStatus
//	POST /keys/rotate                → {version}
//	POST /keys/min-decrypt {version} → {version, blocked}
//	POST /keys/retire      {version}
//	POST /keys/rewrap[?batch=N]      → NDJSON rewrapEvent lines, the last
//	                                   one the final progress or an error
//	POST /keys/rotate-index[?batch=N] → store.IndexMoveProgress
//	GET  /backup                     → the data file (application/octet-stream)
func (h *adminHandler) keyRoutes(r *mux.Router) {
	r.HandleFunc("/keys", h.keyStatus).Methods(http.MethodGet)
	r.HandleFunc("/keys/rotate", h.keyRotate).Methods(http.MethodPost)
	r.HandleFunc("/keys/min-decrypt", h.keyMinDecrypt).Methods(http.MethodPost)
	r.HandleFunc("/keys/retire", h.keyRetire).Methods(http.MethodPost)
	r.HandleFunc("/keys/rewrap", h.keyRewrap).Methods(http.MethodPost)
	r.HandleFunc("/keys/rotate-index", h.keyRotateIndex).Methods(http.MethodPost)
	r.HandleFunc("/backup", h.backup).Methods(http.MethodGet)
}

func (h *adminHandler) keyStatus(w http.ResponseWriter, r *http.Request) {
	st, err := h.a.KeyStatus(r.Context())
	writeResult(w, r, http.StatusOK, st, err)
}

func (h *adminHandler) keyRotate(w http.ResponseWriter, r *http.Request) {
	v, err := h.a.RotateKey(r.Context())
	writeResult(w, r, http.StatusOK, versionAnswer{Version: v}, err)
}

func (h *adminHandler) keyMinDecrypt(w http.ResponseWriter, r *http.Request) {
	var req versionRequest
	if !readJSON(w, r, &req) {
		return
	}
	n, err := h.a.SetMinDecrypt(r.Context(), req.Version)
	writeResult(w, r, http.StatusOK, versionAnswer{Version: req.Version, Blocked: n}, err)
}

func (h *adminHandler) keyRetire(w http.ResponseWriter, r *http.Request) {
	var req versionRequest
	if !readJSON(w, r, &req) {
		return
	}
	err := h.a.RetireKey(r.Context(), req.Version)
	writeResult(w, r, http.StatusOK, versionAnswer{Version: req.Version}, err)
}

// keyRewrap runs the pass in the server, detached from the request: if
// the admin's command is interrupted the pass goes on (and `hotline keys
// rewrap` attaches to nothing; run it again after it ends, or watch
// `hotline keys status`). Events are streamed while the client listens.
func (h *adminHandler) keyRewrap(w http.ResponseWriter, r *http.Request) {
	batch := 0
	if s := r.URL.Query().Get("batch"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100_000 {
			writeError(w, r, invalid("--batch: must be a number from 1 to 100000"))
			return
		}
		batch = n
	}
	events := make(chan rewrapEvent, 64)
	gone := r.Context().Done()
	send := func(e rewrapEvent) {
		select {
		case events <- e:
		case <-gone:
		}
	}
	log := hlog.FromRequest(r)
	go func() {
		defer close(events)
		ctx := context.WithoutCancel(r.Context())
		final, err := h.a.RewrapKeys(ctx,
			batch,
			func(p store.RewrapProgress) { send(rewrapEvent{Progress: &p}) },
			func(f store.RewrapFailure) { send(rewrapEvent{Failure: &f}) },
		)
		if err != nil {
			var body errorBody
			if he, ok := err.(*hotline.Error); ok {
				body.Error.Code, body.Error.Message = he.Code, he.Message
			} else {
				log.Error().Err(err).Msg("rewrap stopped")
				body.Error.Code, body.Error.Message = hotline.EINTERNAL, "rewrap stopped (see the server log); run it again to resume"
			}
			send(rewrapEvent{Error: &body})
			return
		}
		log.Info().Uint32("target", final.Target).Int("rewrapped", final.Rewrapped).Int("failed", final.Failed).Msg("rewrap done")
		if !final.Done {
			send(rewrapEvent{Progress: &final})
		}
	}()
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	enc := json.NewEncoder(w)
	for e := range events {
		if err := enc.Encode(e); err != nil {
			return
		}
		if flusher != nil {
			flusher.Flush()
		}
	}
}

func (h *adminHandler) backup(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/octet-stream")
	// The size is only known once the snapshot's transaction begins, so
	// it follows the body as a trailer, sent only when the whole snapshot
	// was written: a client that does not get it has a cut-off copy.
	w.Header().Set("Trailer", snapshotTrailer)
	n, err := h.a.Backup(r.Context(), w)
	if err != nil {
		hlog.FromRequest(r).Error().Err(err).Msg("backup stream failed")
		return
	}
	w.Header().Set(snapshotTrailer, strconv.FormatInt(n, 10))
}

// keyRotateIndex runs the move detached from the request, like a rewrap:
// an interrupted command leaves it running in the server.
func (h *adminHandler) keyRotateIndex(w http.ResponseWriter, r *http.Request) {
	batch := 0
	if s := r.URL.Query().Get("batch"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100_000 {
			writeError(w, r, invalid("--batch: must be a number from 1 to 100000"))
			return
		}
		batch = n
	}
	p, err := h.a.RotateIndex(context.WithoutCancel(r.Context()), batch, nil)
	writeResult(w, r, http.StatusOK, p, err)
}
