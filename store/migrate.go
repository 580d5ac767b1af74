package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/hotline-az/hotline"
)

// metaIntegrity records, under a tag, whether every record of the file
// carries its integrity tag or binding ("bound") or a migration to that
// state is under way ("migrating"). Without it a file that says schema 1
// could be a migrated file whose version was lowered outside hotline to
// have old, unbound records accepted again.
var metaIntegrity = []byte("integrity")

const (
	integrityBound     = "bound"
	integrityMigrating = "migrating"
)

// migrateBatch is how many records one migration transaction rewrites:
// small enough that a crash loses little work, large enough that a big
// file is not one fsync per record.
const migrateBatch = 1000

// migrate brings a schema 1 file to schema 2: every message is re-sealed
// bound to its case and metadata, and every case, officer, alert, outbox
// job, setting and index entry gets its integrity tag. It runs at open
// once the key is proven, in batches; a crash resumes where it stopped.
// A new file is simply marked.
func (s *Store) migrate() error {
	var schema uint64
	var state []byte
	var stateErr error
	empty := true
	err := s.db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if v := meta.Get(metaSchema); len(v) == 8 {
			schema = binary.BigEndian.Uint64(v)
		}
		if v := meta.Get(metaIntegrity); v != nil {
			state, stateErr = s.checkValue(bucketMeta, metaIntegrity, v)
			state = clone(state)
		}
		for _, b := range [][]byte{bucketCases, bucketMessages, bucketOfficers, bucketAlerts, bucketJobs, bucketSettings, bucketReporters} {
			if k, _ := tx.Bucket(b).Cursor().First(); k != nil {
				empty = false
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if stateErr != nil {
		return fmt.Errorf("data file integrity marker: %w", stateErr)
	}
	switch {
	case schema >= 2 && string(state) == integrityBound:
		return nil
	case schema >= 2 && state == nil && empty:
		return s.setIntegrity(integrityBound, 0)
	case schema >= 2:
		return fmt.Errorf("%w: schema %d file without its integrity marker", ErrTampered, schema)
	case string(state) == integrityBound:
		return fmt.Errorf("%w: the schema version was lowered to %d in a file already migrated", ErrTampered, schema)
	}
	resuming := string(state) == integrityMigrating
	s.log.Info().Uint64("from", schema).Int("to", SchemaVersion).Bool("resuming", resuming).
		Msg("migrating the data file: binding messages to their cases and tagging plaintext metadata")
	if !resuming {
		if err := s.setIntegrity(integrityMigrating, 0); err != nil {
			return err
		}
	}
	n, err := s.migrateRecords(resuming)
	if err != nil {
		return fmt.Errorf("migrate the data file to schema %d: %w", SchemaVersion, err)
	}
	if err := s.setIntegrity(integrityBound, SchemaVersion); err != nil {
		return err
	}
	s.log.Info().Int("records", n).Msg("data file migrated")
	return nil
}

// setIntegrity writes the marker and, when schema is not 0, the schema
// version in the same transaction.
func (s *Store) setIntegrity(state string, schema uint64) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if schema != 0 {
			if err := meta.Put(metaSchema, binary.BigEndian.AppendUint64(nil, schema)); err != nil {
				return err
			}
		}
		return meta.Put(metaIntegrity, s.tagValue(bucketMeta, metaIntegrity, []byte(state)))
	})
}

