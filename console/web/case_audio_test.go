package web_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hotline-az/hotline/internal/leaktest"
	"github.com/hotline-az/hotline/store"
	"github.com/hotline-az/hotline/twiliotest"
)

// The case page plays a voicemail streamed and opened by the server; each
// playing is audited; a recording not downloaded yet is not offered.
func TestVoicemailPlaysOnTheCasePage(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	c, err := h.st.CaseByCode(h.caseCode)
	if err != nil {
		t.Fatal(err)
	}
	audio := twiliotest.NewWAV(5, 9)
	q, err := h.st.QueueRecording(ctx, store.RecordingCallback{RecordingSID: twiliotest.NewSID("RE"), CaseID: c.ID, Duration: 5})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.st.StoreRecordingAudio(ctx, q.Recording.ID, "audio/x-wav", bytes.NewReader(audio), 64<<20); err != nil {
		t.Fatal(err)
	}
	if _, err := h.st.QueueRecording(ctx, store.RecordingCallback{RecordingSID: twiliotest.NewSID("RE"), CaseID: c.ID}); err != nil {
		t.Fatal(err)
	}

	b := h.browser()
	if a := b.get("/cases/" + h.caseCode + "/audio/1"); a.status == http.StatusOK {
		t.Fatal("audio served without a login")
	}
	b.login("Leyla Aliyeva", leylaPass, "")
	page := b.get("/cases/" + h.caseCode)
	src := `<audio controls preload="none" src="/cases/` + h.caseCode + `/audio/1">`
	if !strings.Contains(page.body, src) || strings.Contains(page.body, "/audio/2") {
		t.Fatalf("case page lacks the player for recording 1 (or offers the queued recording 2):\n%s", page.body)
	}
	if !strings.Contains(page.header.Get("Content-Security-Policy"), "media-src 'self'") {
		t.Error("the CSP does not let the page play its own audio")
	}
	a := b.get("/cases/" + h.caseCode + "/audio/1")
	if a.status != http.StatusOK || a.body != string(audio) || a.header.Get("Content-Type") != "audio/wav" || a.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("audio: %d, %d bytes, %q, cache %q; want the WAV, not cached", a.status, len(a.body), a.header.Get("Content-Type"), a.header.Get("Cache-Control"))
	}
	for _, path := range []string{"/audio/2", "/audio/3", "/audio/0"} {
		if a := b.get("/cases/" + h.caseCode + path); a.status != http.StatusNotFound {
			t.Errorf("%s: HTTP %d, want 404", path, a.status)
		}
	}
	entries, err := h.st.Audit(store.AuditFilter{Action: "case.audio"})
	if err != nil || len(entries) != 1 || entries[0].Object != h.caseCode || entries[0].Detail != "recording=1" || entries[0].Via != "console" {
		t.Fatalf("case.audio audit entries: %+v (%v), want one for recording 1", entries, err)
	}
}

// An officer closing the tab mid-playback is not an integrity alarm: it
// is logged at debug level, without the network error (which names
// addresses), and no ERROR line says the voicemail did not open whole.
func TestVoicemailPlaybackStoppedByTheBrowserIsNoAlarm(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	c, err := h.st.CaseByCode(h.caseCode)
	if err != nil {
		t.Fatal(err)
	}
	// Long enough that it cannot all sit in socket buffers.
	audio := twiliotest.NewWAV(600, 3)
	q, err := h.st.QueueRecording(ctx, store.RecordingCallback{RecordingSID: twiliotest.NewSID("RE"), CaseID: c.ID, Duration: 600})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.st.StoreRecordingAudio(ctx, q.Recording.ID, "audio/x-wav", bytes.NewReader(audio), 64<<20); err != nil {
		t.Fatal(err)
	}
	b := h.browser()
	b.login("Leyla Aliyeva", leylaPass, "")
	req, _ := http.NewRequest(http.MethodGet, h.srv.URL+"/cases/"+h.caseCode+"/audio/1", nil)
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, 4096)); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close() // the tab closes
	b.c.CloseIdleConnections()

	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(h.logs.String(), "voicemail playback stopped by the browser") && !strings.Contains(h.logs.String(), "did not open whole") {
		if time.Now().After(deadline) {
			t.Fatalf("no log of the stopped playback:\n%s", h.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	logs := h.logs.String()
	if strings.Contains(logs, "did not open whole") || !strings.Contains(logs, `"level":"debug"`) {
		t.Errorf("a closed tab was not logged at debug level, or logged as a voicemail that did not open whole:\n%s", logs)
	}
	leaktest.Check(t, "the log", logs, "127.0.0.1", "broken pipe", "connection reset", strings.TrimPrefix(h.srv.URL, "http://"))
}
