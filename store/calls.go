package store

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
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

// CallStart is a call Twilio has just put through to the hotline.
type CallStart struct {
	CallSID string
	// From is the caller's number as SenderKey gives it; "" when withheld.
	From string
	Step string
	Path string
}

// StartCall records a new call before its first menu is answered: a voice
// case (P3, open, with a reference typable on a keypad), the caller's
// number sealed in it, the call's record and its summary message, all in
// one fsynced transaction. A CallSid seen before returns its record and
// writes nothing, so a hang-up at any point still leaves a case.
func (s *Store) StartCall(ctx context.Context, in CallStart) (VoiceCall, error) {
	if in.CallSID == "" {
		return VoiceCall{}, hotline.Errorf(hotline.EINVALID, "call sid is required")
	}
	sidHash := s.keyring.Index(crypto.DomainTwilioSID, in.CallSID)
	if c, ok, err := s.lookupCall(sidHash); err != nil || ok {
		return c, err
	}
	now := s.now()
	caseID := newID(now)
	caseSealed, err := s.seal(bucketCases, caseID, caseSecret{Phone: in.From})
	if err != nil {
		return VoiceCall{}, err
	}
	// A voice caller keys the reference on a keypad; pick a code whose
	// keypad form no other case has, so it finds this case alone.
	taken := map[string]bool{}
	if err := s.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketCaseCodes).ForEach(func(k, _ []byte) error {
			taken[KeypadDigits(string(k))] = true
			return nil
		})
	}); err != nil {
		return VoiceCall{}, err
	}
	call := VoiceCall{
		CaseID: caseID, Step: in.Step, Path: []string{in.Path}, StartedAt: now,
		MessageID: newID(now), OwnCase: true,
	}
	err = s.update(ctx, func(tx *bolt.Tx) error {
		calls := tx.Bucket(bucketCalls)
		if calls.Get(sidHash[:]) != nil {
			return s.getTagged(calls, bucketCalls, sidHash[:], &call)
		}
		code := ""
		codes := tx.Bucket(bucketCaseCodes)
		for range 50 {
			c := newCode()
			if codes.Get([]byte(c)) == nil && !taken[KeypadDigits(c)] {
				code = c
				break
			}
		}
		if code == "" {
			return errors.New("could not find a free case code whose keypad form is free after 50 tries")
		}
		call.CaseCode = code
		c := caseRecord{
			ID: caseID, Code: code, Channel: hotline.ChannelVoice, Lang: hotline.LangAz,
			Priority: hotline.P3, Category: hotline.CategoryNone, Status: hotline.CaseOpen,
			OpenedAt: now, UpdatedAt: now, Messages: 1, Sealed: caseSealed,
		}
		if err := codes.Put([]byte(code), []byte(caseID)); err != nil {
			return err
		}
		if err := s.putTagged(tx.Bucket(bucketCases), bucketCases, []byte(caseID), c); err != nil {
			return err
		}
		if err := s.putCallMessage(tx, c, call, true); err != nil {
			return err
		}
		return s.putTagged(calls, bucketCalls, sidHash[:], call)
	})
	if err != nil {
		return VoiceCall{}, err
	}
	return call, nil
}

// putCallMessage writes the call's summary message bound to case c (and
// its index entry when it is new to c).
func (s *Store) putCallMessage(tx *bolt.Tx, c caseRecord, call VoiceCall, index bool) error {
	m := messageRecord{
		ID: call.MessageID, Direction: hotline.Inbound, Channel: hotline.ChannelVoice, At: call.StartedAt,
		Lang: c.Lang, Priority: c.Priority, Category: c.Category,
	}
	secret, err := json.Marshal(messageSecret{Body: call.Summary()})
	if err != nil {
		return err
	}
	v, err := s.sealMessage(c.ID, m, secret)
	if err != nil {
		return err
	}
	if err := tx.Bucket(bucketMessages).Put([]byte(m.ID), v); err != nil {
		return err
	}
	if index {
		return tx.Bucket(bucketCases).Put(messageKey(c.ID, m.ID), nil)
	}
	return nil
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
	c, ok, err := s.lookupCall(s.keyring.Index(crypto.DomainTwilioSID, callSID))
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
	h := t.s.keyring.Index(crypto.DomainTwilioSID, callSID)
	var c VoiceCall
	b := t.tx.Bucket(bucketCalls)
	if b.Get(h[:]) == nil {
		return c, ErrUnknownCall
	}
	err := t.s.getTagged(b, bucketCalls, h[:], &c)
	return c, err
}

