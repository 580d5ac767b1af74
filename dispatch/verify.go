package dispatch

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/store"
)

// VerifyTTL is how long an officer has to text back a new number's code.
const VerifyTTL = 24 * time.Hour

// NewVerifyCode returns a random six-digit code.
func NewVerifyCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return fmt.Sprintf("%06d", n.Int64())
}

// VerifyText is the SMS that carries a verification code.
func VerifyText(code string) string {
	return "Hotline: to receive alerts on this phone, reply " + code + ". If you did not expect this, ignore it."
}

// QueueVerification puts the SMS with o's code to o's pending number in
// the outbox, in tx; the worker sends it (at once if it runs here, when
// the server starts otherwise).
func QueueVerification(tx *store.Tx, o hotline.Officer) error {
	if o.PendingPhone == "" || o.VerifyCode == "" {
		return hotline.Errorf(hotline.EINVALID, "no number waiting for verification")
	}
	j := hotline.Job{Kind: hotline.JobVerifySMS, OfficerID: o.ID, State: hotline.JobPending}
	return tx.PutJob(&j)
}

// startVerify marks a verification job sending and fills in the pending
// number and text; a code that was used or replaced since is skipped.
func startVerify(tx *store.Tx, j hotline.Job, job *hotline.Job, to, body *string) error {
	o, err := tx.Officer(j.OfficerID)
	if err != nil || o.PendingPhone == "" || !tx.Now().Before(o.VerifyExpires) {
		j.State, j.LastError = hotline.JobCancelled, "no number waiting for verification"
		*job = j
		return tx.PutJob(&j)
	}
	j.State = hotline.JobSending
	j.Tries++
	if j.FirstTryAt.IsZero() {
		j.FirstTryAt = tx.Now()
	}
	*job, *to, *body = j, o.PendingPhone, VerifyText(o.VerifyCode)
	return tx.PutJob(&j)
}

// handleVerification takes the code texted back from a number waiting
// for verification and makes it the officer's number. Anything else from
// that number is not handled here, and so is received like any text to
// the hotline: an admin may have mistyped the number, and a tip from
// whoever really has it must not be swallowed. pendingNumber is true
// when from is a number waiting for verification; reply is then empty
// unless the text verified it.
func (d *Dispatcher) handleVerification(ctx context.Context, officerID, from, body string) (reply string, pendingNumber bool, err error) {
	// Most texts are commands from a verified number: look before
	// taking a write transaction.
	pending := false
	if err := d.st.View(func(tx *store.Tx) error {
		o, err := tx.Officer(officerID)
		pending = err == nil && o.PendingPhone == from
		return err
	}); err != nil || !pending {
		return "", false, err
	}
	handled := false
	err = d.st.Update(ctx, func(tx *store.Tx) error {
		reply, handled = "", false
		o, err := tx.Officer(officerID)
		if err != nil || o.PendingPhone != from || !tx.Now().Before(o.VerifyExpires) ||
			subtle.ConstantTimeCompare([]byte(strings.TrimSpace(body)), []byte(o.VerifyCode)) != 1 {
			return err
		}
		handled = true
		o.Phone, o.PendingPhone, o.VerifyCode, o.VerifyExpires = o.PendingPhone, "", "", time.Time{}
		if err := tx.UpdateOfficer(o); err != nil {
			return err
		}
		reply = "Hotline: number verified. Alerts now come to this phone."
		return tx.AppendAudit(store.AuditEntry{Actor: o.ID, Action: "officer.phone_verified", Object: o.ID, Via: "sms"})
	})
	if err == nil && handled {
		d.log.Info().Str("officer", officerID).Msg("officer verified a new number")
	}
	return reply, true, err
}
