package store

import (
	"bytes"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/crypto"
)

// VerifyRecords reads the whole file in one read-only transaction: it
// opens every sealed value, checks every integrity tag and binding, and
// follows every index entry to its record. It calls problem for each
// failure with the record's bucket, its id (keyed hashes only by their
// length) and why, never a sealed value, and returns how many records it
// checked. It writes nothing, so it is safe on a damaged file.
func (s *Store) VerifyRecords(problem func(bucket, id string, err error)) (int, error) {
	n := 0
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		n, err = s.verifyRecords(tx, problem)
		return err
	})
	return n, err
}

// verifyRecords is VerifyRecords inside tx, for a caller (`hotline check`)
// that reads the file in its own transaction.
func (s *Store) verifyRecords(tx *bolt.Tx, problem func(bucket, id string, err error)) (int, error) {
	n := 0
	v := verifier{s: s, tx: tx}
	for _, step := range []struct {
		bucket []byte
		check  func(k, val []byte) error
	}{
		{bucketCases, v.caseEntry},
		{bucketMessages, v.message},
		{bucketCaseCodes, v.caseCode},
		{bucketReporters, v.reporter},
		{bucketDedup, v.dedupEntry},
		{bucketOfficers, v.officer},
		{bucketOfficerIndex, v.officerIndex},
		{bucketSettings, v.setting},
		{bucketAlerts, v.alert},
		{bucketAlertNumbers, v.alertNumber},
		{bucketCaseAlerts, v.caseAlert},
		{bucketJobs, v.job},
		{bucketAlertPending, v.pending},
		{bucketAccounts, v.account},
		{bucketSessions, v.session},
		{bucketCaseWork, v.caseWork},
		{bucketCaseNotes, v.note},
		{bucketCorrections, v.correction},
		{bucketCalls, v.call},
	} {
		b := tx.Bucket(step.bucket)
		if b == nil {
			problem(string(step.bucket), "", fmt.Errorf("%w: the bucket is missing", ErrTampered))
			continue
		}
		err := b.ForEach(func(k, val []byte) error {
			n++
			if err := step.check(k, val); err != nil {
				problem(string(step.bucket), keyName(k), err)
			}
			return nil
		})
		if err != nil {
			return n, err
		}
	}
	meta, marker := string(bucketMeta), string(metaIntegrity)
	if stored := tx.Bucket(bucketMeta).Get(metaIntegrity); stored == nil {
		problem(meta, marker, fmt.Errorf("%w: the integrity marker is missing", ErrTampered))
	} else if state, err := s.checkValue(bucketMeta, metaIntegrity, stored); err != nil {
		problem(meta, marker, err)
	} else if string(state) != integrityBound {
		problem(meta, marker, fmt.Errorf("the migration to schema %d did not finish (it resumes at the next start)", SchemaVersion))
	}
	return n, nil
}

// verifier holds one VerifyRecords pass. Each check returns the record's
// first problem.
type verifier struct {
	s  *Store
	tx *bolt.Tx
}

// caseEntry checks a case record (tag, sealed number) or an index entry
// (the message opens as a message of that case).
func (v verifier) caseEntry(k, val []byte) error {
	caseID, msgID, isIndex := bytes.Cut(k, []byte("/"))
	if isIndex {
		var m messageRecord
		if err := getJSON(v.tx.Bucket(bucketMessages), msgID, &m); err != nil {
			return fmt.Errorf("%w: the case indexes message %s, which does not exist", ErrTampered, keyName(msgID))
		}
		_, err := v.s.openMessage(string(caseID), msgID, m)
		return err
	}
	var c caseRecord
	if err := v.s.getTagged(v.tx.Bucket(bucketCases), bucketCases, k, &c); err != nil {
		return err
	}
	if c.ID != string(k) {
		return fmt.Errorf("%w: the case record names itself %s", ErrTampered, c.ID)
	}
	var sec caseSecret
	return v.s.open(bucketCases, c.ID, c.Sealed, &sec)
}

// message checks that a message is bound and indexed by the case it was
// written for (CaseMessages opened it through that index above).
func (v verifier) message(k, val []byte) error {
	var m messageRecord
	if err := json.Unmarshal(val, &m); err != nil {
		return err
	}
	if m.Bound != messageBound {
		return fmt.Errorf("%w: a message not bound to its case (schema 1) in a migrated file", ErrTampered)
	}
	if !hasKey(v.tx.Bucket(bucketCases), messageKey(m.CaseID, string(k))) {
		return fmt.Errorf("%w: case %s, which the message was written for, does not index it", ErrTampered, m.CaseID)
	}
	return nil
}

func (v verifier) caseCode(k, val []byte) error {
	var c caseRecord
	if err := v.s.getTagged(v.tx.Bucket(bucketCases), bucketCases, val, &c); err != nil {
		return err
	}
	if c.Code != string(k) {
		return fmt.Errorf("%w: points at case %s, whose code is %s", ErrTampered, c.ID, c.Code)
	}
	return nil
}

