package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/hotline-az/hotline"
)

// workRecord is a case's workflow as stored, ending in an integrity tag
// (the state decides what the queue shows).
type workRecord struct {
	State   hotline.WorkState    `json:"state"`
	History []hotline.WorkChange `json:"history"`
	Sealed  []byte               `json:"sealed,omitempty"` // workSecret
}

type workSecret struct {
	Reason string `json:"reason"`
}

// noteRecord is an officer's note as stored, ending in an integrity tag;
// its sealed text is bound to its case and id.
type noteRecord struct {
	ID        string    `json:"id"`
	OfficerID string    `json:"officer_id"`
	At        time.Time `json:"at"`
	Sealed    []byte    `json:"sealed"` // noteSecret
}

type noteSecret struct {
	Text string `json:"text"`
}

// CaseByCode returns a case's metadata (nothing opened) by its code.
func (t *Tx) CaseByCode(code string) (hotline.Case, error) {
	id := t.tx.Bucket(bucketCaseCodes).Get([]byte(strings.ToUpper(code)))
	if id == nil {
		return hotline.Case{}, hotline.Errorf(hotline.ENOTFOUND, "no case with code %s", code)
	}
	return t.CaseByID(string(id))
}

// CaseByID returns a case's metadata (nothing opened).
func (t *Tx) CaseByID(id string) (hotline.Case, error) {
	var c caseRecord
	if err := t.s.getTagged(t.tx.Bucket(bucketCases), bucketCases, []byte(id), &c); err != nil {
		if isNotFound(err) {
			return hotline.Case{}, hotline.Errorf(hotline.ENOTFOUND, "no such case")
		}
		return hotline.Case{}, err
	}
	return c.domain(), nil
}

// ReporterPhone opens a case's reporter number, for the outbox worker
// only: it must never reach a page, a log or an officer.
func (t *Tx) ReporterPhone(caseID string) (string, error) {
	var c caseRecord
	if err := t.s.getTagged(t.tx.Bucket(bucketCases), bucketCases, []byte(caseID), &c); err != nil {
		if isNotFound(err) {
			return "", hotline.Errorf(hotline.ENOTFOUND, "no such case")
		}
		return "", err
	}
	var sec caseSecret
	if err := t.s.open(bucketCases, c.ID, c.Sealed, &sec); err != nil {
		return "", err
	}
	return sec.Phone, nil
}

// MessageBody opens one message's body (the outbox sends replies from it).
// The message must still be indexed under the case it was written for.
func (t *Tx) MessageBody(msgID string) (string, error) {
	var m messageRecord
	if err := getJSON(t.tx.Bucket(bucketMessages), []byte(msgID), &m); err != nil {
		return "", hotline.Errorf(hotline.ENOTFOUND, "no such message")
	}
	if !hasKey(t.tx.Bucket(bucketCases), messageKey(m.CaseID, msgID)) {
		return "", fmt.Errorf("%w: message %s is not indexed by case %s, which it was written for", ErrTampered, msgID, m.CaseID)
	}
	sec, err := t.s.openMessage(m.CaseID, []byte(msgID), m)
	if err != nil {
		return "", err
	}
	return sec.Body, nil
}

// CaseWork returns a case's workflow (state new when nobody touched it).
func (t *Tx) CaseWork(caseID string) (hotline.CaseWork, error) {
	var rec workRecord
	if err := t.s.getTagged(t.tx.Bucket(bucketCaseWork), bucketCaseWork, []byte(caseID), &rec); isNotFound(err) {
		return hotline.CaseWork{State: hotline.WorkNew}, nil
	} else if err != nil {
		return hotline.CaseWork{}, err
	}
	w := hotline.CaseWork{State: rec.State, History: rec.History}
	// A reopened case keeps its last close reason sealed until the next
	// close; it is shown only while the case is closed.
	if rec.Sealed != nil && rec.State == hotline.WorkClosed {
		var sec workSecret
		if err := t.s.open(bucketCaseWork, caseID, rec.Sealed, &sec); err != nil {
			return w, err
		}
		w.Reason = sec.Reason
	}
	return w, nil
}

// CaseWorkStates maps case ids to their workflow state without opening
// anything (for the queue).
func (t *Tx) CaseWorkStates() (map[string]hotline.WorkState, error) {
	out := map[string]hotline.WorkState{}
	err := t.tx.Bucket(bucketCaseWork).ForEach(func(k, v []byte) error {
		if err := t.s.checkTag(bucketCaseWork, k, v); err != nil {
			return err
		}
		var rec workRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return err
		}
		out[string(k)] = rec.State
		return nil
	})
	return out, err
}

// SetCaseState moves a case forward in the workflow. Closing needs a
// reason (sealed) and closes the case: the reporter's next text opens a
// new one. Moving back or to the same state is refused.
func (t *Tx) SetCaseState(caseID string, to hotline.WorkState, officerID, reason string) error {
	if err := t.writable(); err != nil {
		return err
	}
	if to.Rank() < 0 {
		return hotline.Errorf(hotline.EINVALID, "unknown case state %q", to)
	}
	w, err := t.CaseWork(caseID)
	if err != nil {
		return err
	}
	if to.Rank() <= w.State.Rank() {
		return hotline.Errorf(hotline.ECONFLICT, "the case is already %s", w.State)
	}
	reason = strings.TrimSpace(reason)
	if to == hotline.WorkClosed && reason == "" {
		return hotline.Errorf(hotline.EINVALID, "closing a case needs a reason")
	}
	var c caseRecord
	cases := t.tx.Bucket(bucketCases)
	if err := t.s.getTagged(cases, bucketCases, []byte(caseID), &c); isNotFound(err) {
		return hotline.Errorf(hotline.ENOTFOUND, "no such case")
	} else if err != nil {
		return err
	}
	now := t.s.now()
	rec := workRecord{State: to, History: append(w.History, hotline.WorkChange{State: to, OfficerID: officerID, At: now})}
	if to == hotline.WorkClosed {
		sealed, err := t.s.seal(bucketCaseWork, caseID, workSecret{Reason: reason})
		if err != nil {
			return err
		}
		rec.Sealed = sealed
		c.Status = hotline.CaseClosed
		c.UpdatedAt = now
		if err := t.s.putTagged(cases, bucketCases, []byte(caseID), c); err != nil {
			return err
		}
	}
	return t.s.putTagged(t.tx.Bucket(bucketCaseWork), bucketCaseWork, []byte(caseID), rec)
}

