package store

import (
	"encoding/json"
	"time"

	"github.com/hotline-az/hotline"
)

// domainSession separates session-id hashes from other keyed hashes.
const domainSession = "console-session"

// SessionStage says how far a login got.
type SessionStage string

// Session stages.
const (
	// StagePassword: the password was right; the TOTP code is still due
	// (or TOTP is being enrolled).
	StagePassword SessionStage = "password"
	// StageFull: password and TOTP code were right.
	StageFull SessionStage = "full"
)

// Session is a console login. Its id is the random value in the cookie;
// only a keyed hash of it is stored, so a copy of the data file holds no
// usable session. The record ends in an integrity tag: its officer and
// stage cannot be changed without a key.
type Session struct {
	ID        string       `json:"-"`
	OfficerID string       `json:"officer_id"`
	Stage     SessionStage `json:"stage"`
	CreatedAt time.Time    `json:"created_at"`
	LastSeen  time.Time    `json:"last_seen"`
	// Lang is the interface language picked on the login page, carried
	// from the password step to the code step ("" : none picked).
	Lang hotline.Lang `json:"lang,omitempty"`
}

func (t *Tx) sessionKey(id string) []byte {
	h := t.s.keyring.Index(domainSession, id)
	return h[:]
}

// PutSession writes a session under its id.
func (t *Tx) PutSession(s Session) error {
	if err := t.writable(); err != nil {
		return err
	}
	if s.ID == "" || s.OfficerID == "" {
		return hotline.Errorf(hotline.EINVALID, "session needs an id and an officer")
	}
	return t.s.putTagged(t.tx.Bucket(bucketSessions), bucketSessions, t.sessionKey(s.ID), s)
}

// Session returns the session with this id, if it exists.
func (t *Tx) Session(id string) (Session, bool, error) {
	if id == "" {
		return Session{}, false, nil
	}
	var s Session
	if err := t.s.getTagged(t.tx.Bucket(bucketSessions), bucketSessions, t.sessionKey(id), &s); isNotFound(err) {
		return Session{}, false, nil
	} else if err != nil {
		return Session{}, false, err
	}
	s.ID = id
	return s, true, nil
}

// DeleteSession removes one session (logout).
func (t *Tx) DeleteSession(id string) error {
	if err := t.writable(); err != nil {
		return err
	}
	return t.tx.Bucket(bucketSessions).Delete(t.sessionKey(id))
}

// DeleteSessions removes every session of an officer (password change,
// admin revocation) and returns how many there were.
func (t *Tx) DeleteSessions(officerID string) (int, error) {
	return t.deleteSessionsWhere(func(s Session) bool { return s.OfficerID == officerID })
}

// PruneSessions removes sessions for which expired returns true.
func (t *Tx) PruneSessions(expired func(Session) bool) (int, error) {
	return t.deleteSessionsWhere(expired)
}

func (t *Tx) deleteSessionsWhere(match func(Session) bool) (int, error) {
	if err := t.writable(); err != nil {
		return 0, err
	}
	b := t.tx.Bucket(bucketSessions)
	var keys [][]byte
	err := b.ForEach(func(k, v []byte) error {
		var s Session
		if err := json.Unmarshal(v, &s); err != nil {
			return err
		}
		if match(s) {
			keys = append(keys, clone(k))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}

// SessionCounts maps officer ids to their number of stored sessions.
func (t *Tx) SessionCounts() (map[string]int, error) {
	out := map[string]int{}
	err := t.tx.Bucket(bucketSessions).ForEach(func(k, v []byte) error {
		var s Session
		if err := json.Unmarshal(v, &s); err != nil {
			return err
		}
		out[s.OfficerID]++
		return nil
	})
	return out, err
}
