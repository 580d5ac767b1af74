package hotline

import "time"

// Role is what an officer may do.
type Role string

// Roles, least to most privileged.
const (
	RoleOfficer    Role = "officer"
	RoleSupervisor Role = "supervisor"
	RoleAdmin      Role = "admin"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleOfficer || r == RoleSupervisor || r == RoleAdmin }

// Officer is a member of the department who can be alerted. Name and Phone
// are sealed at rest and never logged; ID is what the rest of the data
// refers to.
type Officer struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	Phone     string    `json:"phone,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// Lang is the language of the officer's alert call; empty is English.
	Lang Lang `json:"lang,omitempty"`

	// PendingPhone is a new number waiting for the officer to text back
	// VerifyCode from it (before VerifyExpires); alerts keep going to
	// Phone until then, so a mistyped number never silences anyone.
	PendingPhone  string    `json:"pending_phone,omitempty"`
	VerifyCode    string    `json:"verify_code,omitempty"`
	VerifyExpires time.Time `json:"verify_expires,omitzero"`
}

// AlertState is where an alert is in its life.
type AlertState string

// Alert states. Only open alerts escalate.
const (
	AlertOpen         AlertState = "open"
	AlertAcknowledged AlertState = "acknowledged"
	AlertClosed       AlertState = "closed"
	// AlertSuperseded means the case's priority rose and a new alert took over.
	AlertSuperseded AlertState = "superseded"
)

// Alert tells officers that a case needs a human. It carries no tip
// content: only the case code, priority, channel and language.
type Alert struct {
	ID       string     `json:"id"`
	Number   int        `json:"number"` // what an officer replies with: "12a"
	CaseID   string     `json:"case_id"`
	CaseCode string     `json:"case_code"`
	Priority Priority   `json:"priority"`
	Channel  Channel    `json:"channel"`
	Lang     Lang       `json:"lang"`
	Raised   bool       `json:"raised,omitempty"` // opened because the case's priority rose
	State    AlertState `json:"state"`
	OpenedAt time.Time  `json:"opened_at"`

	// Round counts passes through the policy; Step is the next step to run
	// within the round; NextAt is when (zero when nothing is scheduled).
	Round      int       `json:"round"`
	Step       int       `json:"step"`
	RoundStart time.Time `json:"round_start"`
	NextAt     time.Time `json:"next_at,omitzero"`
	// Exhausted is set once every round ran and all supervisors were called.
	Exhausted bool `json:"exhausted,omitempty"`

	AckedBy  string    `json:"acked_by,omitempty"` // officer id
	AckedAt  time.Time `json:"acked_at,omitzero"`
	AckedVia string    `json:"acked_via,omitempty"` // sms, call, console
	// Recipients are the officers alerted so far, so "a" alone finds
	// their latest alert.
	Recipients []string `json:"recipients,omitempty"`
}

// JobKind says what an outbox job does.
type JobKind string

// Outbox job kinds.
const (
	JobAlertSMS  JobKind = "alert_sms"
	JobAlertCall JobKind = "alert_call"
	// JobNoticeSMS tells an officer who was paged that the alert was
	// acknowledged or closed, and by whom. It never escalates.
	JobNoticeSMS JobKind = "notice_sms"
	// JobReplySMS is an officer's reply to a reporter, sent from the
	// hotline number; the worker opens the number and text when it runs.
	JobReplySMS JobKind = "reply_sms"
	// JobVerifySMS sends an officer's new number its verification code.
	JobVerifySMS JobKind = "verify_sms"
	// JobTestSMS and JobTestCall test an officer's phone (hotline
	// officers test): no alert, no case, one try, the outcome reported.
	JobTestSMS  JobKind = "test_sms"
	JobTestCall JobKind = "test_call"
	// JobGapSMS warns a supervisor that nobody is on duty from SpanFrom
	// (to SpanTo); JobReminderSMS reminds an officer that their duty
	// starts at SpanFrom (until SpanTo). Both never escalate.
	JobGapSMS      JobKind = "gap_sms"
	JobReminderSMS JobKind = "reminder_sms"
)

// JobState is where an outbox job is.
type JobState string

// Outbox job states.
const (
	JobPending JobState = "pending" // waiting for its next try
	JobSending JobState = "sending" // handed to Twilio, answer not yet recorded
	JobSent    JobState = "sent"    // Twilio accepted it (SID recorded)
	// JobUncertain means a crash or timeout left it unknown whether Twilio
	// accepted it. It is not sent again (no double alerts); escalation
	// carries on regardless.
	JobUncertain JobState = "uncertain"
	JobDelivered JobState = "delivered" // delivered, or the call was answered
	JobFailed    JobState = "failed"    // Twilio reported failure after accepting
	JobDead      JobState = "dead"      // gave up: too many tries or a permanent error
	JobCancelled JobState = "cancelled" // the alert was acknowledged first
)

// Job is one outbound action in the durable outbox. It holds no phone
// number or text: the worker derives both when it runs.
type Job struct {
	ID        string    `json:"id"`
	Kind      JobKind   `json:"kind"`
	AlertID   string    `json:"alert_id"`
	OfficerID string    `json:"officer_id"`
	Round     int       `json:"round"`
	Step      int       `json:"step"`
	State     JobState  `json:"state"`
	Tries     int       `json:"tries"`
	NextTryAt time.Time `json:"next_try_at,omitzero"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Delivery is Twilio's last reported status (queued, delivered, busy...).
	Delivery  string `json:"delivery,omitempty"`
	ErrorCode int    `json:"error_code,omitempty"`
	LastError string `json:"last_error,omitempty"` // safe text: status and code, never numbers
	// HasSID is true once Twilio's SID is recorded (sealed, with a keyed
	// hash for status callbacks).
	HasSID bool `json:"has_sid,omitempty"`
	// Unconfirmed is set when an earlier try may have reached Twilio (no
	// answer, or a crash mid-send): the next try first asks Twilio whether
	// it exists, so the officer is not alerted twice.
	Unconfirmed bool `json:"unconfirmed,omitempty"`
	// FirstTryAt is when the first try started (the reconciliation window).
	FirstTryAt time.Time `json:"first_try_at,omitzero"`
	// LastTryAt is when the latest try started: how long a placed call
	// has been in flight (UpdatedAt moves whenever the job is written).
	LastTryAt time.Time `json:"last_try_at,omitzero"`

	// SharedCall, on a call job, is the call job whose call announces this
	// job's alert too: an officer gets one alert call at a time, which
	// names every open alert paged to them. Riders are the reverse: the
	// jobs a call job's call carries, settled with it.
	SharedCall string   `json:"shared_call,omitempty"`
	Riders     []string `json:"riders,omitempty"`
	// Announced are the alerts the call's prompt named; a keypress
	// acknowledges exactly these.
	Announced []string `json:"announced,omitempty"`
	// Pressed is set when the officer pressed the acknowledgement key on
	// this call: a call that ends without it was not answered (voicemail).
	Pressed bool `json:"pressed,omitempty"`

	// SpanFrom and SpanTo are the stretch a rota SMS (JobGapSMS,
	// JobReminderSMS) is about; SpanTo is zero when nothing ends it.
	SpanFrom time.Time `json:"span_from,omitzero"`
	SpanTo   time.Time `json:"span_to,omitzero"`

	// Event and By are what a notice reports: the alert's new state and
	// the id of the officer who changed it.
	Event AlertState `json:"event,omitempty"`
	By    string     `json:"by,omitempty"`

	// CaseID and MessageID name the case and the sealed outbound message
	// of a reply (JobReplySMS); empty for alerts.
	CaseID    string `json:"case_id,omitempty"`
	MessageID string `json:"message_id,omitempty"`
}

// Terminal reports whether the job will not change any more but for
// delivery updates.
func (j Job) Terminal() bool {
	switch j.State {
	case JobDead, JobCancelled, JobFailed, JobDelivered:
		return true
	}
	return false
}