// ReopenCase takes a closed case back into work: its state becomes in
// progress (the step is marked as a reopening in the history) and the
// case is open again, so the queue lists it and, if it is still the
// reporter's latest case, the reporter's next text joins it. The reason
// the case was closed stays sealed in the record until the next close.
func (t *Tx) ReopenCase(caseID, officerID string) error {
	if err := t.writable(); err != nil {
		return err
	}
	var rec workRecord
	if err := t.s.getTagged(t.tx.Bucket(bucketCaseWork), bucketCaseWork, []byte(caseID), &rec); isNotFound(err) {
		return hotline.Errorf(hotline.ECONFLICT, "the case is not closed")
	} else if err != nil {
		return err
	}
	if rec.State != hotline.WorkClosed {
		return hotline.Errorf(hotline.ECONFLICT, "the case is %s, not closed", rec.State)
	}
	var c caseRecord
	cases := t.tx.Bucket(bucketCases)
	if err := t.s.getTagged(cases, bucketCases, []byte(caseID), &c); isNotFound(err) {
		return hotline.Errorf(hotline.ENOTFOUND, "no such case")
	} else if err != nil {
		return err
	}
	now := t.s.now()
	c.Status, c.UpdatedAt = hotline.CaseOpen, now
	if err := t.s.putTagged(cases, bucketCases, []byte(caseID), c); err != nil {
		return err
	}
	rec.State = hotline.WorkInProgress
	rec.History = append(rec.History, hotline.WorkChange{State: hotline.WorkInProgress, OfficerID: officerID, At: now, Reopened: true})
	return t.s.putTagged(t.tx.Bucket(bucketCaseWork), bucketCaseWork, []byte(caseID), rec)
}

// AddNote seals an officer's note on a case.
func (t *Tx) AddNote(caseID, officerID, text string) (hotline.Note, error) {
	if err := t.writable(); err != nil {
		return hotline.Note{}, err
	}
	if t.tx.Bucket(bucketCases).Get([]byte(caseID)) == nil {
		return hotline.Note{}, hotline.Errorf(hotline.ENOTFOUND, "no such case")
	}
	now := t.s.now()
	n := hotline.Note{ID: newID(now), CaseID: caseID, OfficerID: officerID, At: now, Text: text}
	sealed, err := t.s.seal(bucketCaseNotes, caseID+"/"+n.ID, noteSecret{Text: text})
	if err != nil {
		return n, err
	}
	key := []byte(caseID + "/" + n.ID)
	return n, t.s.putTagged(t.tx.Bucket(bucketCaseNotes), bucketCaseNotes, key, noteRecord{ID: n.ID, OfficerID: officerID, At: now, Sealed: sealed})
}

// Notes returns a case's notes, oldest first, opened.
func (t *Tx) Notes(caseID string) ([]hotline.Note, error) {
	var out []hotline.Note
	prefix := []byte(caseID + "/")
	c := t.tx.Bucket(bucketCaseNotes).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if err := t.s.checkTag(bucketCaseNotes, k, v); err != nil {
			return nil, err
		}
		var rec noteRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return nil, err
		}
		var sec noteSecret
		if err := t.s.open(bucketCaseNotes, string(k), rec.Sealed, &sec); err != nil {
			return nil, fmt.Errorf("note: %w", err)
		}
		out = append(out, hotline.Note{ID: rec.ID, CaseID: caseID, OfficerID: rec.OfficerID, At: rec.At, Text: sec.Text})
	}
	return out, nil
}

// AddReply stores an officer's reply to the reporter as an outbound
// message of the case (body sealed) and returns its id. The caller
// queues the outbox job that sends it in the same transaction.
func (t *Tx) AddReply(caseID, body string) (string, error) {
	if err := t.writable(); err != nil {
		return "", err
	}
	cases := t.tx.Bucket(bucketCases)
	var c caseRecord
	if err := t.s.getTagged(cases, bucketCases, []byte(caseID), &c); isNotFound(err) {
		return "", hotline.Errorf(hotline.ENOTFOUND, "no such case")
	} else if err != nil {
		return "", err
	}
	now := t.s.now()
	id := newID(now)
	secret, err := json.Marshal(messageSecret{Body: body})
	if err != nil {
		return "", err
	}
	value, err := t.s.sealMessage(c.ID, messageRecord{ID: id, Direction: hotline.Outbound, Channel: hotline.ChannelSMS, At: now, Lang: c.Lang}, secret)
	if err != nil {
		return "", err
	}
	if err := t.tx.Bucket(bucketMessages).Put([]byte(id), value); err != nil {
		return "", err
	}
	if err := cases.Put(messageKey(c.ID, id), nil); err != nil {
		return "", err
	}
	c.Messages++
	return id, t.s.putTagged(cases, bucketCases, []byte(c.ID), c)
}
