package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/crypto"
)

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
	// The codes are scanned in a read transaction, not in the single
	// writer, so a reference keyed on a large file does not hold up tips.
	var targetID string
	var matched bool
	if err := s.view(func(tx *bolt.Tx) error {
		var err error
		targetID, matched, err = s.matchReference(tx, keyed, from)
		return err
	}); err != nil {
		return JoinResult{}, err
	}
	var res JoinResult
	err := s.update(ctx, func(btx *bolt.Tx) error {
		res = JoinResult{}
		calls := btx.Bucket(bucketCalls)
		sidHash := callKey(s.keyring, calls, callSID)
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
		// A caller back on a closed case must be seen: it returns to the
		// queue, as an officer's reopen would.
		reopened, err := s.reopenForCaller(btx, &target, s.now())
		if err != nil {
			return err
		}
		call.ReopenedCase = reopened
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

// reopenForCaller takes a case a caller came back to (by keying its
// reference or leaving a message on it) back into work when it is not
// open: open, in progress, the step marked as a reopening by no officer,
// and audited as case.reopen via call, as the console audits an
// officer's reopen. A closed case is hidden from the queue, so a caller
// who keys 9 on it would otherwise be heard by nobody. The caller of
// reopenForCaller stores c; it reports whether c was reopened.
func (s *Store) reopenForCaller(btx *bolt.Tx, c *caseRecord, now time.Time) (bool, error) {
	if c.Status == hotline.CaseOpen {
		return false, nil
	}
	work := btx.Bucket(bucketCaseWork)
	var rec workRecord
	if err := s.getTagged(work, bucketCaseWork, []byte(c.ID), &rec); err != nil && !isNotFound(err) {
		return false, err
	}
	c.Status, c.UpdatedAt = hotline.CaseOpen, now
	rec.State = hotline.WorkInProgress
	rec.History = append(rec.History, hotline.WorkChange{State: hotline.WorkInProgress, At: now, Reopened: true})
	if err := s.putTagged(work, bucketCaseWork, []byte(c.ID), rec); err != nil {
		return false, err
	}
	return true, (&Tx{s: s, tx: btx}).AppendAudit(AuditEntry{Actor: "call", Action: "case.reopen", Object: c.Code, Via: "call",
		Detail: "state=" + string(hotline.WorkInProgress)})
}

// matchReference finds the case whose code's keypad form is keyed. Codes
// made for voice cases have keypad forms no other case had; SMS codes do
// not, so two may share one: then the caller's own case (by the keyed
// hash of their number) is taken, or none.
func (s *Store) matchReference(tx *bolt.Tx, keyed string, from string) (string, bool, error) {
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
	if from == "" {
		return "", false, nil
	}
	// Under either index key version while a move is under way.
	var phoneHash crypto.IndexHash
	var stored []byte
	for _, h := range s.keyring.IndexCandidates(crypto.DomainPhone, from) {
		if stored = tx.Bucket(bucketReporters).Get(h[:]); stored != nil {
			phoneHash = h
			break
		}
	}
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