// CallUpdate is what UpdateCall did.
type CallUpdate struct {
	Call VoiceCall
	// Case is the call's case after the change.
	Case hotline.Case
	// Raised is set when this change made the case P1 (the caller pressed
	// 9): the hook ran as for a P1 SMS, or, if it failed, AlertPending and
	// AlertError say so and the alert worker retries.
	Raised       bool
	AlertPending bool
	AlertError   error
}

// UpdateCall changes a call's record with change and keeps its case and
// summary message in step, in one fsynced transaction. When change sets
// Danger for the first time the case becomes P1 and hook (the same hook
// RecordInboundSMS runs: it opens the alert) runs in the same
// transaction with the InboundResult a P1 SMS would give; if the hook
// fails, the change is stored without it and the case is marked for the
// alert worker, exactly as for an SMS. change may be called more than
// once; it must only edit the record it is given.
func (s *Store) UpdateCall(ctx context.Context, callSID string, change func(*VoiceCall) error, hook InboundHook) (CallUpdate, error) {
	return s.updateCallHash(ctx, s.keyring.Index(crypto.DomainTwilioSID, callSID), change, hook)
}

// CallRef is an opaque name for a call that a URL may carry (the officer's
// leg of a <Dial> knows its own CallSid, not the caller's): the keyed
// hash of the caller's CallSid in hex, which tells nothing without the key.
func (s *Store) CallRef(callSID string) string {
	return s.keyring.Index(crypto.DomainTwilioSID, callSID).String()
}

// UpdateCallByRef is UpdateCall for the call CallRef named.
func (s *Store) UpdateCallByRef(ctx context.Context, ref string, change func(*VoiceCall) error) (CallUpdate, error) {
	var h crypto.IndexHash
	raw, err := hex.DecodeString(ref)
	if err != nil || len(raw) != len(h) {
		return CallUpdate{}, ErrUnknownCall
	}
	copy(h[:], raw)
	return s.updateCallHash(ctx, h, change, nil)
}

// CallerKey is the keyed hash of a caller's number, for counting what one
// number does (reference tries) without keeping the number.
func (s *Store) CallerKey(from string) string {
	return s.keyring.Index(crypto.DomainPhone, from).String()
}

func (s *Store) updateCallHash(ctx context.Context, sidHash crypto.IndexHash, change func(*VoiceCall) error, hook InboundHook) (CallUpdate, error) {
	up, err := s.updateCall(ctx, sidHash, change, hook, nil)
	var failed *hookFailure
	if !errors.As(err, &failed) {
		return up, err
	}
	up, err = s.updateCall(ctx, sidHash, change, nil, failed.err)
	if err != nil {
		return CallUpdate{}, err
	}
	if up.Raised {
		up.AlertPending, up.AlertError = true, failed.err
		s.alertFailures.Add(1)
	}
	return up, nil
}

