package store

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"

	bolt "go.etcd.io/bbolt"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/crypto"
)

// CallStart is a call Twilio has just put through to the hotline.
type CallStart struct {
	CallSID string
	// From is the caller's number as SenderKey gives it; "" when withheld.
	From string
	Step string
	Path string
}

// newVoiceCode draws a candidate code for a call's case (a test makes it
// draw codes that share a keypad form).
var newVoiceCode = newCode

// StartCall records a new call before its first menu is answered: a voice
// case (P3, open, with a reference typable on a keypad), the caller's
// number sealed in it, the call's record and its summary message, all in
// one fsynced transaction. A CallSid seen before returns its record and
// writes nothing, so a hang-up at any point still leaves a case.
func (s *Store) StartCall(ctx context.Context, in CallStart) (VoiceCall, error) {
	if in.CallSID == "" {
		return VoiceCall{}, hotline.Errorf(hotline.EINVALID, "call sid is required")
	}
	sidHash := s.callHash(in.CallSID)
	if c, ok, err := s.lookupCall(sidHash); err != nil || ok {
		return c, err
	}
	now := s.now()
	caseID := newID(now)
	caseSealed, err := s.seal(bucketCases, caseID, caseSecret{Phone: in.From})
	if err != nil {
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
		// A voice caller keys the reference on a keypad; pick a code whose
		// keypad form no other case has, so it finds this case alone. The
		// forms are read in the writer: read before it, two calls starting
		// together could both take one form.
		taken := map[string]bool{}
		codes := tx.Bucket(bucketCaseCodes)
		if err := codes.ForEach(func(k, _ []byte) error {
			taken[KeypadDigits(string(k))] = true
			return nil
		}); err != nil {
			return err
		}
		code := ""
		for range 50 {
			c := newVoiceCode()
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
	return s.updateCallHash(ctx, s.callHash(callSID), change, hook)
}

// CallRef is an opaque name for a call that a URL may carry (the officer's
// leg of a <Dial> knows its own CallSid, not the caller's): the keyed
// hash of the caller's CallSid in hex, which tells nothing without the key.
func (s *Store) CallRef(callSID string) string {
	return s.callHash(callSID).String()
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
			// The case may have been closed while the call was on.
			reopened, err := s.reopenForCaller(btx, &c, s.now())
			if err != nil {
				return err
			}
			// A case that was closed had its P1 alert dealt with: a 9 on
			// it alerts anew, even if it was P1 already.
			if reopened || call.ReopenedCase {
				prev = ""
			}
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
