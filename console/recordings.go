package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog/hlog"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/store"
)

// RecordingView is a voicemail of a case as an admin sees it: metadata,
// never the audio or a Twilio SID.
type RecordingView struct {
	// Number is the recording's place on its case, from 1 (oldest).
	Number      int                    `json:"number"`
	State       hotline.RecordingState `json:"state"`
	Duration    int                    `json:"duration_seconds"`
	Size        int64                  `json:"size"`
	ContentType string                 `json:"content_type,omitempty"`
	At          time.Time              `json:"at"`
	// DeletedAtTwilio is true once Twilio's copy is gone.
	DeletedAtTwilio bool `json:"deleted_at_twilio"`
	// Reason says why a failed recording could not be fetched.
	Reason string `json:"reason,omitempty"`
}

// CaseAudioService writes a case's voicemail, decrypted, to a writer.
// *Admin does it in-process; *AdminClient asks the running server, which
// streams it over the admin socket. Every call is audited.
type CaseAudioService interface {
	// CaseAudio writes recording number n (from 1) of case code to w and
	// describes it. An error after bytes were written means the audio did
	// not open whole: the caller must throw away what it got.
	CaseAudio(ctx context.Context, code string, n int, w io.Writer) (RecordingView, error)
}

var (
	_ CaseAudioService = (*Admin)(nil)
	_ CaseAudioService = (*AdminClient)(nil)
)

func recordingView(n int, r hotline.Recording, loc *time.Location) RecordingView {
	return RecordingView{Number: n, State: r.State, Duration: r.Duration, Size: r.Size, ContentType: r.ContentType,
		At: r.CreatedAt.In(loc), DeletedAtTwilio: r.DeletedAtTwilio, Reason: r.Reason}
}

// SetNoRecordingDownloads tells the admin service that nothing downloads
// recordings on this server (no Twilio account: --dev), so asking for one
// says why it stays queued.
func (a *Admin) SetNoRecordingDownloads() { a.noDownloads = true }

// CaseRecordings lists a case's voicemail, oldest first (metadata only).
func (a *Admin) CaseRecordings(code string) ([]RecordingView, error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	out := []RecordingView{}
	err := a.st.View(func(tx *store.Tx) error {
		c, err := tx.CaseByCode(code)
		if err != nil {
			return hotline.Errorf(hotline.ENOTFOUND, "CODE: no case %s (see hotline cases list)", code)
		}
		recs, err := tx.CaseRecordings(c.ID)
		for i, r := range recs {
			out = append(out, recordingView(i+1, r, a.loc))
		}
		return err
	})
	return out, err
}

// CaseAudio implements CaseAudioService. The opening is audited
// ("case.audio", detail "recording=N") before any audio is read.
func (a *Admin) CaseAudio(ctx context.Context, code string, n int, w io.Writer) (RecordingView, error) {
	return a.caseAudio(ctx, code, n, w, store.AuditEntry{Actor: cliActor, Via: "cli"})
}

// caseAudio is CaseAudio audited as by.
func (a *Admin) caseAudio(ctx context.Context, code string, n int, w io.Writer, by store.AuditEntry) (RecordingView, error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	var rec hotline.Recording
	err := a.st.View(func(tx *store.Tx) error {
		c, err := tx.CaseByCode(code)
		if err != nil {
			return hotline.Errorf(hotline.ENOTFOUND, "CODE: no case %s (see hotline cases list)", code)
		}
		recs, err := tx.CaseRecordings(c.ID)
		if err != nil {
			return err
		}
		if len(recs) == 0 {
			return hotline.Errorf(hotline.ENOTFOUND, "case %s has no voicemail", code)
		}
		if n < 1 || n > len(recs) {
			return hotline.Errorf(hotline.EINVALID, "--recording: case %s has %d recording(s); give 1 to %d", code, len(recs), len(recs))
		}
		rec = recs[n-1]
		return nil
	})
	if err != nil {
		return RecordingView{}, err
	}
	view := recordingView(n, rec, a.loc)
	if rec.State != hotline.RecordingStored && rec.State != hotline.RecordingVerified {
		msg := fmt.Sprintf("recording %d of case %s is not downloaded yet (%s)", n, code, rec.State)
		if rec.Reason != "" {
			msg += ": " + rec.Reason
		}
		if a.noDownloads {
			msg += " (in --dev nothing downloads recordings: there is no Twilio account)"
		}
		return view, hotline.Errorf(hotline.ENOTFOUND, "%s", msg)
	}
	by.Action, by.Object, by.Detail = "case.audio", code, "recording="+strconv.Itoa(n)
	if err := a.st.Update(ctx, func(tx *store.Tx) error { return tx.AppendAudit(by) }); err != nil {
		return view, err
	}
	_, err = a.st.WriteRecordingAudio(rec.ID, w)
	return view, err
}