func (s *Store) updateCall(ctx context.Context, sidHash crypto.IndexHash, change func(*VoiceCall) error, hook InboundHook, hookErr error) (CallUpdate, error) {
	var up CallUpdate
	err := s.update(ctx, func(btx *bolt.Tx) error {
		up = CallUpdate{}
		calls := btx.Bucket(bucketCalls)
		var call VoiceCall
		if calls.Get(sidHash[:]) == nil {
			return ErrUnknownCall
		}
		if err := s.getTagged(calls, bucketCalls, sidHash[:], &call); err != nil {
			return err
		}
		wasDanger := call.Danger
		if err := change(&call); err != nil {
			return err
		}
		var c caseRecord
		if err := s.getTagged(btx.Bucket(bucketCases), bucketCases, []byte(call.CaseID), &c); err != nil {
			return err
		}
		prev := c.Priority
		if call.OwnCase && call.Lang.Valid() {
			c.Lang = call.Lang
		}
		if call.Danger && !wasDanger {
			c.Priority = hotline.P1
			up.Raised = prev != hotline.P1
		}
		c.UpdatedAt = s.now()
		if err := s.putTagged(btx.Bucket(bucketCases), bucketCases, []byte(c.ID), c); err != nil {
			return err
		}
		if err := s.putCallMessage(btx, c, call, false); err != nil {
			return err
		}
		if err := s.putTagged(calls, bucketCalls, sidHash[:], call); err != nil {
			return err
		}
		up.Call, up.Case = call, c.domain()
		if !up.Raised {
			return nil
		}
		lang := c.Lang
		if call.Lang.Valid() {
			lang = call.Lang
		}
		// The case was made by this call: its alert is a new P1 case's,
		// as when a first SMS is triaged P1. A joined case's priority rose.
		res := InboundResult{
			Case: up.Case, MessageID: call.MessageID, Lang: lang,
			NewCase: call.OwnCase, PreviousPriority: prev,
		}
		if call.OwnCase {
			res.PreviousPriority = ""
		}
		if hookErr != nil {
			return s.markAlertPending(btx, PendingAlert{
				CaseID: c.ID, CaseCode: c.Code, NewCase: res.NewCase, Lang: lang,
				Since: c.UpdatedAt, NextTryAt: c.UpdatedAt, LastError: hookErr.Error(),
			})
		}
		if hook != nil {
			return runHook(hook, &Tx{s: s, tx: btx}, &res)
		}
		return nil
	})
	if err != nil {
		return CallUpdate{}, err
	}
	return up, nil
}

// JoinResult says what JoinCall found.
type JoinResult struct {
	Call VoiceCall
	// Joined is false when the keyed reference matched no case (or more
	// than one, and none of them is the caller's own SMS case).
	Joined bool
}

// JoinCall moves a call to the case whose reference the caller keyed
// (keyed holds the keypad digits of its code: KeypadDigits), so the
// call's message, recording or live connection lands on that case,
// marked "caller gave the reference". The case the call opened, which
// holds nothing but this call, is removed. A call that is already in
// danger (its own case is P1 and alerted) or already joined is not moved.
// from is the caller's number (SenderKey form): when several SMS cases
// share the keypad form, the caller's own is taken; otherwise no case is.
func (s *Store) JoinCall(ctx context.Context, callSID, keyed, from, pathNote string) (JoinResult, error) {
	sidHash := s.keyring.Index(crypto.DomainTwilioSID, callSID)
	var phoneHash crypto.IndexHash
	if from != "" {
		phoneHash = s.keyring.Index(crypto.DomainPhone, from)
	}
	// The codes are scanned in a read transaction, not in the single
	// writer, so a reference keyed on a large file does not hold up tips.
	var targetID string
	var matched bool
	if err := s.view(func(tx *bolt.Tx) error {
		var err error
		targetID, matched, err = s.matchReference(tx, keyed, phoneHash)
		return err
	}); err != nil {
		return JoinResult{}, err
	}
	var res JoinResult
	err := s.update(ctx, func(btx *bolt.Tx) error {
		res = JoinResult{}
		calls := btx.Bucket(bucketCalls)
		if calls.Get(sidHash[:]) == nil {
			return ErrUnknownCall
		}
		var call VoiceCall
		if err := s.getTagged(calls, bucketCalls, sidHash[:], &call); err != nil {
			return err
		}
		res.Call = call
		if call.Danger || call.Joined || !call.OwnCase {
			return nil
		}
		if !matched || targetID == call.CaseID {
			return nil
		}
		cases := btx.Bucket(bucketCases)
		var target caseRecord
		if err := s.getTagged(cases, bucketCases, []byte(targetID), &target); err != nil {
			if isNotFound(err) {
				return nil // removed since the scan
			}
			return err
		}
		if KeypadDigits(target.Code) != keyed {
			return fmt.Errorf("%w: case %s was matched by its code's keypad form, but its code is %s", ErrTampered, target.ID, target.Code)
		}
		// Remove the case this call opened: it holds only this call.
		var own caseRecord
		if err := s.getTagged(cases, bucketCases, []byte(call.CaseID), &own); err != nil {
			return err
		}
		for _, k := range [][]byte{messageKey(own.ID, call.MessageID), []byte(own.ID)} {
			if err := cases.Delete(k); err != nil {
				return err
			}
		}
		if err := btx.Bucket(bucketCaseCodes).Delete([]byte(own.Code)); err != nil {
			return err
		}
		call.CaseID, call.CaseCode = target.ID, target.Code
		call.Joined, call.OwnCase = true, false
		call.Path = append(call.Path, pathNote)
		target.Messages++
		target.UpdatedAt = s.now()
		if err := s.putTagged(cases, bucketCases, []byte(target.ID), target); err != nil {
			return err
		}
		if err := s.putCallMessage(btx, target, call, true); err != nil {
			return err
		}
		if err := s.putTagged(calls, bucketCalls, sidHash[:], call); err != nil {
			return err
		}
		res.Call, res.Joined = call, true
		return nil
	})
	return res, err
}

