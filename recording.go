package hotline

import "time"

// Outbox job kinds that keep nothing at Twilio. They run on their own
// worker (dispatch.MediaWorker), never behind alerts.
const (
	// JobFetchRecording downloads a voicemail recording, seals it into
	// the store, checks that it opens and then deletes it at Twilio.
	JobFetchRecording JobKind = "fetch_recording"
	// JobRedactSMS blanks an inbound SMS's body at Twilio once the tip is
	// stored (the Messages update with an empty Body).
	JobRedactSMS JobKind = "redact_sms"
)

// MediaJob reports whether a job kind runs on the media worker rather
// than the alert worker.
func (k JobKind) MediaJob() bool { return k == JobFetchRecording || k == JobRedactSMS }

// RecordingState is where a voicemail recording is on its way from
// Twilio into the store.
type RecordingState string

// Recording states, in order.
const (
	// RecordingQueued: Twilio announced it; not downloaded yet.
	RecordingQueued RecordingState = "queued"
	// RecordingStored: every chunk is sealed in the store.
	RecordingStored RecordingState = "stored"
	// RecordingVerified: every chunk opened and the audio matched what was
	// downloaded; only now may Twilio's copy be deleted.
	RecordingVerified RecordingState = "verified"
	// RecordingFailed: the recording could not be fetched (see Reason);
	// the case shows it so an officer knows a message is missing.
	RecordingFailed RecordingState = "failed"
)

// Recording is a voicemail left on a case. Its audio is sealed at rest in
// chunks; this is the plaintext metadata only.
type Recording struct {
	ID     string         `json:"id"`
	CaseID string         `json:"case_id"`
	State  RecordingState `json:"state"`
	// Duration is what Twilio reported, in seconds.
	Duration    int       `json:"duration"`
	Size        int64     `json:"size"`
	Chunks      int       `json:"chunks"`
	ContentType string    `json:"content_type,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	StoredAt    time.Time `json:"stored_at,omitzero"`
	// DeletedAtTwilio is set once Twilio's copy is gone.
	DeletedAtTwilio bool `json:"deleted_at_twilio,omitempty"`
	// Reason says why a failed recording could not be fetched (safe
	// text: a status and code, never a SID).
	Reason string `json:"reason,omitempty"`
}
