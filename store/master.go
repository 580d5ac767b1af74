package store

import (
	"context"
	"errors"

	bolt "go.etcd.io/bbolt"
)

// ChangeMaster seals the keyring under a new master key (a key, or a
// passphrase stretched with fresh Argon2id parameters, kdf or the default
// cost) in one durable transaction with its audit entry
// ("keys.change_master"). No record is touched: only the keyring blob and
// the passphrase parameters change. From then on only the new master key
// opens the file, so the server must be restarted with it.
func (s *Store) ChangeMaster(ctx context.Context, next MasterKeySource, opts Options, by AuditEntry) error {
	if next.Key == nil && next.Passphrase == nil {
		return errors.New("no new master key given")
	}
	s.keys.mu.Lock()
	defer s.keys.mu.Unlock()
	master, newKDF, err := deriveMaster(next, nil, opts.KDF)
	if err != nil {
		return err
	}
	blob, err := s.keyring.Marshal(master)
	if err != nil {
		return err
	}
	by.Action = "keys.change_master"
	if next.Passphrase != nil {
		by.Detail = "passphrase"
	} else {
		by.Detail = "key"
	}
	err = s.update(ctx, func(btx *bolt.Tx) error {
		meta := btx.Bucket(bucketMeta)
		if err := meta.Put(metaKeyring, blob); err != nil {
			return err
		}
		if newKDF != nil {
			if err := meta.Put(metaKDF, newKDF); err != nil {
				return err
			}
		} else if err := meta.Delete(metaKDF); err != nil {
			return err
		}
		return (&Tx{s: s, tx: btx}).AppendAudit(by)
	})
	if err != nil {
		return err
	}
	s.keys.master = master
	return nil
}
