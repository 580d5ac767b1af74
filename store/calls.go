package store

import (
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/crypto"
)

// bucketCalls holds one record per inbound call, keyed by the keyed hash
// of its CallSid (the SID itself is never stored): where the call is in
// the voice menu, the path it took and the case it belongs to. Records
// are tagged; none of their fields identifies the caller.
var bucketCalls = []byte("calls")

func init() { allBuckets = append(allBuckets, bucketCalls) }

// DialAttempt is one try to connect a caller to an officer.
type DialAttempt struct {
	OfficerID string `json:"officer_id"`
	// Role is "on duty" or "backup".
	Role string    `json:"role"`
	At   time.Time `json:"at"`
	// Outcome is "ringing" until Twilio reports the end of the try, then
	// "accepted" (the officer pressed 1 on the whisper), or why not:
	// Twilio's DialCallStatus (busy, no-answer, failed, canceled) or
	// "not accepted" (answered without the keypress: a voicemail box).
	Outcome string `json:"outcome"`
}

// VoiceCall is an inbound call as the voice menu tracks it. Everything in
// it is plaintext metadata: ids, times, the language, the menu state and
// the path in fixed phrases; never a number, a SID or a keypress beyond
// the menu's own keys.
type VoiceCall struct {
	CaseID   string       `json:"case_id"`
	CaseCode string       `json:"case_code"`
	Lang     hotline.Lang `json:"lang,omitempty"` // "" until the caller chose
	// Step is where the call is in the menu (intake names the steps).
	Step string `json:"step"`
	// Path is what happened, in order, in fixed phrases for an officer.
	Path      []string  `json:"path"`
	StartedAt time.Time `json:"started_at"`
	EndedAt   time.Time `json:"ended_at,omitzero"`
	// Seconds is Twilio's CallDuration, once the call ended.
	Seconds int  `json:"seconds,omitempty"`
	Ended   bool `json:"ended,omitempty"`
	// Danger is set when the caller pressed 9: the case is P1.
	Danger bool `json:"danger,omitempty"`
	// Joined is set when the caller keyed the reference of an earlier
	// case: the call belongs to that case ("caller gave the reference").
	Joined bool `json:"joined,omitempty"`
	// ReopenedCase is set when joining reopened a closed case: its old
	// P1 alert is over, so a 9 on this call must alert anew.
	ReopenedCase bool `json:"reopened_case,omitempty"`
	// Misses counts prompts in a row the caller did not answer.
	Misses int `json:"misses,omitempty"`
	// WrongCodes counts references keyed that matched no case.
	WrongCodes int           `json:"wrong_codes,omitempty"`
	Attempts   []DialAttempt `json:"attempts,omitempty"`
	// MessageID is the call's entry among its case's messages: a sealed
	// summary (language, duration, path) the console and CLI show.
	MessageID string `json:"message_id"`
	// OwnCase is set while the call's case is the one it opened (not a
	// joined one).
	OwnCase bool `json:"own_case,omitempty"`
}

// Summary is the text of the call's message: what an officer reads.
func (c VoiceCall) Summary() string {
	var b strings.Builder
	b.WriteString("Voice call")
	if c.Lang != "" {
		b.WriteString(", language " + string(c.Lang))
	}
	if c.Ended {
		fmt.Fprintf(&b, ", %s", (time.Duration(c.Seconds) * time.Second).String())
	} else {
		b.WriteString(", in progress")
	}
	b.WriteString(". ")
	b.WriteString(strings.Join(c.Path, "; "))
	b.WriteString(".")
	return b.String()
}

// lookupCall reads a call's record outside the writer.
func (s *Store) lookupCall(sidHash crypto.IndexHash) (VoiceCall, bool, error) {
	var c VoiceCall
	found := false
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCalls)
		if b.Get(sidHash[:]) == nil {
			return nil
		}
		found = true
		return s.getTagged(b, bucketCalls, sidHash[:], &c)
	})
	return c, found, err
}

// ErrUnknownCall is returned for a CallSid that StartCall never recorded.
var ErrUnknownCall = hotline.Errorf(hotline.ENOTFOUND, "no such call")

// CaseForCall returns the record of the call with this CallSid (looked up
// by its keyed hash): CaseID and CaseCode name the case the call belongs
// to now, which is an earlier case if the caller gave its reference.
// A CallSid never recorded is ErrUnknownCall.
func (s *Store) CaseForCall(callSID string) (VoiceCall, error) {
	c, ok, err := s.lookupCall(s.callHash(callSID))
	if err != nil {
		return VoiceCall{}, err
	}
	if !ok {
		return VoiceCall{}, ErrUnknownCall
	}
	return c, nil
}

// CaseForCall is Store.CaseForCall inside a transaction.
func (t *Tx) CaseForCall(callSID string) (VoiceCall, error) {
	var c VoiceCall
	b := t.tx.Bucket(bucketCalls)
	h := callKey(t.s.keyring, b, callSID)
	if b.Get(h[:]) == nil {
		return c, ErrUnknownCall
	}
	err := t.s.getTagged(b, bucketCalls, h[:], &c)
	return c, err
}

// call checks a call record and that its case exists.
func (v verifier) call(k, _ []byte) error {
	var c VoiceCall
	if err := v.s.getTagged(v.tx.Bucket(bucketCalls), bucketCalls, k, &c); err != nil {
		return err
	}
	return v.s.getTagged(v.tx.Bucket(bucketCases), bucketCases, []byte(c.CaseID), &caseRecord{})
}

// callKey is the key of a call's record: its CallSid's keyed hash under
// the index key version the record was written with. A call record is
// not re-hashed by rotate-index (the CallSid is not kept to re-hash it
// from), so while a move is under way the old version is tried too; a
// call still going on when the move ends loses its later callbacks.
func callKey(kr *crypto.Keyring, calls *bolt.Bucket, callSID string) crypto.IndexHash {
	hashes := kr.IndexCandidates(crypto.DomainTwilioSID, callSID)
	for _, h := range hashes {
		if calls.Get(h[:]) != nil {
			return h
		}
	}
	return hashes[0]
}

// callHash is callKey in a read transaction of its own.
func (s *Store) callHash(callSID string) crypto.IndexHash {
	h := s.keyring.Index(crypto.DomainTwilioSID, callSID)
	s.view(func(tx *bolt.Tx) error {
		h = callKey(s.keyring, tx.Bucket(bucketCalls), callSID)
		return nil
	})
	return h
}