// migrateRecords runs each bucket's rewrite and returns how many records
// it rewrote. Cases and officers go first: on a file that is not resuming,
// an already tagged record there means the file was migrated before and
// its version lowered, and nothing must be rewritten.
func (s *Store) migrateRecords(resuming bool) (int, error) {
	total := 0
	for _, step := range []struct {
		bucket  []byte
		rewrite rewriteFunc
	}{
		{bucketOfficers, tagRecord[officerRecord](s, bucketOfficers, resuming)},
		{bucketCases, s.migrateCaseEntry(resuming)},
		{bucketAlerts, tagRecord[hotline.Alert](s, bucketAlerts, resuming)},
		{bucketJobs, tagRecord[jobRecord](s, bucketJobs, resuming)},
		{bucketSettings, tagOpaque(s, bucketSettings, resuming)},
		{bucketReporters, tagOpaque(s, bucketReporters, resuming)},
		{bucketOfficerIndex, tagOpaque(s, bucketOfficerIndex, resuming)},
		{bucketAccounts, tagRecord[accountRecord](s, bucketAccounts, resuming)},
		{bucketSessions, tagRecord[Session](s, bucketSessions, resuming)},
		{bucketCaseWork, tagRecord[workRecord](s, bucketCaseWork, resuming)},
		{bucketCaseNotes, tagRecord[noteRecord](s, bucketCaseNotes, resuming)},
	} {
		n, err := s.rewriteBucket(step.bucket, step.rewrite)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// migrationWrite is one write a migration step asks for.
type migrationWrite struct{ bucket, key, value []byte }

// rewriteFunc returns the writes that migrate the record k = v (none to
// leave it as it is).
type rewriteFunc func(tx *bolt.Tx, k, v []byte) ([]migrationWrite, error)

// rewriteBucket walks bucket in batches, each one transaction, and returns
// how many writes it made.
func (s *Store) rewriteBucket(bucket []byte, rewrite rewriteFunc) (int, error) {
	var after []byte
	total := 0
	for {
		done := false
		n := 0
		err := s.db.Update(func(tx *bolt.Tx) error {
			var puts []migrationWrite
			cur := tx.Bucket(bucket).Cursor()
			k, v := cur.First()
			if after != nil {
				k, v = cur.Seek(after)
				if bytes.Equal(k, after) {
					k, v = cur.Next()
				}
			}
			seen := 0
			for ; k != nil && seen < migrateBatch; k, v = cur.Next() {
				seen++
				p, err := rewrite(tx, k, v)
				if err != nil {
					return err
				}
				puts = append(puts, p...)
				after = clone(k)
			}
			done = k == nil
			// Writes wait until the walk is over: a cursor must not see
			// the tree change under it.
			for _, p := range puts {
				if err := tx.Bucket(p.bucket).Put(p.key, p.value); err != nil {
					return err
				}
			}
			n = len(puts)
			return nil
		})
		total += n
		if err != nil || done {
			return total, err
		}
	}
}

// tagRecord re-stores a JSON record of type T with its tag.
func tagRecord[T any](s *Store, bucket []byte, resuming bool) rewriteFunc {
	return func(_ *bolt.Tx, k, v []byte) ([]migrationWrite, error) {
		if hasTag(v) {
			return nil, alreadyMigrated(s.checkTag(bucket, k, v), bucket, k, resuming)
		}
		var rec T
		if err := json.Unmarshal(v, &rec); err != nil {
			return nil, fmt.Errorf("%s record %s: %w", bucket, keyName(k), err)
		}
		nv, err := s.tagJSON(bucket, k, rec)
		return []migrationWrite{{bucket, clone(k), nv}}, err
	}
}

// tagOpaque appends a tag to an opaque value (an index entry, a setting).
// A value that already passes its tag was migrated: an untagged value
// passes by chance with probability 2^-128.
func tagOpaque(s *Store, bucket []byte, resuming bool) rewriteFunc {
	return func(_ *bolt.Tx, k, v []byte) ([]migrationWrite, error) {
		if _, err := s.checkValue(bucket, k, v); err == nil {
			return nil, alreadyMigrated(nil, bucket, k, resuming)
		}
		return []migrationWrite{{bucket, clone(k), s.tagValue(bucket, k, v)}}, nil
	}
}

// alreadyMigrated decides about a record found in the new format: fine
// when resuming (if its tag holds), tampering otherwise.
func alreadyMigrated(tagErr error, bucket, k []byte, resuming bool) error {
	if !resuming {
		return fmt.Errorf("%w: %s record %s is already in the schema %d format in a file that says it was never migrated (its version was lowered?)",
			ErrTampered, bucket, keyName(k), SchemaVersion)
	}
	return tagErr
}

// migrateCaseEntry tags case records and, for each index entry
// (case id/message id), re-seals the message bound to that case.
func (s *Store) migrateCaseEntry(resuming bool) rewriteFunc {
	tagCase := tagRecord[caseRecord](s, bucketCases, resuming)
	return func(tx *bolt.Tx, k, v []byte) ([]migrationWrite, error) {
		caseID, msgID, isIndex := bytes.Cut(k, []byte("/"))
		if !isIndex {
			return tagCase(tx, k, v)
		}
		msgs := tx.Bucket(bucketMessages)
		raw := msgs.Get(msgID)
		if raw == nil {
			s.log.Error().Str("case", string(caseID)).Str("message", keyName(msgID)).Msg("migration: the case indexes a message that does not exist")
			return nil, nil
		}
		var m messageRecord
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("message record %s: %w", keyName(msgID), err)
		}
		if m.Bound == messageBound {
			if m.CaseID != string(caseID) {
				// Indexed under two cases before the migration: the copy
				// under this case will not open, which CaseMessages reports.
				s.log.Error().Str("message", m.ID).Str("case", string(caseID)).Str("bound_to", m.CaseID).
					Msg("migration: a message is indexed under more than one case; it stays bound to the first")
			}
			return nil, nil
		}
		if m.ID != string(msgID) {
			return nil, fmt.Errorf("%w: the message record under %s names itself %s", ErrTampered, keyName(msgID), m.ID)
		}
		secret, err := s.keyring.Open(string(bucketMessages), m.ID, m.Sealed)
		if err != nil {
			return nil, fmt.Errorf("open schema 1 message %s: %w", m.ID, err)
		}
		nv, err := s.sealMessage(string(caseID), m, secret)
		return []migrationWrite{{bucketMessages, clone(msgID), nv}}, err
	}
}
