package store

import (
	"fmt"
	"io"

	bolt "go.etcd.io/bbolt"
)

// WriteSnapshot writes a consistent copy of the whole data file to w, as
// of one read transaction (bbolt Tx.WriteTo): intake goes on writing
// meanwhile. The copy holds what the file holds: sealed records and
// plaintext metadata, the keyring sealed under the master key. It returns
// the bytes written.
func (s *Store) WriteSnapshot(w io.Writer) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}

// SealedCounts counts the records with a sealed value, per bucket, from
// their headers only: what a restored copy is compared against.
func (s *Store) SealedCounts() (map[string]int, error) {
	out := map[string]int{}
	err := s.db.View(func(tx *bolt.Tx) error {
		for _, f := range sealedFields {
			b := tx.Bucket(f.bucket)
			if b == nil {
				continue
			}
			if err := b.ForEach(func(k, v []byte) error {
				if env, err := f.envelope(v); err == nil && env != nil {
					out[string(f.bucket)]++
				}
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// OpenEverySealed opens every sealed value in the file with the keyring
// (the whole envelope, body included) and calls problem for each that
// does not open, by bucket and id, never content. It returns how many
// opened. It writes nothing.
func (s *Store) OpenEverySealed(problem func(bucket, id string, err error)) (int, error) {
	opened := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		for _, f := range sealedFields {
			b := tx.Bucket(f.bucket)
			if b == nil {
				continue
			}
			if err := b.ForEach(func(k, v []byte) error {
				env, err := f.envelope(v)
				if err != nil {
					problem(string(f.bucket), keyID(k), fmt.Errorf("record is not readable JSON: %w", err))
					return nil
				}
				if env == nil {
					return nil
				}
				ad, err := f.adKey(k, v)
				if err != nil {
					problem(string(f.bucket), keyID(k), err)
					return nil
				}
				if _, err := s.keyring.Open(string(f.bucket), ad, env); err != nil {
					problem(string(f.bucket), keyID(k), err)
					return nil
				}
				opened++
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	return opened, err
}
