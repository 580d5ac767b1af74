package console

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/crypto"
	"github.com/hotline-az/hotline/store"
)

// Password bounds for console logins. A long passphrase is encouraged;
// the maximum only stops a pasted file from costing a hash.
const (
	MinPasswordLen = 12
	MaxPasswordLen = 256
)

// cliActor is the actor of audit entries made over the admin socket or
// on the data file directly: whoever may use the socket (mode 0600).
const cliActor = "cli"

// PasswordProblem says what is wrong with a new password, or "".
func PasswordProblem(p string) string {
	switch n := utf8.RuneCountInString(p); {
	case !utf8.ValidString(p):
		return "is not valid UTF-8"
	case n < MinPasswordLen:
		return fmt.Sprintf("must be at least %d characters (a few words make a good one)", MinPasswordLen)
	case n > MaxPasswordLen:
		return fmt.Sprintf("must be at most %d characters", MaxPasswordLen)
	}
	return ""
}

func (a *Admin) officerNamed(tx *store.Tx, name string) (hotline.Officer, error) {
	name = cleanName(name)
	if name == "" {
		return hotline.Officer{}, invalid("NAME: is required")
	}
	o, found, err := tx.OfficerByName(name)
	if err != nil {
		return o, err
	}
	if !found {
		return o, hotline.Errorf(hotline.ENOTFOUND, "no officer named %q (see hotline officers list)", name)
	}
	return o, nil
}

// SetPassword implements AdminService. The hash is made before the
// transaction; every session of the officer ends.
func (a *Admin) SetPassword(ctx context.Context, name, password string) error {
	if p := PasswordProblem(password); p != "" {
		return invalid("password: %s", p)
	}
	hash, err := crypto.HashPassword(password, crypto.DefaultPasswordParams)
	if err != nil {
		return err
	}
	return a.st.Update(ctx, func(tx *store.Tx) error {
		o, err := a.officerNamed(tx, name)
		if err != nil {
			return err
		}
		acct, _, err := tx.Account(o.ID)
		if err != nil {
			return err
		}
		acct.OfficerID, acct.PasswordHash, acct.PasswordSetAt = o.ID, hash, tx.Now()
		if err := tx.PutAccount(acct); err != nil {
			return err
		}
		if _, err := tx.DeleteSessions(o.ID); err != nil {
			return err
		}
		return tx.AppendAudit(a.entry("admin.password_set", o.ID, ""))
	})
}

// ResetTOTP implements AdminService.
func (a *Admin) ResetTOTP(ctx context.Context, name string) error {
	return a.st.Update(ctx, func(tx *store.Tx) error {
		o, err := a.officerNamed(tx, name)
		if err != nil {
			return err
		}
		acct, ok, err := tx.Account(o.ID)
		if err != nil {
			return err
		}
		if !ok {
			return hotline.Errorf(hotline.ENOTFOUND, "%s has no console login yet: set a password first (hotline officers passwd)", o.Name)
		}
		acct.TOTPSecret, acct.PendingTOTP = "", ""
		if err := tx.PutAccount(acct); err != nil {
			return err
		}
		if _, err := tx.DeleteSessions(o.ID); err != nil {
			return err
		}
		return tx.AppendAudit(a.entry("admin.totp_reset", o.ID, ""))
	})
}

// AuditEntryView is an audit entry with the actor's name where known.
type AuditEntryView struct {
	store.AuditEntry
	ActorName string `json:"actor_name,omitempty"`
}

// AuditReport is the outcome of checking the audit chain.
type AuditReport struct {
	Entries  int                  `json:"entries"`
	Problems []store.AuditProblem `json:"problems"`
}

// AuditList implements AdminService.
func (a *Admin) AuditList(ctx context.Context, since time.Time) ([]AuditEntryView, error) {
	entries, err := a.st.Audit(store.AuditFilter{Since: since})
	if err != nil {
		return nil, err
	}
	var names map[string]string
	if err := a.st.View(func(tx *store.Tx) error {
		names, err = officerNames(tx)
		return err
	}); err != nil {
		return nil, err
	}
	out := make([]AuditEntryView, 0, len(entries))
	for _, e := range entries {
		e.At = e.At.In(a.loc)
		out = append(out, AuditEntryView{AuditEntry: e, ActorName: names[e.Actor]})
	}
	return out, nil
}

// AuditVerify implements AdminService.
func (a *Admin) AuditVerify(ctx context.Context) (AuditReport, error) {
	n, problems, err := a.st.VerifyAudit()
	if problems == nil {
		problems = []store.AuditProblem{}
	}
	return AuditReport{Entries: n, Problems: problems}, err
}
