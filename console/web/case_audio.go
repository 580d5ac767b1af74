package web

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/store"
)

// recordingItem is a voicemail on the case page.
type recordingItem struct {
	Number   int
	At       time.Time
	Duration int
	State    hotline.RecordingState
	Reason   string
	Playable bool
}

func recordingItems(tx *store.Tx, caseID string) ([]recordingItem, error) {
	recs, err := tx.CaseRecordings(caseID)
	var out []recordingItem
	for i, r := range recs {
		out = append(out, recordingItem{Number: i + 1, At: r.CreatedAt, Duration: r.Duration, State: r.State, Reason: r.Reason,
			Playable: r.State == hotline.RecordingStored || r.State == hotline.RecordingVerified})
	}
	return out, err
}

// playAudio streams recording n of a case to the browser, opened chunk by
// chunk by the server and never written to disk. Each playing is written
// to the audit log (case.audio) before any audio is read.
func (h *handler) playAudio(w http.ResponseWriter, r *http.Request) {
	code := strings.ToUpper(mux.Vars(r)["code"])
	n, _ := strconv.Atoi(mux.Vars(r)["n"])
	if !validCode(code) {
		h.renderError(w, r, http.StatusNotFound, "error.notfound")
		return
	}
	var rec hotline.Recording
	err := h.st.View(func(tx *store.Tx) error {
		c, err := tx.CaseByCode(code)
		if err != nil {
			return err
		}
		recs, err := tx.CaseRecordings(c.ID)
		if err != nil {
			return err
		}
		if n < 1 || n > len(recs) || (recs[n-1].State != hotline.RecordingStored && recs[n-1].State != hotline.RecordingVerified) {
			return hotline.Errorf(hotline.ENOTFOUND, "no such recording")
		}
		rec = recs[n-1]
		return nil
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.st.Update(r.Context(), func(tx *store.Tx) error {
		return h.audit(tx, r, "case.audio", code, "recording="+strconv.Itoa(n))
	}); err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "audio/wav")
	// With the length announced, a recording that stops opening half way
	// ends the connection short, and the browser knows it did not get it all.
	w.Header().Set("Content-Length", strconv.FormatInt(rec.Size, 10))
	w.WriteHeader(http.StatusOK)
	cw := &clientWriter{w: w}
	_, err = h.st.WriteRecordingAudio(rec.ID, cw)
	switch {
	case err == nil:
	case errors.Is(err, store.ErrTampered):
		h.log.Error().Err(err).Str("case", code).Msg("voicemail did not open whole")
	case cw.err != nil || r.Context().Err() != nil:
		// The officer closed the tab or skipped away: not an integrity
		// problem, and the network error names addresses, so it is not
		// logged.
		h.log.Debug().Str("case", code).Msg("voicemail playback stopped by the browser")
	default:
		h.log.Error().Err(err).Str("case", code).Msg("voicemail did not open whole")
	}
}

// clientWriter remembers the first error writing to the client, so that
// a browser going away is told apart from a recording that fails to open.
type clientWriter struct {
	w   io.Writer
	err error
}

func (c *clientWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	if err != nil && c.err == nil {
		c.err = err
	}
	return n, err
}
