package hotline

import "time"

// Correction is an officer's change of a case's priority: what triage
// said, what the case was, what the officer made it and why. The reason
// and the rules triage matched are sealed at rest; the priorities, the
// officer id and the time are plaintext metadata, so corrections can be
// counted without a key.
type Correction struct {
	ID     string    `json:"id"`
	CaseID string    `json:"case_id"`
	At     time.Time `json:"at"`
	// From is the case's priority before the correction, To after it.
	From Priority `json:"from"`
	To   Priority `json:"to"`
	// TriagePriority is the most urgent priority triage gave the case's
	// texts up to the correction; TriageMatched the rules that fired.
	TriagePriority Priority `json:"triage_priority"`
	TriageMatched  []string `json:"-"`
	// OfficerID is who made it, "" for an admin on the server (the CLI).
	OfficerID string `json:"officer_id,omitempty"`
	// Via is the way in: console or cli.
	Via string `json:"via"`
	// Reason is the officer's words. Sealed at rest; never logged.
	Reason string `json:"-"`
}

// Lowered reports whether the correction made the case less urgent.
func (c Correction) Lowered() bool { return c.To.Rank() < c.From.Rank() }