// audioStatusTrailer tells the client, after the last byte, whether the
// audio opened whole: the status line went out before the first chunk
// was opened.
const audioStatusTrailer = "X-Hotline-Audio"

// recordingRoutes adds the admin route that streams a recording:
//
//	GET /cases/{code}/audio?n=N → the audio; trailer X-Hotline-Audio: ok
func (h *adminHandler) recordingRoutes(r *mux.Router) {
	r.HandleFunc("/cases/{code}/audio", h.caseAudio).Methods(http.MethodGet)
}

func (h *adminHandler) caseAudio(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.URL.Query().Get("n"))
	if err != nil {
		writeError(w, r, hotline.Errorf(hotline.EINVALID, "--recording: must be a number from 1"))
		return
	}
	started := false
	sw := &startWriter{w: w, start: func(first []byte) {
		started = true
		w.Header().Set("Content-Type", http.DetectContentType(first))
		w.Header().Set("Trailer", audioStatusTrailer)
		w.WriteHeader(http.StatusOK)
	}}
	_, err = h.a.CaseAudio(r.Context(), mux.Vars(r)["code"], n, sw)
	switch {
	case err != nil && !started:
		writeError(w, r, err)
	case err != nil && errors.Is(err, store.ErrTampered):
		hlog.FromRequest(r).Error().Err(err).Msg("recording did not open whole")
		w.Header().Set(audioStatusTrailer, "failed")
	case err != nil && (sw.err != nil || r.Context().Err() != nil):
		// The client stopped reading: nothing to alarm about, and the
		// write error is no one's business in the log.
		hlog.FromRequest(r).Debug().Msg("recording: the client stopped reading")
	case err != nil:
		// Audio already went out: the trailer tells the client to discard it.
		hlog.FromRequest(r).Error().Err(err).Msg("recording did not open whole")
		w.Header().Set(audioStatusTrailer, "failed")
	default:
		w.Header().Set(audioStatusTrailer, "ok")
	}
}

// startWriter calls start before the first write, so an error found
// before any audio is read still gets a proper error answer.
// It remembers the first write error, so that a client going away is
// told apart from a recording that fails to open.
type startWriter struct {
	w       io.Writer
	start   func(first []byte)
	started bool
	err     error
}

func (s *startWriter) Write(p []byte) (int, error) {
	if !s.started {
		s.started = true
		s.start(p)
	}
	n, err := s.w.Write(p)
	if err != nil && s.err == nil {
		s.err = err
	}
	return n, err
}

// CaseAudio implements CaseAudioService over the admin socket. The audio
// streams to w; the server's trailer says whether it opened whole.
func (c *AdminClient) CaseAudio(ctx context.Context, code string, n int, w io.Writer) (RecordingView, error) {
	u := "http://admin/cases/" + url.PathEscape(code) + "/audio?n=" + strconv.Itoa(n)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return RecordingView{}, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return RecordingView{}, fmt.Errorf("admin socket %s: %w", c.path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return RecordingView{}, decodeError(resp)
	}
	size, err := io.Copy(w, resp.Body)
	if err != nil {
		return RecordingView{}, fmt.Errorf("admin socket: reading the audio: %w", err)
	}
	if resp.Trailer.Get(audioStatusTrailer) != "ok" {
		return RecordingView{}, hotline.Errorf(hotline.EINTERNAL, "the recording did not open whole on the server (see its log); discard what was written")
	}
	return RecordingView{Number: n, Size: size, ContentType: resp.Header.Get("Content-Type")}, nil
}
