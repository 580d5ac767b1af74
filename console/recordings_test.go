package console_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/console"
	"github.com/hotline-az/hotline/internal/leaktest"
	"github.com/hotline-az/hotline/store"
	"github.com/hotline-az/hotline/twiliotest"
)

// An admin client that stops reading a recording part way is no
// integrity alarm: the socket logs it at debug level, without the write
// error, and never as a recording that did not open whole.
func TestCaseAudioStoppedByTheClientIsNoAlarm(t *testing.T) {
	e := setup(t, "socket")
	ctx := context.Background()
	res, err := e.st.RecordInboundSMS(ctx, store.InboundSMS{
		MessageSID: twiliotest.NewSID("SM"), From: "+994501119999", Body: "help", Window: 7 * 24 * time.Hour,
		Triage: hotline.Triage{Priority: hotline.P2, Category: hotline.CategoryLabor, Lang: hotline.LangAz},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	q, err := e.st.QueueRecording(ctx, store.RecordingCallback{RecordingSID: twiliotest.NewSID("RE"), CaseID: res.Case.ID, Duration: 600})
	if err != nil {
		t.Fatal(err)
	}
	// Long enough that it cannot all sit in socket buffers.
	if _, err := e.st.StoreRecordingAudio(ctx, q.Recording.ID, "audio/x-wav", bytes.NewReader(twiliotest.NewWAV(600, 5)), 64<<20); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(e.dir, console.AdminSocketName)
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", path)
	}}}
	resp, err := hc.Get("http://admin/cases/" + res.Case.Code + "/audio?n=1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, 4096)); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	hc.CloseIdleConnections()

	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(e.logs.String(), "the client stopped reading") && !strings.Contains(e.logs.String(), "did not open whole") {
		if time.Now().After(deadline) {
			t.Fatalf("no log of the stopped read:\n%s", e.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	logs := e.logs.String()
	if strings.Contains(logs, "did not open whole") || strings.Contains(logs, `"level":"error"`) {
		t.Errorf("a client that stopped reading was logged as an error:\n%s", logs)
	}
	leaktest.Check(t, "the admin log", logs, "broken pipe", "connection reset", path)
}
