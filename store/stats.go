package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hotline-az/hotline"
)

// ChannelStats counts one channel's cases and messages.
type ChannelStats struct {
	Cases    int `json:"cases"`
	Messages int `json:"messages"`
}

// Stats are counts read from plaintext metadata only: computing them needs
// no key and opens nothing sealed.
type Stats struct {
	Cases     int                     `json:"cases"`
	Messages  int                     `json:"messages"`
	OpenCases int                     `json:"open_cases"`
	P1        int                     `json:"p1"`
	P2        int                     `json:"p2"`
	P3        int                     `json:"p3"`
	ByChannel map[string]ChannelStats `json:"by_channel"`
	// Alerts and Jobs count alerts and outbox jobs (SMS and calls) by
	// state; MediaJobs the recording downloads and SMS redactions at
	// Twilio, Recordings the voicemails.
	Alerts     map[string]int `json:"alerts"`
	Jobs       map[string]int `json:"outbox"`
	MediaJobs  map[string]int `json:"media_jobs"`
	Recordings map[string]int `json:"recordings"`
	// AlertsPending counts cases whose alert failed to open and is being
	// retried by the alert worker (should be 0).
	AlertsPending int `json:"alerts_pending"`
	// Corrections counts officers' changes of a case's priority.
	Corrections CorrectionStats `json:"corrections"`
	Schema      int             `json:"schema_version"`
}

// Stats counts what this store holds.
func (s *Store) Stats() (Stats, error) {
	var st Stats
	err := readSafely(s.db.Path(), func() error {
		return s.db.View(func(tx *bolt.Tx) error {
			var err error
			st, err = countStats(tx)
			return err
		})
	})
	return st, err
}

// ReadStats counts a data directory's contents without a key, opening the
// file read-only. It returns ErrLocked at once when the server holds it.
func ReadStats(dir string) (Stats, error) {
	path := filepath.Join(dir, FileName)
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return Stats{}, fmt.Errorf("no hotline data file at %s (wrong --data directory?)", path)
		}
		return Stats{}, err
	}
	db, err := openReadOnly(path, 500*time.Millisecond, walkOpen)
	if err != nil {
		return Stats{}, err
	}
	defer db.Close()
	var st Stats
	err = readSafely(path, func() error {
		return db.View(func(tx *bolt.Tx) error {
			var err error
			st, err = countStats(tx)
			return err
		})
	})
	return st, err
}

// caseCounted and messageCounted are the fields of caseRecord and
// messageRecord that countStats reads: decoding only them skips decoding
// the sealed envelopes' base64 and allocating their bytes.
type (
	caseCounted struct {
		Channel  string `json:"channel"`
		Priority string `json:"priority"`
		Status   string `json:"status"`
	}
	messageCounted struct {
		Channel string `json:"channel"`
	}
)

func countStats(tx *bolt.Tx) (Stats, error) {
	st := Stats{ByChannel: map[string]ChannelStats{}, Alerts: map[string]int{}, Jobs: map[string]int{},
		MediaJobs: map[string]int{}, Recordings: map[string]int{}}
	if meta := tx.Bucket(bucketMeta); meta != nil {
		if v := meta.Get(metaSchema); len(v) == 8 {
			st.Schema = int(v[7]) | int(v[6])<<8
		}
	}
	cases := tx.Bucket(bucketCases)
	if cases == nil {
		return st, nil
	}
	err := cases.ForEach(func(k, v []byte) error {
		if isIndexKey(k) {
			return nil
		}
		var c caseCounted
		if err := json.Unmarshal(v, &c); err != nil {
			return fmt.Errorf("case record: %w", err)
		}
		st.Cases++
		if c.Status == "open" {
			st.OpenCases++
		}
		switch strings.ToUpper(string(c.Priority)) {
		case "P1":
			st.P1++
		case "P2":
			st.P2++
		case "P3":
			st.P3++
		}
		ch := st.ByChannel[string(c.Channel)]
		ch.Cases++
		st.ByChannel[string(c.Channel)] = ch
		return nil
	})
	if err != nil {
		return st, err
	}
	err = tx.Bucket(bucketMessages).ForEach(func(k, v []byte) error {
		var m messageCounted
		if err := json.Unmarshal(v, &m); err != nil {
			return fmt.Errorf("message record: %w", err)
		}
		st.Messages++
		ch := st.ByChannel[string(m.Channel)]
		ch.Messages++
		st.ByChannel[string(m.Channel)] = ch
		return nil
	})
	if err != nil {
		return st, err
	}
	if b := tx.Bucket(bucketAlertPending); b != nil {
		st.AlertsPending = b.Stats().KeyN
	}
	if err := countStates("alert", tx.Bucket(bucketAlerts), st.Alerts); err != nil {
		return st, err
	}
	if err := countCorrections(tx, &st.Corrections); err != nil {
		return st, err
	}
	if err := countStates("recording", tx.Bucket(bucketRecordings), st.Recordings); err != nil {
		return st, err
	}
	return st, countJobStates(tx.Bucket(bucketJobs), st.Jobs, st.MediaJobs)
}

// countJobStates counts jobs by state, the media jobs apart from the
// outbox's SMS and calls.
func countJobStates(b *bolt.Bucket, outbox, media map[string]int) error {
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, v []byte) error {
		var r struct {
			Kind  hotline.JobKind `json:"kind"`
			State string          `json:"state"`
		}
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("job record: %w", err)
		}
		if r.Kind.MediaJob() {
			media[r.State]++
		} else {
			outbox[r.State]++
		}
		return nil
	})
}

// countStates counts the records of a bucket by their "state" field.
func countStates(name string, b *bolt.Bucket, into map[string]int) error {
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, v []byte) error {
		var r struct {
			State string `json:"state"`
		}
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("%s record: %w", name, err)
		}
		into[r.State]++
		return nil
	})
}
