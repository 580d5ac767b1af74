// Package store keeps hotline's data in one bbolt file. It is the only
// package that touches bbolt, and it seals every identifying field (phone
// numbers, message bodies, Twilio SIDs) with the keyring before it is
// written: callers hand it plaintext domain values and never see ciphertext.
package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/hotline-az/hotline/crypto"
)

// SchemaVersion is the layout this code writes. A file with a newer version
// is refused rather than misread.
const SchemaVersion = 2

// FileName is the bbolt file inside the data directory.
const FileName = "hotline.db"

// Bucket names, all created in one transaction at open.
var (
	bucketMeta         = []byte("meta")
	bucketCases        = []byte("cases") // case id → record; case id/message id → nil (index)
	bucketCaseCodes    = []byte("case_codes")
	bucketMessages     = []byte("messages")
	bucketReporters    = []byte("reporters")
	bucketDedup        = []byte("dedup") // time + keyed hash of a MessageSid → ids (append-only log)
	bucketOfficers     = []byte("officers")
	bucketOfficerIndex = []byte("officer_index") // keyed hashes of phones and names → officer id
	bucketSettings     = []byte("settings")
	bucketAlerts       = []byte("alerts")
	bucketAlertNumbers = []byte("alert_numbers")
	bucketCaseAlerts   = []byte("case_alerts") // case id → its open alert id
	bucketJobs         = []byte("jobs")
	bucketJobQueue     = []byte("job_queue") // next try time + job id → nil, pending jobs only
	bucketTimers       = []byte("timers")    // due time + alert id → nil, open alerts only
	bucketSIDJobs      = []byte("sid_jobs")  // keyed hash of a Twilio SID → job id

	allBuckets = [][]byte{
		bucketMeta, bucketCases, bucketCaseCodes,
		bucketMessages, bucketReporters, bucketDedup,
		bucketOfficers, bucketOfficerIndex, bucketSettings, bucketAlerts, bucketAlertNumbers,
		bucketCaseAlerts, bucketJobs, bucketJobQueue, bucketTimers, bucketSIDJobs,
		bucketAlertPending,
		bucketRecordings, bucketRecordingChunks, bucketCaseRecordings, bucketMediaQueue,
	}
)

// Keys in the meta bucket.
var (
	metaSchema  = []byte("schema_version")
	metaKDF     = []byte("kdf")
	metaKeyring = []byte("keyring")
	metaProbe   = []byte("ready_probe")
)

// ErrLocked means another process (usually the running server) holds the file.
var ErrLocked = errors.New("the data file is in use by another process (is `hotline serve` running on this data directory?)")

// MasterKeySource says where the master key comes from: a key given
// directly, or a passphrase stretched with Argon2id under a salt and cost
// stored in the file (so the same passphrase opens it on every start).
type MasterKeySource struct {
	Key        *crypto.MasterKey
	Passphrase []byte
}

// Options tune Open. The zero value is usable.
type Options struct {
	// Now is the clock; tests inject a fake one.
	Now func() time.Time
	// LockTimeout bounds how long Open waits for another process's lock.
	LockTimeout time.Duration
	// Logger receives operational events; never identifying data.
	Logger zerolog.Logger
	// KDF is used when a passphrase opens a new file; zero means the
	// default cost (tests lower it).
	KDF *crypto.KDFParams
	// MinFreeSpace is the free space, in bytes, below which the store
	// warns in the log that the data directory's file system is filling
	// up. Zero turns the check off.
	MinFreeSpace uint64
	// SpaceCheckInterval is how often free space is checked; zero means
	// every minute.
	SpaceCheckInterval time.Duration

	// layout is changed only by the disk benchmark.
	layout layout
}

// Store is an open hotline data file. It is safe for concurrent use.
type Store struct {
	db      *bolt.DB
	dir     string
	keyring *crypto.Keyring
	now     func() time.Time
	log     zerolog.Logger
	commits *committer
	dedup   *dedupIndex
	keys    keyOps // rotation state (keys.go)
	health  *writeHealth
	space   *spaceWatch
	// alertFailures counts tips stored with an alert-pending mark.
	alertFailures atomic.Uint64

	closeOnce sync.Once
	closeErr  error
}

