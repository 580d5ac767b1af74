// Package store keeps hotline's data in one bbolt file. It is the only
// package that touches bbolt, and it seals every identifying field (phone
// numbers, message bodies, Twilio SIDs) with the keyring before it is
// written: callers hand it plaintext domain values and never see ciphertext.
package store

import (
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
}

// Store is an open hotline data file. It is safe for concurrent use.
type Store struct {
	db      *bolt.DB
	keyring *crypto.Keyring
	now     func() time.Time
	log     zerolog.Logger
	commits *committer
	dedup   *dedupIndex
	keys    keyOps // rotation state (keys.go)
	// alertFailures counts tips stored with an alert-pending mark.
	alertFailures atomic.Uint64

	closeOnce sync.Once
	closeErr  error
}

// Open opens (creating if needed) the data file in dir, creating every
// bucket and the keyring on first use. It fails fast with ErrLocked when
// another process holds the file.
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
	// The freelist is rebuilt at open instead of written at every commit:
	// fewer pages per fsync on the webhook path, same durability.
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout: opts.LockTimeout, NoFreelistSync: true, FreelistType: bolt.FreelistMapType,
	})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, ErrLocked
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// bbolt keeps the mode of an existing file; a file copied in with a
	// looser mode is tightened rather than trusted.
	if err := os.Chmod(path, 0o600); err != nil {
		db.Close()
		return nil, fmt.Errorf("chmod %s: %w", path, err)
	}
	s := &Store{db: db, now: opts.Now, log: opts.Logger.With().Str("component", "store").Logger()}
	if err := s.init(key, opts); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.migrate(); err != nil {
		db.Close()
		return nil, err
	}
	s.dedup = newDedupIndex()
	var pruned int
	if err := db.Update(func(tx *bolt.Tx) error {
		var err error
		pruned, err = s.dedup.prune(tx, opts.Now().Add(-DedupWindow))
		return err
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("prune dedup log: %w", err)
	}
	if pruned > 0 {
		s.log.Info().Int("entries", pruned).Msg("forgot Twilio SIDs older than the dedup window")
	}
	if err := db.View(s.dedup.load); err != nil {
		db.Close()
		return nil, fmt.Errorf("load dedup log: %w", err)
	}
	s.commits = newCommitter(db, s.dedup.beginAttempt, s.dedup.committedAttempt)
	return s, nil
}

func (s *Store) init(key MasterKeySource, opts Options) error {
	var kdfRaw, ringRaw []byte
	var schema uint64
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return fmt.Errorf("create bucket %s: %w", b, err)
			}
		}
		meta := tx.Bucket(bucketMeta)
		if v := meta.Get(metaSchema); v != nil {
			schema = binary.BigEndian.Uint64(v)
		} else {
			schema = SchemaVersion
			if err := meta.Put(metaSchema, binary.BigEndian.AppendUint64(nil, SchemaVersion)); err != nil {
				return err
			}
		}
		kdfRaw = clone(meta.Get(metaKDF))
		ringRaw = clone(meta.Get(metaKeyring))
		return nil
	})
	if err != nil {
		return err
	}
	if schema > SchemaVersion {
		return fmt.Errorf("data file has schema version %d; this hotline understands up to %d: upgrade the binary", schema, SchemaVersion)
	}

	master, newKDF, err := deriveMaster(key, kdfRaw, opts.KDF)
	if err != nil {
		return err
	}
	s.keys.master = master
	if ringRaw != nil {
		kr, err := crypto.UnmarshalKeyring(master, ringRaw)
		if err != nil {
			if errors.Is(err, crypto.ErrWrongMasterKey) {
				return errors.New("the master key does not open this data file's keyring (wrong HOTLINE_MASTER_KEY, key file or passphrase?)")
			}
			return fmt.Errorf("open keyring: %w", err)
		}
		s.keyring = kr
		return nil
	}
	kr, err := crypto.NewKeyring()
	if err != nil {
		return err
	}
	blob, err := kr.Marshal(master)
	if err != nil {
		return err
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if newKDF != nil {
			if err := meta.Put(metaKDF, newKDF); err != nil {
				return err
			}
		}
		return meta.Put(metaKeyring, blob)
	})
	if err != nil {
		return fmt.Errorf("store new keyring: %w", err)
	}
	s.keyring = kr
	s.log.Info().Uint32("kek_version", kr.Primary()).Msg("created a new keyring")
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
func (s *Store) Ping(ctx context.Context) error {
	now := s.now()
	return s.update(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(metaProbe, binary.BigEndian.AppendUint64(nil, uint64(now.UnixNano())))
	})
}

// update runs fn in a durable transaction shared with other concurrent
// writers (group commit). fn may run more than once if a neighbour in the
// same batch fails, so it must only touch the transaction and its own
// result variables.
func (s *Store) update(ctx context.Context, fn func(*bolt.Tx) error) error {
	return s.commits.do(ctx, fn)
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}
