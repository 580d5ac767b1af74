package store

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// ErrDamaged is matched (errors.Is) by every error that reports a damaged
// data file: cut short, a page that does not parse, keys out of order.
var ErrDamaged = errors.New("the data file is damaged")

// damageError names the file and what is wrong with it. Its text is what
// an operator sees; it never carries record contents, only page numbers,
// bucket names and ids.
type damageError struct {
	path   string
	detail string
}

func (e *damageError) Error() string {
	return fmt.Sprintf("the data file %s is damaged (%s): run `hotline check`, restore the last backup", e.path, e.detail)
}

func (e *damageError) Is(target error) bool { return target == ErrDamaged }

// damageDetail is what is wrong, without the file name and the advice:
// for a report that already names the file.
func damageDetail(err error) string {
	var de *damageError
	if errors.As(err, &de) {
		return de.detail
	}
	return err.Error()
}

func damaged(path, format string, args ...any) error {
	return &damageError{path: path, detail: fmt.Sprintf(format, args...)}
}

// readSafely runs fn, which reads the memory-mapped file, in the calling
// goroutine and turns what a damaged page causes there into a damage error:
// bbolt's panics (a page of the wrong type or id) and memory faults (a key
// or value that points past the end of a truncated file), which would
// otherwise crash the process.
func readSafely(path string, fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = damaged(path, "%v", r)
		}
	}()
	return fn()
}

// walkScope says how much of the file a structure check reads.
type walkScope int

const (
	// walkOpen reads what a start reads and what is written to first, in
	// a time that does not grow with the number of tips: every bucket in
	// full except those that grow with each tip, of which only the pages
	// on the way to the first and last keys are read. A damaged page in
	// the middle of those is found by hotline check, and by a write that
	// runs into it, which fails (the committer recovers) instead of
	// crashing the server.
	walkOpen walkScope = iota
	// walkAll reads every page of the file's tree.
	walkAll
)

// lazyBuckets are read only at their ends by a walkOpen check. The SID
// log also grows with tips but is read in full at every start anyway.
var lazyBuckets = [][]byte{bucketMessages, bucketCases, bucketReporters, bucketCaseCodes}

// openReadOnly opens the file at path read-only (a shared lock: it fails
// with ErrLocked while a server holds the file) and checks its structure:
// the file is as long as its pages say, and the buckets that scope names
// can be read in key order. Nothing is written. A damaged file gives an
// error matching ErrDamaged and no *bolt.DB.
func openReadOnly(path string, lockTimeout time.Duration, scope walkScope) (*bolt.DB, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if info.Size() == 0 {
		// bbolt would start a new, empty database in it: a file that
		// existed is never silently replaced.
		return nil, damaged(path, "the file is empty")
	}
	// bbolt's read-only open takes the shared lock (so no writer changes
	// the file under the check) and reads only the meta pages; the tree's
	// pages are checked before bbolt reads them: it trusts them.
	db, err := openBoltReadOnly(path, info, lockTimeout)
	if err != nil {
		return nil, err
	}
	if _, err := walkFile(path, scope); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// openBoltReadOnly is bbolt's read-only open, with its refusals of a
// damaged file (and its panics) reported as damage.
func openBoltReadOnly(path string, info os.FileInfo, lockTimeout time.Duration) (*bolt.DB, error) {
	var db *bolt.DB
	err := readSafely(path, func() error {
		var err error
		db, err = bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: lockTimeout})
		return err
	})
	switch {
	case err == nil:
		return db, nil
	case errors.Is(err, bolterrors.ErrTimeout):
		return nil, ErrLocked
	case errors.Is(err, ErrDamaged):
		return nil, err
	case errors.Is(err, bolterrors.ErrInvalid), errors.Is(err, bolterrors.ErrChecksum), errors.Is(err, bolterrors.ErrVersionMismatch):
		return nil, damaged(path, "%v", err)
	case info.Size() < 2*int64(os.Getpagesize()):
		return nil, damaged(path, "the file is only %d bytes", info.Size())
	}
	return nil, fmt.Errorf("open %s: %w", path, err)
}

// checkLength reports a file shorter than its pages: a copy cut short.
func checkLength(path string, info os.FileInfo, tx *bolt.Tx) error {
	if tx.Size() > info.Size() {
		return damaged(path, "the file is %d bytes but its pages reach %d bytes: it was cut short", info.Size(), tx.Size())
	}
	return nil
}

// printableKey shows a key as text when it is printable ASCII (ids, bucket
// names) and as hex otherwise (keyed hashes), shortened.
func printableKey(k []byte) string {
	if len(k) > 48 {
		k = k[:48]
	}
	for _, c := range k {
		if c < 0x20 || c > 0x7e {
			return fmt.Sprintf("%x", k)
		}
	}
	return fmt.Sprintf("%q", k)
}
