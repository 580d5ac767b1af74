package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// maxProblems bounds how many structure problems and failing records a
// check lists; the counts stay exact.
const maxProblems = 1000

// CheckReport is what Check found in a data file.
type CheckReport struct {
	Path string `json:"path"`
	// Bytes is the file's size and Pages its page count (bbolt's high
	// water mark).
	Bytes int64 `json:"bytes"`
	Pages int64 `json:"pages"`
	// Structure lists what is wrong with the file's pages: the read of
	// every key and value, then bbolt's own consistency check (tx.Check).
	Structure []string `json:"structure"`
	// Opened counts sealed records that opened, by bucket.
	Opened map[string]int `json:"opened"`
	// Failed lists records that do not decode or whose sealed part does
	// not open, and FailedCount counts them all.
	Failed      []RecordProblem `json:"failed"`
	FailedCount int             `json:"failed_count"`
	// Stopped is set when reading records had to stop early (a page broke
	// under the read), so some were not checked.
	Stopped string `json:"stopped,omitempty"`
}

// RecordProblem names a record that failed: its bucket, its id (ids are
// plaintext in the file, never a number or a text) and why.
type RecordProblem struct {
	Bucket  string `json:"bucket"`
	ID      string `json:"id"`
	Problem string `json:"problem"`
}

// OK is true when nothing is wrong.
func (r CheckReport) OK() bool {
	return len(r.Structure) == 0 && r.FailedCount == 0 && r.Stopped == ""
}

// OpenedTotal counts every sealed record that opened.
func (r CheckReport) OpenedTotal() int {
	n := 0
	for _, c := range r.Opened {
		n += c
	}
	return n
}

// Check reads the data file in dir read-only and reports what is damaged:
// the file's structure (every key and value read, then bbolt's consistency
// check) and every sealed record (cases, messages, officers, outbox jobs),
// each decoded and opened with the keyring. It writes nothing. It returns
// an error, and no report, only when it cannot check at all: no file, the
// file in use (ErrLocked), or a key that does not open the keyring.
func Check(dir string, key MasterKeySource, opts Options) (CheckReport, error) {
	path := filepath.Join(dir, FileName)
	rep := CheckReport{Path: path, Opened: map[string]int{}}
	info, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return rep, fmt.Errorf("no hotline data file at %s (wrong --data directory?)", path)
		}
		return rep, err
	}
	rep.Bytes = info.Size()
	if opts.LockTimeout == 0 {
		opts.LockTimeout = time.Second
	}
	if info.Size() == 0 {
		rep.Structure = append(rep.Structure, "the file is empty")
		rep.Stopped = "the file's structure is damaged"
		return rep, nil
	}
	// bbolt's read-only open takes the shared lock and reads the meta
	// pages only.
	db, err := openBoltReadOnly(path, info, opts.LockTimeout)
	if errors.Is(err, ErrDamaged) {
		rep.Structure = append(rep.Structure, damageDetail(err))
		rep.Stopped = "bbolt cannot open the file"
		return rep, nil
	}
	if err != nil {
		return rep, err
	}
	defer db.Close()
	_ = db.View(func(tx *bolt.Tx) error {
		rep.Pages = tx.Size() / int64(db.Info().PageSize)
		return nil
	})
	if _, err := walkFile(path, walkAll); err != nil {
		if !errors.Is(err, ErrDamaged) {
			return rep, err
		}
		rep.Structure = append(rep.Structure, damageDetail(err))
		// bbolt trusts its pages; on these it could loop or fault, and
		// records read through them would only repeat the damage.
		rep.Stopped = "the file's structure is damaged"
		return rep, nil
	}
	// bbolt's own check (free pages, references): after the walk above it
	// can no longer loop or fault.
	_ = db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			if len(rep.Structure) < maxProblems {
				rep.Structure = append(rep.Structure, err.Error())
			}
		}
		return nil
	})

	var m fileMeta
	if err := readSafely(path, func() error { return db.View(func(tx *bolt.Tx) error { return m.read(tx) }) }); err != nil {
		rep.Structure = append(rep.Structure, "meta bucket: "+damageDetail(err))
		return rep, nil
	}
	if m.ring == nil {
		rep.Structure = append(rep.Structure, "the file has no keyring")
		return rep, nil
	}
	kr, _, err := openKeyring(key, m, opts)
	if err != nil {
		return rep, err
	}
	s := &Store{db: db, keyring: kr}
	err = readSafely(path, func() error { return db.View(func(tx *bolt.Tx) error { return s.checkRecords(tx, &rep) }) })
	if err != nil {
		rep.Stopped = damageDetail(err)
	}
	return rep, nil
}

// checkRecords opens every sealed value and checks every integrity tag,
// binding and index entry (verifyRecords, the same reader as
// Store.VerifyRecords), and counts by bucket the records that passed.
func (s *Store) checkRecords(tx *bolt.Tx, rep *CheckReport) error {
	failedIn := map[string]int{}
	_, err := s.verifyRecords(tx, func(bucket, id string, err error) {
		rep.FailedCount++
		failedIn[bucket]++
		if len(rep.Failed) < maxProblems {
			rep.Failed = append(rep.Failed, RecordProblem{Bucket: bucket, ID: id, Problem: err.Error()})
		}
	})
	for _, name := range allBuckets {
		b := tx.Bucket(name)
		if b == nil || string(name) == string(bucketMeta) {
			continue
		}
		n := 0
		_ = b.ForEach(func(k, _ []byte) error {
			// The cases bucket also holds its case/message index.
			if string(name) != string(bucketCases) || !isIndexKey(k) {
				n++
			}
			return nil
		})
		if ok := n - failedIn[string(name)]; ok > 0 {
			rep.Opened[string(name)] = ok
		}
	}
	return err
}

// printableID shows a record key as it is when it is printable (ids), as
// hex otherwise.
func printableID(k []byte) string {
	for _, c := range k {
		if c < 0x20 || c > 0x7e {
			return fmt.Sprintf("%x", k)
		}
	}
	return string(k)
}