// matchReference finds the case whose code's keypad form is keyed. Codes
// made for voice cases have keypad forms no other case had; SMS codes do
// not, so two may share one: then the caller's own case (by the keyed
// hash of their number) is taken, or none.
func (s *Store) matchReference(tx *bolt.Tx, keyed string, phoneHash crypto.IndexHash) (string, bool, error) {
	if len(keyed) != CodeLength {
		return "", false, nil
	}
	var ids []string
	err := tx.Bucket(bucketCaseCodes).ForEach(func(k, v []byte) error {
		if KeypadDigits(string(k)) == keyed {
			ids = append(ids, string(v))
		}
		return nil
	})
	if err != nil || len(ids) == 0 {
		return "", false, err
	}
	if len(ids) == 1 {
		return ids[0], true, nil
	}
	if phoneHash == (crypto.IndexHash{}) {
		return "", false, nil
	}
	stored := tx.Bucket(bucketReporters).Get(phoneHash[:])
	if stored == nil {
		return "", false, nil
	}
	own, err := s.checkValue(bucketReporters, phoneHash[:], stored)
	if err != nil {
		return "", false, err
	}
	for _, id := range ids {
		if id == string(own) {
			return id, true, nil
		}
	}
	return "", false, nil
}

// keypadLetters is where each letter sits on a phone keypad (ITU E.161).
var keypadLetters = map[rune]byte{
	'A': '2', 'B': '2', 'C': '2', 'D': '3', 'E': '3', 'F': '3', 'G': '4', 'H': '4', 'I': '4',
	'J': '5', 'K': '5', 'L': '5', 'M': '6', 'N': '6', 'O': '6', 'P': '7', 'Q': '7', 'R': '7', 'S': '7',
	'T': '8', 'U': '8', 'V': '8', 'W': '9', 'X': '9', 'Y': '9', 'Z': '9',
}

// KeypadDigits is what a caller keys for a case code on a phone keypad:
// each letter becomes the key it is printed on (A and C are 2, D E F 3, H
// 4, J K 5, M N 6, P Q R 7, T 8, W X Y 9) and digits stay themselves. It
// is the reference the voice menu reads out and takes back.
func KeypadDigits(code string) string {
	out := make([]byte, 0, len(code))
	for _, r := range strings.ToUpper(code) {
		switch {
		case r >= '0' && r <= '9':
			out = append(out, byte(r))
		case keypadLetters[r] != 0:
			out = append(out, keypadLetters[r])
		default:
			out = append(out, '?')
		}
	}
	return string(out)
}

// call checks a call record and that its case exists.
func (v verifier) call(k, _ []byte) error {
	var c VoiceCall
	if err := v.s.getTagged(v.tx.Bucket(bucketCalls), bucketCalls, k, &c); err != nil {
		return err
	}
	return v.s.getTagged(v.tx.Bucket(bucketCases), bucketCases, []byte(c.CaseID), &caseRecord{})
}
