package store

import (
	"encoding/json"
	"time"

	"github.com/hotline-az/hotline"
)

// Buckets of the officer console, created at open with the others.
var (
	bucketAccounts  = []byte("accounts")   // officer id → accountRecord
	bucketSessions  = []byte("sessions")   // keyed hash of a session id → sessionRecord
	bucketAudit     = []byte("audit")      // sequence (8 bytes) → auditRecord; "head" → last seq and hash
	bucketCaseNotes = []byte("case_notes") // case id/note id → noteRecord
	bucketCaseWork  = []byte("case_work")  // case id → workRecord (the officers' workflow)
)

func init() {
	allBuckets = append(allBuckets, bucketAccounts, bucketSessions, bucketAudit, bucketCaseNotes, bucketCaseWork)
}

// Account is an officer's console login. PasswordHash, TOTPSecret and
// PendingTOTP are sealed at rest and never logged.
type Account struct {
	OfficerID string
	// PasswordHash is an Argon2id hash in PHC form (crypto.HashPassword).
	PasswordHash  string
	PasswordSetAt time.Time
	// TOTPSecret is the base32 TOTP secret once enrolled, "" before.
	TOTPSecret string
	// PendingTOTP is the secret shown during enrolment, until the officer
	// proves they stored it by typing a code.
	PendingTOTP string
	// TOTPLastStep is the time step (Unix time / 30 s) of the last code
	// accepted: a code is good once, so one seen over a shoulder or
	// replayed from a proxy log cannot log in again within its window.
	TOTPLastStep int64
	// Lang is the officer's interface language.
	Lang hotline.Lang
}

// accountRecord is a console account as stored, ending in an integrity
// tag (whether TOTP is enrolled must not be changed without a key).
type accountRecord struct {
	OfficerID     string       `json:"officer_id"`
	PasswordSetAt time.Time    `json:"password_set_at"`
	TOTPEnrolled  bool         `json:"totp_enrolled"`
	Lang          hotline.Lang `json:"lang,omitempty"`
	Sealed        []byte       `json:"sealed"` // accountSecret
}

type accountSecret struct {
	PasswordHash string `json:"password_hash"`
	TOTPSecret   string `json:"totp_secret,omitempty"`
	PendingTOTP  string `json:"pending_totp,omitempty"`
	TOTPLastStep int64  `json:"totp_last_step,omitempty"`
}

// Account returns an officer's console account, if one was set up.
func (t *Tx) Account(officerID string) (Account, bool, error) {
	var rec accountRecord
	if err := t.s.getTagged(t.tx.Bucket(bucketAccounts), bucketAccounts, []byte(officerID), &rec); isNotFound(err) {
		return Account{}, false, nil
	} else if err != nil {
		return Account{}, false, err
	}
	var sec accountSecret
	if err := t.s.open(bucketAccounts, rec.OfficerID, rec.Sealed, &sec); err != nil {
		return Account{}, false, err
	}
	return Account{
		OfficerID: rec.OfficerID, PasswordHash: sec.PasswordHash, PasswordSetAt: rec.PasswordSetAt,
		TOTPSecret: sec.TOTPSecret, PendingTOTP: sec.PendingTOTP, TOTPLastStep: sec.TOTPLastStep, Lang: rec.Lang,
	}, true, nil
}

// PutAccount writes an officer's account, sealing its secrets. The
// officer must exist.
func (t *Tx) PutAccount(a Account) error {
	if err := t.writable(); err != nil {
		return err
	}
	if t.tx.Bucket(bucketOfficers).Get([]byte(a.OfficerID)) == nil {
		return hotline.Errorf(hotline.ENOTFOUND, "no such officer")
	}
	sealed, err := t.s.seal(bucketAccounts, a.OfficerID, accountSecret{
		PasswordHash: a.PasswordHash, TOTPSecret: a.TOTPSecret, PendingTOTP: a.PendingTOTP, TOTPLastStep: a.TOTPLastStep,
	})
	if err != nil {
		return err
	}
	return t.s.putTagged(t.tx.Bucket(bucketAccounts), bucketAccounts, []byte(a.OfficerID), accountRecord{
		OfficerID: a.OfficerID, PasswordSetAt: a.PasswordSetAt, TOTPEnrolled: a.TOTPSecret != "",
		Lang: a.Lang, Sealed: sealed,
	})
}

// DeleteAccount removes an officer's console account (when the officer
// is removed).
func (t *Tx) DeleteAccount(officerID string) error {
	if err := t.writable(); err != nil {
		return err
	}
	return t.tx.Bucket(bucketAccounts).Delete([]byte(officerID))
}

// AccountStatus says, without opening anything sealed, whether an officer
// has a password and TOTP.
type AccountStatus struct {
	HasPassword  bool
	TOTPEnrolled bool
	Lang         hotline.Lang
}

// AccountStatuses maps officer ids to their account status.
func (t *Tx) AccountStatuses() (map[string]AccountStatus, error) {
	out := map[string]AccountStatus{}
	err := t.tx.Bucket(bucketAccounts).ForEach(func(k, v []byte) error {
		if err := t.s.checkTag(bucketAccounts, k, v); err != nil {
			return err
		}
		var rec accountRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return err
		}
		out[rec.OfficerID] = AccountStatus{HasPassword: true, TOTPEnrolled: rec.TOTPEnrolled, Lang: rec.Lang}
		return nil
	})
	return out, err
}
