package hotline

import "time"

// WorkState is where officers are with a case: the console's workflow,
// apart from CaseStatus (which decides whether new texts join the case).
type WorkState string

// Workflow states, in order. A case moves forward only, but for a
// reopening (closed back to in progress); closing needs a reason.
const (
	WorkNew          WorkState = "new"
	WorkAcknowledged WorkState = "acknowledged"
	WorkInProgress   WorkState = "in_progress"
	WorkReferred     WorkState = "referred"
	WorkClosed       WorkState = "closed"
)

// WorkStates lists the workflow in order.
var WorkStates = []WorkState{WorkNew, WorkAcknowledged, WorkInProgress, WorkReferred, WorkClosed}

// Rank orders workflow states; unknown states rank -1.
func (s WorkState) Rank() int {
	for i, w := range WorkStates {
		if w == s {
			return i
		}
	}
	return -1
}

// Note is an officer's note on a case. Text is sealed at rest and never
// logged.
type Note struct {
	ID        string    `json:"id"`
	CaseID    string    `json:"case_id"`
	OfficerID string    `json:"officer_id"`
	At        time.Time `json:"at"`
	Text      string    `json:"-"`
}

// WorkChange is one step of a case's workflow.
type WorkChange struct {
	State     WorkState `json:"state"`
	OfficerID string    `json:"officer_id"`
	At        time.Time `json:"at"`
	// Reopened marks the step that took a closed case back into work.
	Reopened bool `json:"reopened,omitempty"`
}

// CaseWork is a case's workflow: its state, the reason it was closed
// (sealed at rest: officers write it) and every change.
type CaseWork struct {
	State   WorkState    `json:"state"`
	Reason  string       `json:"-"`
	History []WorkChange `json:"history"`
}
