// Package hotline holds the domain types shared by the hotline service:
// cases, messages, priorities and the small interfaces between packages.
// It imports nothing but the standard library.
package hotline

import (
	"fmt"
	"time"
)

// Priority says how urgently a case needs a human.
type Priority string

// Priorities, most urgent first.
const (
	// P1 means someone is in danger now.
	P1 Priority = "P1"
	// P2 means trafficking indicators without immediate danger.
	P2 Priority = "P2"
	// P3 means questions, thanks, unrelated text or spam.
	P3 Priority = "P3"
)

// Rank orders priorities: a higher rank is more urgent. Unknown values rank 0.
func (p Priority) Rank() int {
	switch p {
	case P1:
		return 3
	case P2:
		return 2
	case P3:
		return 1
	}
	return 0
}

// Max returns the more urgent of p and q.
func (p Priority) Max(q Priority) Priority {
	if q.Rank() > p.Rank() {
		return q
	}
	return p
}

// Channel is how a tip reached the hotline.
type Channel string

// Channels.
const (
	ChannelSMS   Channel = "sms"
	ChannelVoice Channel = "voice"
)

// Lang is a reporter's language as a short code.
type Lang string

// Languages the hotline answers in.
const (
	LangAz Lang = "az"
	LangRu Lang = "ru"
	LangEn Lang = "en"
)

// Valid reports whether l is one of the hotline's languages.
func (l Lang) Valid() bool { return l == LangAz || l == LangRu || l == LangEn }

// Category is the kind of exploitation a tip suggests.
type Category string

// Categories a tip can fall in.
const (
	CategoryLabor       Category = "labor"
	CategorySexual      Category = "sexual"
	CategoryChild       Category = "child"
	CategoryBegging     Category = "begging"
	CategoryServitude   Category = "servitude"
	CategoryOrgan       Category = "organ"
	CategoryRecruitment Category = "recruitment"
	CategoryInfo        Category = "info"
	CategoryNone        Category = "none"
)

// Triage is the outcome of reading one tip: how urgent, what kind, which
// language, and which rules fired so an officer can see why.
type Triage struct {
	Priority Priority `json:"priority"`
	Category Category `json:"category"`
	Lang     Lang     `json:"lang"`
	Matched  []string `json:"matched"`
}

// Triager reads the text of a tip and says how urgent it is. It must be safe
// for concurrent use and must never log the text.
type Triager interface {
	Triage(text string) Triage
}

// CaseStatus is where a case is in its life.
type CaseStatus string

// Case statuses.
const (
	CaseOpen   CaseStatus = "open"
	CaseClosed CaseStatus = "closed"
)

// Case is one reporter's conversation with the hotline. Everything in it but
// ReporterPhone is plaintext metadata; the store seals ReporterPhone.
type Case struct {
	ID        string     `json:"id"`
	Code      string     `json:"code"`
	Channel   Channel    `json:"channel"`
	Lang      Lang       `json:"lang"`
	Priority  Priority   `json:"priority"`
	Category  Category   `json:"category"`
	Status    CaseStatus `json:"status"`
	OpenedAt  time.Time  `json:"opened_at"`
	UpdatedAt time.Time  `json:"updated_at"`
	Messages  int        `json:"messages"`

	// ReporterPhone is the reporter's number in E.164. Sealed at rest; never logged.
	ReporterPhone string `json:"-"`
}

// Direction says whether a message came from a reporter or went to one.
type Direction string

// Directions.
const (
	Inbound  Direction = "in"
	Outbound Direction = "out"
)

// Message is one SMS (or voice note) within a case. Body and Matched are
// sealed at rest; the rest is plaintext metadata.
type Message struct {
	ID        string    `json:"id"`
	CaseID    string    `json:"case_id"`
	Direction Direction `json:"direction"`
	Channel   Channel   `json:"channel"`
	At        time.Time `json:"at"`
	Lang      Lang      `json:"lang"`
	Priority  Priority  `json:"priority"`
	Category  Category  `json:"category"`

	// Body is the text of the message. Sealed at rest; never logged.
	Body string `json:"-"`
	// Matched lists the triage rules that fired. Sealed at rest because rule
	// names can hint at the content.
	Matched []string `json:"-"`
}

// Error codes safe to show to a caller.
const (
	EINVALID   = "invalid"
	ENOTFOUND  = "not_found"
	ECONFLICT  = "conflict"
	EFORBIDDEN = "forbidden"
	ETOOLARGE  = "too_large"
	EINTERNAL  = "internal"
	EBUSY      = "busy"
)

// Error is an error whose Message is safe to show to a user (in a CLI, an
// HTTP answer or the console). It never carries identifying data; internal
// details belong in the log.
type Error struct {
	Code    string
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Errorf returns an *Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}