func (v verifier) reporter(k, val []byte) error {
	id, err := v.s.checkValue(bucketReporters, k, val)
	if err != nil {
		return err
	}
	return v.s.getTagged(v.tx.Bucket(bucketCases), bucketCases, id, &caseRecord{})
}

func (v verifier) dedupEntry(k, val []byte) error {
	if len(k) != 8+len(crypto.IndexHash{}) {
		return fmt.Errorf("dedup log key of %d bytes", len(k))
	}
	var d dedupRecord
	if err := json.Unmarshal(val, &d); err != nil {
		return err
	}
	if d.Command {
		return nil // an officer's command: no case to check against
	}
	if !hasKey(v.tx.Bucket(bucketCases), messageKey(d.CaseID, d.MessageID)) {
		return fmt.Errorf("%w: names message %s of case %s, which the case does not hold", ErrTampered, d.MessageID, d.CaseID)
	}
	return nil
}

func (v verifier) officer(k, val []byte) error {
	var rec officerRecord
	if err := v.s.getTagged(v.tx.Bucket(bucketOfficers), bucketOfficers, k, &rec); err != nil {
		return err
	}
	if rec.ID != string(k) {
		return fmt.Errorf("%w: the officer record names itself %s", ErrTampered, rec.ID)
	}
	_, err := v.s.openOfficer(rec)
	return err
}

func (v verifier) officerIndex(k, val []byte) error {
	id, err := v.s.checkValue(bucketOfficerIndex, k, val)
	if err != nil {
		return err
	}
	if v.tx.Bucket(bucketOfficers).Get(id) == nil {
		return fmt.Errorf("points at officer %s, who does not exist", id)
	}
	return nil
}

func (v verifier) setting(k, val []byte) error {
	_, err := v.s.checkValue(bucketSettings, k, val)
	return err
}

func (v verifier) alert(k, val []byte) error {
	var a hotline.Alert
	if err := v.s.getTagged(v.tx.Bucket(bucketAlerts), bucketAlerts, k, &a); err != nil {
		return err
	}
	if a.ID != string(k) {
		return fmt.Errorf("%w: the alert record names itself %s", ErrTampered, a.ID)
	}
	return nil
}

func (v verifier) alertNumber(k, val []byte) error {
	t := &Tx{s: v.s, tx: v.tx}
	a, err := t.Alert(string(val))
	if err == nil && fmt.Sprint(a.Number) != string(k) {
		err = fmt.Errorf("%w: points at alert %s, whose number is %d", ErrTampered, a.ID, a.Number)
	}
	return err
}

func (v verifier) caseAlert(k, val []byte) error {
	_, _, err := (&Tx{s: v.s, tx: v.tx}).OpenAlertForCase(string(k))
	return err
}

func (v verifier) job(k, val []byte) error {
	var rec jobRecord
	if err := v.s.getTagged(v.tx.Bucket(bucketJobs), bucketJobs, k, &rec); err != nil {
		return err
	}
	if rec.ID != string(k) {
		return fmt.Errorf("%w: the job record names itself %s", ErrTampered, rec.ID)
	}
	if rec.SealedSID != nil {
		var sid string
		return v.s.open(bucketJobs, rec.ID+"/sid", rec.SealedSID, &sid)
	}
	return nil
}

func (v verifier) pending(k, val []byte) error {
	return v.s.checkTag(bucketAlertPending, k, val)
}

func (v verifier) account(k, val []byte) error {
	var rec accountRecord
	if err := v.s.getTagged(v.tx.Bucket(bucketAccounts), bucketAccounts, k, &rec); err != nil {
		return err
	}
	if rec.OfficerID != string(k) {
		return fmt.Errorf("%w: the account record names officer %s", ErrTampered, rec.OfficerID)
	}
	var sec accountSecret
	return v.s.open(bucketAccounts, rec.OfficerID, rec.Sealed, &sec)
}

func (v verifier) session(k, val []byte) error {
	return v.s.checkTag(bucketSessions, k, val)
}

func (v verifier) caseWork(k, val []byte) error {
	var rec workRecord
	if err := v.s.getTagged(v.tx.Bucket(bucketCaseWork), bucketCaseWork, k, &rec); err != nil {
		return err
	}
	if rec.Sealed == nil {
		return nil
	}
	var sec workSecret
	return v.s.open(bucketCaseWork, string(k), rec.Sealed, &sec)
}

func (v verifier) note(k, val []byte) error {
	var rec noteRecord
	if err := v.s.getTagged(v.tx.Bucket(bucketCaseNotes), bucketCaseNotes, k, &rec); err != nil {
		return err
	}
	var sec noteSecret
	return v.s.open(bucketCaseNotes, string(k), rec.Sealed, &sec)
}