// Open opens (creating if needed) the data file in dir, creating every
// bucket and the keyring on first use. It fails fast with ErrLocked when
// another process holds the file.
//
// An existing file is first opened read-only: its structure is checked
// (a damaged file gives an error matching ErrDamaged) and the master key
// must open its keyring before the file is opened for writing, so a wrong
// key or a damaged file leaves every byte of it as it was.
func Open(dir string, key MasterKeySource, opts Options) (*Store, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.LockTimeout == 0 {
		opts.LockTimeout = 2 * time.Second
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w", dir, err)
	}
	path := filepath.Join(dir, FileName)
	var proof *keyProof
	if _, err := os.Stat(path); err == nil {
		if proof, err = vetExisting(path, key, opts); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	// The free-page list is written at every commit (one more page per
	// fsync) rather than rebuilt from every page of the file at open and
	// after every failed commit: the README has the measurements.
	// bbolt reads the free-page list here and panics if its page is
	// damaged; it writes nothing before that.
	var db *bolt.DB
	err := readSafely(path, func() error {
		var err error
		db, err = bolt.Open(path, 0o600, &bolt.Options{
			Timeout: opts.LockTimeout, NoFreelistSync: opts.layout.noFreelistSync, FreelistType: bolt.FreelistMapType,
		})
		return err
	})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, ErrLocked
		}
		if errors.Is(err, ErrDamaged) {
			return nil, err
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// bbolt keeps the mode of an existing file; a file copied in with a
	// looser mode is tightened rather than trusted.
	if err := os.Chmod(path, 0o600); err != nil {
		db.Close()
		return nil, fmt.Errorf("chmod %s: %w", path, err)
	}
	log := opts.Logger.With().Str("component", "store").Logger()
	s := &Store{db: db, dir: dir, now: opts.Now, log: log, health: &writeHealth{log: log, now: opts.Now}}
	s.dedup = newDedupIndex()
	// A damaged page that the read-only check could not see (it reads
	// structure, not values) may still make bbolt panic here.
	err = readSafely(path, func() error {
		if err := s.init(key, proof, opts); err != nil {
			return err
		}
		if err := s.migrate(); err != nil {
			return err
		}
		return s.loadDedup(opts.Now())
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	s.commits = newCommitter(db, opts.layout.fill, s.health, s.dedup.beginAttempt, s.dedup.committedAttempt)
	s.space = startSpaceWatch(dir, opts, log)
	return s, nil
}

// keyProof is what the read-only pass over an existing file learned: the
// keyring, opened with the master key.
type keyProof struct {
	ringRaw []byte
	keyring *crypto.Keyring
	master  crypto.MasterKey
}

// vetExisting opens an existing file read-only, checks its structure and
// schema version and opens its keyring with the master key. It returns a
// nil proof for a file that has no keyring yet.
func vetExisting(path string, key MasterKeySource, opts Options) (*keyProof, error) {
	db, err := openReadOnly(path, opts.LockTimeout, walkOpen)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	var m fileMeta
	if err := readSafely(path, func() error { return db.View(func(tx *bolt.Tx) error { return m.read(tx) }) }); err != nil {
		return nil, err
	}
	if err := m.checkSchema(); err != nil {
		return nil, err
	}
	if m.ring == nil {
		return nil, nil
	}
	kr, master, err := openKeyring(key, m, opts)
	if err != nil {
		return nil, err
	}
	return &keyProof{ringRaw: m.ring, keyring: kr, master: master}, nil
}

// fileMeta is what the meta bucket says about the file.
type fileMeta struct {
	hasSchema bool
	schema    uint64
	kdf, ring []byte
}

func (m *fileMeta) read(tx *bolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return nil
	}
	if v := meta.Get(metaSchema); v != nil {
		if len(v) != 8 {
			return fmt.Errorf("schema version of %d bytes, want 8", len(v))
		}
		m.hasSchema, m.schema = true, binary.BigEndian.Uint64(v)
	}
	m.kdf = clone(meta.Get(metaKDF))
	m.ring = clone(meta.Get(metaKeyring))
	return nil
}

func (m fileMeta) checkSchema() error {
	if m.schema > SchemaVersion {
		return fmt.Errorf("data file has schema version %d; this hotline understands up to %d: upgrade the binary", m.schema, SchemaVersion)
	}
	return nil
}

// openKeyring derives the master key and opens the stored keyring with it.
func openKeyring(key MasterKeySource, m fileMeta, opts Options) (*crypto.Keyring, crypto.MasterKey, error) {
	master, _, err := deriveMaster(key, m.kdf, opts.KDF)
	if err != nil {
		return nil, crypto.MasterKey{}, err
	}
	kr, err := crypto.UnmarshalKeyring(master, m.ring)
	if err != nil {
		if errors.Is(err, crypto.ErrWrongMasterKey) {
			return nil, crypto.MasterKey{}, errors.New("the master key does not open this data file's keyring (wrong HOTLINE_MASTER_KEY, key file or passphrase?)")
		}
		return nil, crypto.MasterKey{}, fmt.Errorf("open keyring: %w", err)
	}
	return kr, master, nil
}

// init opens the keyring (reusing the read-only pass's proof) and writes
// only what is missing: buckets, the schema version, a new keyring. A
// complete file gets no write at all.
func (s *Store) init(key MasterKeySource, proof *keyProof, opts Options) error {
	var m fileMeta
	missing := false
	err := s.db.View(func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if tx.Bucket(b) == nil {
				missing = true
			}
		}
		return m.read(tx)
	})
	if err != nil {
		return err
	}
	if err := m.checkSchema(); err != nil {
		return err
	}
	var newKDF, newRing []byte
	switch {
	case m.ring != nil && proof != nil && bytes.Equal(m.ring, proof.ringRaw):
		s.keyring, s.keys.master = proof.keyring, proof.master
	case m.ring != nil:
		// The file changed between the read-only pass and now (or was
		// created in between): prove the key again before any write.
		if s.keyring, s.keys.master, err = openKeyring(key, m, opts); err != nil {
			return err
		}
	default:
		master, kdf, err := deriveMaster(key, m.kdf, opts.KDF)
		if err != nil {
			return err
		}
		kr, err := crypto.NewKeyring()
		if err != nil {
			return err
		}
		if newRing, err = kr.Marshal(master); err != nil {
			return err
		}
		s.keyring, newKDF, s.keys.master = kr, kdf, master
	}
	if !missing && m.hasSchema && newRing == nil {
		return nil
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return fmt.Errorf("create bucket %s: %w", b, err)
			}
		}
		meta := tx.Bucket(bucketMeta)
		if !m.hasSchema {
			if err := meta.Put(metaSchema, binary.BigEndian.AppendUint64(nil, SchemaVersion)); err != nil {
				return err
			}
		}
		if newKDF != nil {
			if err := meta.Put(metaKDF, newKDF); err != nil {
				return err
			}
		}
		if newRing != nil {
			return meta.Put(metaKeyring, newRing)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("initialise data file: %w", err)
	}
	if newRing != nil {
		s.log.Info().Uint32("kek_version", s.keyring.Primary()).Msg("created a new keyring")
	}
	return nil
}

