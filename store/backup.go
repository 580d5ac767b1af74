package store

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

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

// BackupSyncBytes is how much of a backup file is written between
// flushes (BackupWriter).
const BackupSyncBytes = 2 << 20

// BackupWriter wraps f, a backup file being written, so that every
// BackupSyncBytes it is flushed to disk and the writer then pauses
// twice as long as that chunk took. A snapshot written in one go and synced at
// the end leaves hundreds of MiB for the disk to write at once, with
// every intake fsync queued behind them; paced, an intake fsync waits
// for at most one chunk, and the backup takes at most a third of the disk.
// Once ctx ends, writes fail with its error, which ends the snapshot.
func BackupWriter(ctx context.Context, f *os.File) io.Writer {
	return &pacedFile{ctx: ctx, f: f, every: BackupSyncBytes}
}

type pacedFile struct {
	ctx     context.Context
	f       *os.File
	every   int64
	pending int64
	started time.Time
}

func (p *pacedFile) Write(b []byte) (int, error) {
	if err := p.ctx.Err(); err != nil {
		return 0, err
	}
	if p.pending == 0 {
		p.started = time.Now()
	}
	n, err := p.f.Write(b)
	p.pending += int64(n)
	if err == nil && p.pending >= p.every {
		p.pending = 0
		err = p.f.Sync()
		time.Sleep(min(2*time.Since(p.started), time.Second))
	}
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
