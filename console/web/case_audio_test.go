package web_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

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
