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
	for _, h := range s.keyring.IndexCandidates(crypto.DomainTwilioSID, messageSID) {
		if rec, ok := s.dedup.lookup(h); ok {
			return rec.Command
		}
	}
	return false
}

// RecordOfficerCommand durably remembers that the officer's SMS with this
// MessageSid was acted on, in the same append-only log (keyed hash only)
// that deduplicates tips, for DedupWindow.
func (s *Store) RecordOfficerCommand(ctx context.Context, messageSID string) error {
	now := s.now()
	return s.update(ctx, func(tx *bolt.Tx) error {
		hashes := s.keyring.IndexCandidates(crypto.DomainTwilioSID, messageSID)
		for _, h := range hashes {
			if _, ok := s.dedup.lookupInTx(h); ok {
				return nil
			}
		}
		return s.dedup.put(tx, now, hashes[0], dedupRecord{Command: true})
	})
}
