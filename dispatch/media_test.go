package dispatch_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"
	"github.com/rs/zerolog/hlog"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/crypto"
	"github.com/hotline-az/hotline/dispatch"
	"github.com/hotline-az/hotline/dispatch/twilioapi"
	"github.com/hotline-az/hotline/intake"
	"github.com/hotline-az/hotline/internal/leaktest"
	"github.com/hotline-az/hotline/store"
	"github.com/hotline-az/hotline/triage"
	"github.com/hotline-az/hotline/twiliotest"
)

// mediaHarness is a store, the media worker speaking to the fake Twilio
// through the real client, and the real SMS and recording webhooks on
// 127.0.0.1.
type mediaHarness struct {
	t      *testing.T
	key    crypto.MasterKey
	clock  *fakeClock
	logs   *leaktest.Buffer
	twilio *twiliotest.FakeTwilio
	client *twilioapi.Client
	dir    string
	st     *store.Store
	worker *dispatch.MediaWorker
	srv    *httptest.Server
}

func newMediaHarness(t *testing.T) *mediaHarness {
	t.Helper()
	key, err := crypto.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	h := &mediaHarness{t: t, key: key, logs: &leaktest.Buffer{},
		clock: &fakeClock{t: time.Date(2026, 11, 24, 23, 0, 0, 0, time.UTC)}}
	h.twilio = twiliotest.NewFakeTwilio(t)
	h.twilio.SetNow(h.clock.Now)
	h.client, err = twilioapi.New(twilioapi.Config{AccountSID: h.twilio.AccountSID(), AuthToken: h.twilio.AuthToken(),
		From: hotlineFrom, APIURL: h.twilio.URL(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	h.open(t.TempDir())
	return h
}

// open opens the store in dir, with a new worker and webhooks over it
// (a restarted server).
func (h *mediaHarness) open(dir string) {
	t := h.t
	t.Helper()
	log := zerolog.New(h.logs)
	st, err := store.Open(dir, store.MasterKeySource{Key: &h.key}, store.Options{Now: h.clock.Now, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h.dir, h.st = dir, st
	h.worker, err = dispatch.NewMediaWorker(dispatch.MediaConfig{Store: st, API: h.client, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := intake.NewVerifier(intake.VerifierConfig{
		PublicURL: publicURL, AuthTokens: []string{webhookToken},
		AccountSID: h.twilio.AccountSID(), Numbers: []string{hotlineFrom},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := mux.NewRouter()
	r.Handle("/twilio/sms", intake.NewSMSHandler(intake.SMSConfig{
		Verifier: verifier, Store: st, Triager: triage.Default(), RedactAtTwilio: true,
	}))
	r.Handle("/twilio/recording", intake.NewRecordingHandler(intake.RecordingConfig{Verifier: verifier, Store: st}))
	if h.srv != nil {
		h.srv.Close()
	}
	h.srv = httptest.NewServer(hlog.NewHandler(log)(r))
	t.Cleanup(h.srv.Close)
}

func (h *mediaHarness) post(path string, form url.Values) {
	h.t.Helper()
	req, err := twiliotest.NewSignedRequest(webhookToken, h.srv.URL+path, publicURL+path, form)
	if err != nil {
		h.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("POST %s: HTTP %d, want 200", path, resp.StatusCode)
	}
}

// voicemail puts a recording at the fake Twilio and posts its callback.
func (h *mediaHarness) voicemail(audio []byte) (recordingSID, callSID string) {
	h.t.Helper()
	recordingSID, callSID = twiliotest.NewSID("RE"), twiliotest.NewSID("CA")
	h.twilio.AddRecording(recordingSID, audio)
	h.post("/twilio/recording", url.Values{
		"AccountSid": {h.twilio.AccountSID()}, "CallSid": {callSID}, "RecordingSid": {recordingSID},
		"RecordingStatus": {"completed"}, "RecordingDuration": {"70"},
	})
	return recordingSID, callSID
}

func (h *mediaHarness) runDue() {
	h.t.Helper()
	if err := h.worker.RunDue(context.Background()); err != nil {
		h.t.Fatal(err)
	}
}

func (h *mediaHarness) onlyJob(kind hotline.JobKind) hotline.Job {
	h.t.Helper()
	var found []hotline.Job
	h.st.View(func(tx *store.Tx) error {
		jobs, err := tx.Jobs("")
		for _, j := range jobs {
			if j.Kind == kind {
				found = append(found, j)
			}
		}
		return err
	})
	if len(found) != 1 {
		h.t.Fatalf("%s jobs: %+v, want exactly one", kind, found)
	}
	return found[0]
}

func (h *mediaHarness) recording(id string) hotline.Recording {
	h.t.Helper()
	var rec hotline.Recording
	if err := h.st.View(func(tx *store.Tx) error { var err error; rec, err = tx.Recording(id); return err }); err != nil {
		h.t.Fatal(err)
	}
	return rec
}

// audio reads a stored recording back through the store.
func (h *mediaHarness) audio(id string) []byte {
	h.t.Helper()
	var out bytes.Buffer
	if _, err := h.st.WriteRecordingAudio(id, &out); err != nil {
		h.t.Fatalf("open stored recording: %v", err)
	}
	return out.Bytes()
}

// A voicemail is downloaded, sealed in chunks over several commits,
// verified and deleted at Twilio; the data file holds no 64-byte run of
// it and the log no SID.
func TestRecordingStoredSealedThenDeletedAtTwilio(t *testing.T) {
	h := newMediaHarness(t)
	audio := twiliotest.NewWAV(70, 1) // 1.1 MB: 18 chunks, two commits
	recSID, callSID := h.voicemail(audio)
	h.runDue()

	j := h.onlyJob(hotline.JobFetchRecording)
	if j.State != hotline.JobDelivered || j.Tries != 1 {
		t.Fatalf("job %+v, want delivered after one try", j)
	}
	rec := h.recording(j.ID)
	if rec.State != hotline.RecordingVerified || !rec.DeletedAtTwilio || rec.Size != int64(len(audio)) ||
		rec.Chunks != (len(audio)+store.RecordingChunkSize-1)/store.RecordingChunkSize {
		t.Fatalf("recording %+v, want verified, deleted at Twilio, %d bytes", rec, len(audio))
	}
	if got := h.audio(j.ID); !bytes.Equal(got, audio) {
		t.Fatalf("stored audio: %d bytes differ from the %d downloaded", len(got), len(audio))
	}
	if got := h.twilio.DeletedRecordings(); len(got) != 1 || got[0] != recSID {
		t.Fatalf("deleted at Twilio: %v, want exactly the recording", got)
	}
	raw, err := os.ReadFile(filepath.Join(h.dir, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	leaktest.CheckNoRun(t, "data file", raw, audio, 64)
	leaktest.Check(t, "data file", string(raw), recSID, callSID)
	leaktest.Check(t, "log", h.logs.String(), recSID, callSID)
}

// A download cut short is retried after a backoff; the recording ends up
// stored once and deleted once.
func TestFailedDownloadIsRetried(t *testing.T) {
	h := newMediaHarness(t)
	audio := twiliotest.NewWAV(10, 2)
	recSID, _ := h.voicemail(audio)
	h.twilio.FailNextDownloads(1)
	h.runDue()

	j := h.onlyJob(hotline.JobFetchRecording)
	if j.State != hotline.JobPending || j.Tries != 1 || j.LastError == "" {
		t.Fatalf("after a cut download: job %+v, want pending with the error", j)
	}
	if h.recording(j.ID).State != hotline.RecordingQueued || !h.twilio.HasRecording(recSID) {
		t.Fatal("a cut download must leave the recording queued here and kept at Twilio")
	}
	h.runDue() // not due yet: nothing happens
	if n := h.twilio.Downloads(); n != 1 {
		t.Fatalf("downloads before the backoff passed: %d, want 1", n)
	}
	h.clock.Add(time.Minute)
	h.runDue()
	j = h.onlyJob(hotline.JobFetchRecording)
	if j.State != hotline.JobDelivered || j.Tries != 2 {
		t.Fatalf("after the retry: job %+v, want delivered at the second try", j)
	}
	if got := h.audio(j.ID); !bytes.Equal(got, audio) {
		t.Fatal("stored audio differs from Twilio's")
	}
	if got := h.twilio.DeletedRecordings(); len(got) != 1 {
		t.Fatalf("deleted %d times, want once", len(got))
	}
}

// A crash after the recording is stored and before Twilio's copy is
// deleted: the data file as it is at that instant (every commit is
// fsynced, so a copy taken while the delete hangs is what a kill -9
// leaves) is opened by a new server, which deletes the recording without
// downloading it again.
func TestCrashBetweenDownloadAndDelete(t *testing.T) {
	h := newMediaHarness(t)
	audio := twiliotest.NewWAV(20, 3)
	recSID, _ := h.voicemail(audio)
	entered, release := h.twilio.HoldDeletes()
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.worker.RunDue(context.Background())
	}()
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the worker never tried to delete the recording")
	}
	raw, err := os.ReadFile(filepath.Join(h.dir, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	release()
	<-done
	h.st.Close()

	crashed := t.TempDir()
	if err := os.WriteFile(filepath.Join(crashed, store.FileName), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	h.open(crashed)
	j := h.onlyJob(hotline.JobFetchRecording)
	if j.State != hotline.JobSending {
		t.Fatalf("job in the crashed file: %s, want sending", j.State)
	}
	if err := h.worker.Recover(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.runDue()
	j = h.onlyJob(hotline.JobFetchRecording)
	if j.State != hotline.JobDelivered {
		t.Fatalf("after restart: job %+v, want delivered", j)
	}
	if n := h.twilio.Downloads(); n != 1 {
		t.Errorf("downloads: %d, want 1 (stored once)", n)
	}
	if got := h.twilio.DeletedRecordings(); len(got) != 1 || got[0] != recSID || h.twilio.HasRecording(recSID) {
		t.Errorf("deleted at Twilio: %v, want the recording once", got)
	}
	if got := h.audio(j.ID); !bytes.Equal(got, audio) {
		t.Error("stored audio differs after the restart")
	}
}

// A recording Twilio does not have is retried for an hour (its media may
// not be there yet), then dead-lettered with the reason, and the
// recording on its case says why.
func TestUnfetchableRecordingIsDeadLettered(t *testing.T) {
	h := newMediaHarness(t)
	h.post("/twilio/recording", url.Values{
		"AccountSid": {h.twilio.AccountSID()}, "CallSid": {twiliotest.NewSID("CA")},
		"RecordingSid": {twiliotest.NewSID("RE")}, "RecordingStatus": {"completed"},
	})
	h.runDue()
	if j := h.onlyJob(hotline.JobFetchRecording); j.State != hotline.JobPending {
		t.Fatalf("after a first 404: job %+v, want pending (retried for an hour)", j)
	}
	h.deadAfterHours(3)
	j := h.onlyJob(hotline.JobFetchRecording)
	if j.State != hotline.JobDead || j.ErrorCode != 20404 {
		t.Fatalf("job %+v, want dead with Twilio's 20404", j)
	}
	rec := h.recording(j.ID)
	if rec.State != hotline.RecordingFailed || rec.Reason == "" {
		t.Fatalf("recording %+v, want failed with a reason", rec)
	}
	var onCase []hotline.Recording
	h.st.View(func(tx *store.Tx) error { var err error; onCase, err = tx.CaseRecordings(rec.CaseID); return err })
	if len(onCase) != 1 || onCase[0].State != hotline.RecordingFailed {
		t.Fatalf("the case shows %+v, want the failed recording", onCase)
	}
}

// deadAfterHours runs the due jobs every 10 minutes for up to hours.
func (h *mediaHarness) deadAfterHours(hours int) {
	h.t.Helper()
	for range hours * 6 {
		h.clock.Add(10 * time.Minute)
		h.runDue()
	}
}

// Twilio's media missing just after the callback (404), or an auth token
// just rotated (401): the job is retried, and the recording stored and
// deleted at Twilio once Twilio answers.
func TestRefusedRecordingRetriedThenFetched(t *testing.T) {
	for _, status := range []int{http.StatusNotFound, http.StatusUnauthorized} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			h := newMediaHarness(t)
			audio := twiliotest.NewWAV(3, 6)
			recSID, _ := h.voicemail(audio)
			h.twilio.FailNext(2, status, 0)
			h.runDue()
			h.clock.Add(time.Minute)
			h.runDue()
			j := h.onlyJob(hotline.JobFetchRecording)
			if j.State != hotline.JobPending || j.Tries != 2 {
				t.Fatalf("after two %d answers: job %+v, want pending after 2 tries", status, j)
			}
			h.clock.Add(time.Minute)
			h.runDue()
			j = h.onlyJob(hotline.JobFetchRecording)
			if j.State != hotline.JobDelivered || j.Tries != 3 {
				t.Fatalf("job %+v, want delivered at the third try", j)
			}
			if !bytes.Equal(h.audio(j.ID), audio) || !slices.Equal(h.twilio.DeletedRecordings(), []string{recSID}) {
				t.Fatal("want the audio stored and deleted once at Twilio")
			}
		})
	}
}

// Other 4xx answers are final: dead-lettered at the first try.
func TestBadRequestRecordingDeadAtOnce(t *testing.T) {
	h := newMediaHarness(t)
	h.voicemail(twiliotest.NewWAV(1, 6))
	h.twilio.FailNext(1, http.StatusBadRequest, 0)
	h.runDue()
	if j := h.onlyJob(hotline.JobFetchRecording); j.State != hotline.JobDead {
		t.Fatalf("after a 400: job %+v, want dead", j)
	}
}

// A download without a Content-Length cut short ends like a whole one:
// the WAV's own sizes tell, so it is not stored, not deleted at Twilio,
// and retried; once Twilio sends it whole it is stored once.
func TestTruncatedCloseDelimitedDownloadNotDeleted(t *testing.T) {
	h := newMediaHarness(t)
	audio := twiliotest.NewWAV(10, 8)
	recSID, _ := h.voicemail(audio)
	h.twilio.TruncateNextDownloads(1)
	h.runDue()
	j := h.onlyJob(hotline.JobFetchRecording)
	if j.State != hotline.JobPending || j.LastError == "" {
		t.Fatalf("after a truncated download: job %+v, want pending with the error", j)
	}
	if rec := h.recording(j.ID); rec.State != hotline.RecordingQueued || !h.twilio.HasRecording(recSID) || len(h.twilio.DeletedRecordings()) != 0 {
		t.Fatalf("recording %+v; want it queued here and kept at Twilio", rec)
	}
	h.clock.Add(time.Minute)
	h.runDue()
	j = h.onlyJob(hotline.JobFetchRecording)
	if j.State != hotline.JobDelivered || j.Tries != 2 {
		t.Fatalf("after the retry: job %+v, want delivered at the second try", j)
	}
	if rec := h.recording(j.ID); rec.Size != int64(len(audio)) || !bytes.Equal(h.audio(j.ID), audio) {
		t.Fatalf("stored %d bytes, want the whole %d", rec.Size, len(audio))
	}
	if got := h.twilio.DeletedRecordings(); !slices.Equal(got, []string{recSID}) || h.twilio.Downloads() != 2 {
		t.Fatalf("deleted %v after %d downloads, want once after 2", got, h.twilio.Downloads())
	}
}

// A dead-lettered recording an admin retries (the job back to pending,
// as the console's outbox page does) is fetched once Twilio has it.
func TestDeadRecordingRetriedByAdmin(t *testing.T) {
	h := newMediaHarness(t)
	recSID := twiliotest.NewSID("RE")
	h.post("/twilio/recording", url.Values{
		"AccountSid": {h.twilio.AccountSID()}, "CallSid": {twiliotest.NewSID("CA")},
		"RecordingSid": {recSID}, "RecordingStatus": {"completed"},
	})
	h.runDue()
	h.deadAfterHours(3)
	j := h.onlyJob(hotline.JobFetchRecording)
	if j.State != hotline.JobDead {
		t.Fatalf("job %+v, want dead", j)
	}
	audio := twiliotest.NewWAV(3, 5)
	h.twilio.AddRecording(recSID, audio)
	h.clock.Add(48 * time.Hour)
	if err := h.st.Update(context.Background(), func(tx *store.Tx) error {
		j.State, j.Tries, j.NextTryAt = hotline.JobPending, 0, tx.Now()
		return tx.PutJob(&j)
	}); err != nil {
		t.Fatal(err)
	}
	h.runDue()
	j = h.onlyJob(hotline.JobFetchRecording)
	if rec := h.recording(j.ID); j.State != hotline.JobDelivered || rec.State != hotline.RecordingVerified || rec.Reason != "" {
		t.Fatalf("after the retry: job %+v, recording %+v; want delivered and verified", j, rec)
	}
	if !bytes.Equal(h.audio(j.ID), audio) {
		t.Fatal("audio differs")
	}
}

// Twilio down: a recording is retried until Twilio answers, however many
// tries that takes within a day.
func TestRecordingRetriedThroughOutage(t *testing.T) {
	h := newMediaHarness(t)
	h.voicemail(twiliotest.NewWAV(2, 4))
	h.twilio.SetDown(true)
	for range 5 {
		h.runDue()
		h.clock.Add(time.Hour)
	}
	if j := h.onlyJob(hotline.JobFetchRecording); j.State != hotline.JobPending || j.Tries != 5 {
		t.Fatalf("during the outage: job %+v, want pending after 5 tries", j)
	}
	h.twilio.SetDown(false)
	h.runDue()
	if j := h.onlyJob(hotline.JobFetchRecording); j.State != hotline.JobDelivered {
		t.Fatalf("after the outage: job %+v, want delivered", j)
	}
}

// Once an SMS tip is stored, its body is blanked at Twilio; a failed try
// is retried.
func TestSMSBodyRedactedAtTwilioAfterIntake(t *testing.T) {
	h := newMediaHarness(t)
	body := "Müdir pasportumu saxlayıb, Sumqayıt"
	sid := h.twilio.AddMessage(twiliotest.FakeMessage{To: hotlineFrom, From: reporter, Body: body})
	h.post("/twilio/sms", url.Values{
		"AccountSid": {h.twilio.AccountSID()}, "MessageSid": {sid}, "From": {reporter}, "To": {hotlineFrom}, "Body": {body},
	})
	j := h.onlyJob(hotline.JobRedactSMS)
	if j.State != hotline.JobPending {
		t.Fatalf("redaction job %+v, want pending with the tip", j)
	}
	h.twilio.FailNext(1, http.StatusServiceUnavailable, 0)
	h.runDue()
	if j := h.onlyJob(hotline.JobRedactSMS); j.State != hotline.JobPending || h.twilio.Redactions() != 0 {
		t.Fatalf("after Twilio failed: job %+v, redactions %d; want pending and none", j, h.twilio.Redactions())
	}
	h.clock.Add(time.Minute)
	h.runDue()
	if j := h.onlyJob(hotline.JobRedactSMS); j.State != hotline.JobDelivered || j.Delivery != "redacted at Twilio" {
		t.Fatalf("job %+v, want delivered", j)
	}
	msgs := h.twilio.Messages()
	if len(msgs) != 1 || msgs[0].Body != "" || !msgs[0].Redacted || h.twilio.Redactions() != 1 {
		t.Fatalf("Twilio's message %+v, want its body blanked once", msgs)
	}
	// Twilio delivering the webhook again queues nothing more.
	h.post("/twilio/sms", url.Values{
		"AccountSid": {h.twilio.AccountSID()}, "MessageSid": {sid}, "From": {reporter}, "To": {hotlineFrom}, "Body": {body},
	})
	h.onlyJob(hotline.JobRedactSMS)
	leaktest.Check(t, "log", h.logs.String(), append(leaktest.Runs(body, 8), sid)...)
}
