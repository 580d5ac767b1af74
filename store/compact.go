package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// CompactReport says what Compact did.
type CompactReport struct {
	Before int64 `json:"before_bytes"`
	After  int64 `json:"after_bytes"`
}

// compactTxSize is how many bytes bbolt.Compact copies per transaction.
const compactTxSize = 64 << 20

// Compact rewrites the data file in dir without its free pages (bbolt's
// Compact into a new file, fsynced, renamed over the old one): after a
// large purge the file would otherwise keep its size for good. It needs
// the server stopped: the file is opened with its exclusive lock, which
// is held until the new file is in place. The key is proved first (the
// store is opened) and the compaction is audited as "store.compact".
func Compact(dir string, key MasterKeySource, opts Options, by AuditEntry) (CompactReport, error) {
	var rep CompactReport
	path := filepath.Join(dir, FileName)
	// Open proves the master key and runs what opening runs (migration,
	// dedup pruning), so the copy is of a current file.
	s, err := Open(dir, key, opts)
	if err != nil {
		return rep, err
	}
	st, err := os.Stat(path)
	if err != nil {
		s.Close()
		return rep, err
	}
	rep.Before = st.Size()
	tmp := path + ".compact"
	os.Remove(tmp) // a leftover of an interrupted run
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: opts.LockTimeout, FreelistType: bolt.FreelistMapType})
	if err != nil {
		s.Close()
		return rep, fmt.Errorf("create %s: %w", tmp, err)
	}
	err = bolt.Compact(dst, s.db, compactTxSize)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// Renamed while the old file's lock is held, so no server can
		// open the old file in between and write into a file that is
		// about to be replaced.
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = syncDir(dir)
	}
	closeErr := s.Close()
	if err != nil {
		os.Remove(tmp)
		return rep, fmt.Errorf("compact: %w", err)
	}
	if closeErr != nil {
		return rep, closeErr
	}
	if st, err := os.Stat(path); err == nil {
		rep.After = st.Size()
	}
	s, err = Open(dir, key, opts)
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) || errors.Is(err, ErrLocked) {
			return rep, fmt.Errorf("the file was compacted but another process opened it before the audit entry could be written: %w", err)
		}
		return rep, fmt.Errorf("open the compacted file: %w", err)
	}
	defer s.Close()
	by.Action, by.Detail = "store.compact", fmt.Sprintf("before=%d after=%d", rep.Before, rep.After)
	return rep, s.Update(context.Background(), func(tx *Tx) error { return tx.AppendAudit(by) })
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
