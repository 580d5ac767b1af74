package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/hotline-az/hotline"
)

type workRecord struct {
	State   hotline.WorkState    `json:"state"`
	History []hotline.WorkChange `json:"history"`
	Sealed  []byte               `json:"sealed,omitempty"` // workSecret
}

type workSecret struct {
	Reason string `json:"reason"`
}

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
	if err := getJSON(t.tx.Bucket(bucketCases), []byte(id), &c); err != nil {
		return hotline.Case{}, hotline.Errorf(hotline.ENOTFOUND, "no such case")
	}
	return c.domain(), nil
}

// ReporterPhone opens a case's reporter number, for the outbox worker
// only: it must never reach a page, a log or an officer.
func (t *Tx) ReporterPhone(caseID string) (string, error) {
	var c caseRecord
	if err := getJSON(t.tx.Bucket(bucketCases), []byte(caseID), &c); err != nil {
		return "", hotline.Errorf(hotline.ENOTFOUND, "no such case")
	}
	var sec caseSecret
	if err := t.s.open(bucketCases, c.ID, c.Sealed, &sec); err != nil {
		return "", err
	}
	return sec.Phone, nil
}

// MessageBody opens one message's body (the outbox sends replies from it).
func (t *Tx) MessageBody(msgID string) (string, error) {
	var m messageRecord
	if err := getJSON(t.tx.Bucket(bucketMessages), []byte(msgID), &m); err != nil {
		return "", hotline.Errorf(hotline.ENOTFOUND, "no such message")
	}
	var sec messageSecret
	if err := t.s.open(bucketMessages, m.ID, m.Sealed, &sec); err != nil {
		return "", err
	}
	return sec.Body, nil
}

// CaseWork returns a case's workflow (state new when nobody touched it).
func (t *Tx) CaseWork(caseID string) (hotline.CaseWork, error) {
	v := t.tx.Bucket(bucketCaseWork).Get([]byte(caseID))
	if v == nil {
		return hotline.CaseWork{State: hotline.WorkNew}, nil
	}
	var rec workRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return hotline.CaseWork{}, err
	}
	w := hotline.CaseWork{State: rec.State, History: rec.History}
	if rec.Sealed != nil {
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
	if err := getJSON(cases, []byte(caseID), &c); err != nil {
		return hotline.Errorf(hotline.ENOTFOUND, "no such case")
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
		if err := putJSON(cases, []byte(caseID), c); err != nil {
			return err
		}
	}
	return putJSON(t.tx.Bucket(bucketCaseWork), []byte(caseID), rec)
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
	return n, putJSON(t.tx.Bucket(bucketCaseNotes), []byte(caseID+"/"+n.ID), noteRecord{ID: n.ID, OfficerID: officerID, At: now, Sealed: sealed})
}

// Notes returns a case's notes, oldest first, opened.
func (t *Tx) Notes(caseID string) ([]hotline.Note, error) {
	var out []hotline.Note
	prefix := []byte(caseID + "/")
	c := t.tx.Bucket(bucketCaseNotes).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
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
	if err := getJSON(cases, []byte(caseID), &c); err != nil {
		return "", hotline.Errorf(hotline.ENOTFOUND, "no such case")
	}
	now := t.s.now()
	id := newID(now)
	sealed, err := t.s.seal(bucketMessages, id, messageSecret{Body: body})
	if err != nil {
		return "", err
	}
	rec := messageRecord{ID: id, Direction: hotline.Outbound, Channel: hotline.ChannelSMS, At: now, Lang: c.Lang, Sealed: sealed}
	if err := putJSON(t.tx.Bucket(bucketMessages), []byte(id), rec); err != nil {
		return "", err
	}
	if err := cases.Put(messageKey(c.ID, id), nil); err != nil {
		return "", err
	}
	c.Messages++
	return id, putJSON(cases, []byte(c.ID), c)
}