// loadDedup forgets SIDs older than the dedup window (a write only when
// there is something to forget) and loads the rest into memory.
func (s *Store) loadDedup(now time.Time) error {
	cutoff := now.Add(-DedupWindow)
	stale := false
	if err := s.db.View(func(tx *bolt.Tx) error {
		k, _ := tx.Bucket(bucketDedup).Cursor().First()
		stale = k != nil && bytes.Compare(k, timeKey(cutoff, "")) < 0
		return nil
	}); err != nil {
		return err
	}
	if stale {
		var pruned int
		if err := s.db.Update(func(tx *bolt.Tx) error {
			var err error
			pruned, err = s.dedup.prune(tx, cutoff)
			return err
		}); err != nil {
			return fmt.Errorf("prune dedup log: %w", err)
		}
		s.log.Info().Int("entries", pruned).Msg("forgot Twilio SIDs older than the dedup window")
	}
	if err := s.db.View(s.dedup.load); err != nil {
		return fmt.Errorf("load dedup log: %w", err)
	}
	return nil
}

// deriveMaster returns the master key and, for a passphrase on a new file,
// the KDF parameters to store beside the keyring.
func deriveMaster(key MasterKeySource, kdfRaw []byte, kdf *crypto.KDFParams) (crypto.MasterKey, []byte, error) {
	switch {
	case key.Key != nil && key.Passphrase != nil:
		return crypto.MasterKey{}, nil, errors.New("give a master key or a passphrase, not both")
	case key.Key != nil:
		if kdfRaw != nil {
			return crypto.MasterKey{}, nil, errors.New("this data file was created with a passphrase: set HOTLINE_MASTER_PASSPHRASE(_FILE), not a master key")
		}
		return *key.Key, nil, nil
	case key.Passphrase != nil:
		var params crypto.KDFParams
		var stored []byte
		if kdfRaw != nil {
			if err := json.Unmarshal(kdfRaw, &params); err != nil {
				return crypto.MasterKey{}, nil, fmt.Errorf("read stored passphrase parameters: %w", err)
			}
		} else {
			if kdf != nil {
				params = *kdf
			} else {
				p, err := crypto.NewKDFParams()
				if err != nil {
					return crypto.MasterKey{}, nil, err
				}
				params = p
			}
			b, err := json.Marshal(params)
			if err != nil {
				return crypto.MasterKey{}, nil, err
			}
			stored = b
		}
		m, err := crypto.DeriveMasterKey(key.Passphrase, params)
		return m, stored, err
	}
	return crypto.MasterKey{}, nil, errors.New("no master key given")
}

// Close waits for pending writes and closes the file. Calling it again
// does nothing.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.space.stop()
		s.commits.close()
		s.closeErr = s.db.Close()
	})
	return s.closeErr
}

// Keyring gives the store's keyring to code that must compute lookup hashes
// the same way (never key bytes: the keyring does not expose them).
func (s *Store) Keyring() *crypto.Keyring { return s.keyring }

// CommitStats reports how many durable transactions the store committed
// and how many write requests they carried (group commit batching).
func (s *Store) CommitStats() (commits, writes uint64) {
	return s.commits.commits.Load(), s.commits.writes.Load()
}

// Ping checks that the file is open and writable with one durable write.
// Its success does not end a failed-write state (see Healthy): on a full
// disk its small write may still fit while tips do not.
func (s *Store) Ping(ctx context.Context) error {
	now := s.now()
	return s.commits.do(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(metaProbe, binary.BigEndian.AppendUint64(nil, uint64(now.UnixNano())))
	}, true)
}

// update runs fn in a durable transaction shared with other concurrent
// writers (group commit). fn may run more than once if a neighbour in the
// same batch fails, so it must only touch the transaction and its own
// result variables.
func (s *Store) update(ctx context.Context, fn func(*bolt.Tx) error) error {
	return s.commits.do(ctx, fn, false)
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}
