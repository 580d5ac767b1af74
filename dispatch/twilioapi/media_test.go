package twilioapi_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/hotline-az/hotline/dispatch/twilioapi"
	"github.com/hotline-az/hotline/twiliotest"
)

// OpenRecording streams the audio; RecordingInfo reads the resource
// through twilio-go.
func TestOpenRecordingAndInfo(t *testing.T) {
	fake := twiliotest.NewFakeTwilio(t)
	c := MustNew(t, fake, nil)
	ctx := context.Background()
	sid := twiliotest.NewSID("RE")
	audio := twiliotest.NewWAV(3, 1)
	fake.AddRecording(sid, audio)

	info, err := c.RecordingInfo(ctx, sid)
	if err != nil || info.Status != "completed" || info.Duration != 3 {
		t.Fatalf("RecordingInfo = %+v, %v; want completed, 3 s", info, err)
	}
	m, err := c.OpenRecording(ctx, sid)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(m)
	m.Close()
	if err != nil || !bytes.Equal(got, audio) || m.ContentType != "audio/x-wav" || m.Length != int64(len(audio)) {
		t.Fatalf("streamed %d bytes (%v, %q, length %d), want the %d-byte WAV", len(got), err, m.ContentType, m.Length, len(audio))
	}

	// A download cut short fails on read, retryable, scrubbed.
	fake.FailNextDownloads(1)
	m, err = c.OpenRecording(ctx, sid)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(m)
	m.Close()
	if err == nil || !twilioapi.IsRetryable(err) {
		t.Fatalf("cut download: err = %v, want a retryable error", err)
	}
	assertClean(t, err, sid, fake.AccountSID())

	_, err = c.RecordingInfo(ctx, twiliotest.NewSID("RE"))
	var ae *twilioapi.APIError
	if !errors.As(err, &ae) || ae.Status != 404 || twilioapi.IsRetryable(err) {
		t.Errorf("info of an unknown recording: err = %v, want a non-retryable 404", err)
	}
}

// A recording announced or found larger than MaxRecordingBytes is refused
// without being read whole.
func TestOpenRecordingRefusesTooLarge(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(twilioapi.MaxRecordingBytes+1))
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	fake := twiliotest.NewFakeTwilio(t)
	c := MustNew(t, fake, func(c *twilioapi.Config) { c.APIURL = srv.URL })
	_, err := c.OpenRecording(context.Background(), twiliotest.NewSID("RE"))
	if err == nil || twilioapi.IsRetryable(err) {
		t.Fatalf("err = %v, want a non-retryable refusal", err)
	}
}

// A close-delimited body (no Content-Length) cut short ends like a whole
// one; the WAV header's sizes tell, and the read fails, retryable.
func TestOpenRecordingTruncatedWithoutLength(t *testing.T) {
	fake := twiliotest.NewFakeTwilio(t)
	c := MustNew(t, fake, nil)
	sid := twiliotest.NewSID("RE")
	audio := twiliotest.NewWAV(4, 2)
	fake.AddRecording(sid, audio)
	fake.TruncateNextDownloads(1)

	m, err := c.OpenRecording(context.Background(), sid)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(m)
	m.Close()
	if m.Length != -1 || len(got) != len(audio)/2 {
		t.Fatalf("the fake sent %d bytes with length %d, want half the audio with no Content-Length", len(got), m.Length)
	}
	if err == nil || !twilioapi.IsRetryable(err) {
		t.Fatalf("truncated close-delimited WAV: err = %v, want a retryable error", err)
	}
	assertClean(t, err, sid, fake.AccountSID())

	// Whole, but lasting far less than Twilio says: refused too.
	m, err = c.OpenRecording(context.Background(), sid)
	if err != nil {
		t.Fatal(err)
	}
	m.WantSeconds = 40
	_, err = io.ReadAll(m)
	m.Close()
	if err == nil || !twilioapi.IsRetryable(err) {
		t.Fatalf("4 s WAV for a 40 s recording: err = %v, want a retryable error", err)
	}
	// And whole, with the right duration: read to the end.
	m, err = c.OpenRecording(context.Background(), sid)
	if err != nil {
		t.Fatal(err)
	}
	m.WantSeconds = 4
	got, err = io.ReadAll(m)
	m.Close()
	if err != nil || !bytes.Equal(got, audio) {
		t.Fatalf("whole WAV: %d bytes, %v", len(got), err)
	}
}
