package store

import (
	"context"

	bolt "go.etcd.io/bbolt"

	"github.com/hotline-az/hotline/crypto"
)

// OfficerCommandSeen reports whether an officer's SMS with this MessageSid
// was already acted on. Twilio (or a proxy) may deliver a webhook twice;
// a repeated "a" must not acknowledge the next alert too.
func (s *Store) OfficerCommandSeen(messageSID string) bool {
	rec, ok := s.dedup.lookup(s.keyring.Index(crypto.DomainTwilioSID, messageSID))
	return ok && rec.Command
}

// RecordOfficerCommand durably remembers that the officer's SMS with this
// MessageSid was acted on, in the same append-only log (keyed hash only)
// that deduplicates tips, for DedupWindow.
func (s *Store) RecordOfficerCommand(ctx context.Context, messageSID string) error {
	h := s.keyring.Index(crypto.DomainTwilioSID, messageSID)
	now := s.now()
	return s.update(ctx, func(tx *bolt.Tx) error {
		if _, ok := s.dedup.lookupInTx(h); ok {
			return nil
		}
		return s.dedup.put(tx, now, h, dedupRecord{Command: true})
	})
}
