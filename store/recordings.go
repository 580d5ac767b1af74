package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hotline-az/hotline"
)

// Buckets of the recording pipeline (created with the others at open).
var (
	bucketRecordings      = []byte("recordings")       // recording id → tagged recordingRecord
	bucketRecordingChunks = []byte("recording_chunks") // recording id/chunk index → sealed chunk
	bucketCaseRecordings  = []byte("case_recordings")  // case id/recording id → nil
	// bucketMediaQueue is the queue of media jobs (next try time + job
	// id → nil): apart from the alert queue, so a backlog of downloads or
	// redactions never stands between an alert and its worker.
	bucketMediaQueue = []byte("media_queue")
)

// RecordingChunkSize is how much audio one sealed chunk holds. A
// recording is never held whole in memory: it is read, sealed and
// written a chunk at a time, and committed every recordingBatchBytes.
const RecordingChunkSize = 64 << 10

// recordingBatchBytes is how much audio one write transaction carries.
const recordingBatchBytes = 1 << 20

// recordingRecord is a recording as stored: plaintext metadata and the
// sealed Twilio SID and digest, ending in an integrity tag.
type recordingRecord struct {
	hotline.Recording
	Sealed []byte `json:"sealed"` // sealed recordingSecret
}

type recordingSecret struct {
	RecordingSID string `json:"recording_sid"`
	// SHA256 is the digest of the audio as downloaded, so Verify can tell
	// that what opens is what Twilio sent. Sealed: a plaintext digest
	// would let anyone holding a copy of the audio confirm it is here.
	SHA256 string `json:"sha256,omitempty"`
}

// chunkRecord is one sealed chunk, in the JSON shape every sealed field
// has (so key status, rewrap and retire treat it like any other record).
type chunkRecord struct {
	Sealed []byte `json:"sealed"`
}

// chunkKey binds a chunk to its recording and its place in it: a chunk
// moved to another index or recording fails to open.
func chunkKey(recordingID string, i int) []byte {
	return fmt.Appendf(nil, "%s/%08d", recordingID, i)
}

// queueBucket is where a pending job waits: media jobs in their own queue.
func queueBucket(kind hotline.JobKind) []byte {
	if kind.MediaJob() {
		return bucketMediaQueue
	}
	return bucketJobQueue
}

// RecordingCallback is Twilio's word that a voicemail is ready.
type RecordingCallback struct {
	RecordingSID string
	// CaseID is the case of the call, "" if no case was found for it: the
	// recording then opens a voice case of its own, so it is never lost.
	CaseID string
	// Duration is Twilio's RecordingDuration in seconds.
	Duration int
}

// RecordingQueued says what QueueRecording did.
type RecordingQueued struct {
	Recording hotline.Recording
	CaseCode  string
	// Duplicate: the RecordingSid was queued before; nothing was written.
	Duplicate bool
	// NewCase: no case was found for the call, so one was opened.
	NewCase bool
}

// QueueRecording records a voicemail announced by Twilio and queues the
// media job that fetches it, durably, in one transaction. The same
// RecordingSid (found by its keyed hash) queues nothing the second time.
func (s *Store) QueueRecording(ctx context.Context, in RecordingCallback) (RecordingQueued, error) {
	if in.RecordingSID == "" {
		return RecordingQueued{}, hotline.Errorf(hotline.EINVALID, "recording sid is required")
	}
	var res RecordingQueued
	err := s.Update(ctx, func(tx *Tx) error {
		res = RecordingQueued{}
		if j, found, err := tx.JobBySID(in.RecordingSID); err != nil {
			return err
		} else if found {
			rec, err := tx.Recording(j.ID)
			if err != nil {
				return err
			}
			c, err := tx.Case(rec.CaseID)
			res.Recording, res.CaseCode, res.Duplicate = rec, c.Code, true
			return err
		}
		c, isNew, err := tx.recordingCase(in.CaseID)
		if err != nil {
			return err
		}
		j := hotline.Job{Kind: hotline.JobFetchRecording, CaseID: c.ID, State: hotline.JobPending}
		if err := tx.PutJob(&j); err != nil {
			return err
		}
		if err := tx.SetJobSID(&j, in.RecordingSID); err != nil {
			return err
		}
		rec := hotline.Recording{ID: j.ID, CaseID: c.ID, State: hotline.RecordingQueued,
			Duration: max(in.Duration, 0), CreatedAt: tx.Now()}
		if err := tx.putRecording(rec, recordingSecret{RecordingSID: in.RecordingSID}); err != nil {
			return err
		}
		if err := tx.tx.Bucket(bucketCaseRecordings).Put([]byte(c.ID+"/"+rec.ID), nil); err != nil {
			return err
		}
		res.Recording, res.CaseCode, res.NewCase = rec, c.Code, isNew
		return nil
	})
	return res, err
}

// recordingCase returns the case a recording joins (its updated time
// moved on, reopened if it was closed), opening a voice case when id
// names none.
func (t *Tx) recordingCase(id string) (caseRecord, bool, error) {
	var c caseRecord
	cases := t.tx.Bucket(bucketCases)
	now := t.s.now()
	if id != "" {
		err := t.s.getTagged(cases, bucketCases, []byte(id), &c)
		if err == nil {
			if _, err := t.s.reopenForCaller(t.tx, &c, now); err != nil {
				return c, false, err
			}
			c.UpdatedAt = now
			return c, false, t.s.putTagged(cases, bucketCases, []byte(c.ID), c)
		}
		if !isNotFound(err) {
			return c, false, err
		}
	}
	code, err := uniqueCode(t.tx)
	if err != nil {
		return c, false, err
	}
	c = caseRecord{ID: newID(now), Code: code, Channel: hotline.ChannelVoice, Lang: hotline.LangAz,
		Priority: hotline.P3, Category: hotline.CategoryNone, Status: hotline.CaseOpen, OpenedAt: now, UpdatedAt: now}
	// The caller's number is not in a recording callback: nothing to seal
	// but an empty secret, so the case has the shape of every other.
	if c.Sealed, err = t.s.seal(bucketCases, c.ID, caseSecret{}); err != nil {
		return c, false, err
	}
	if err := t.tx.Bucket(bucketCaseCodes).Put([]byte(code), []byte(c.ID)); err != nil {
		return c, false, err
	}
	return c, true, t.s.putTagged(cases, bucketCases, []byte(c.ID), c)
}

func (t *Tx) putRecording(rec hotline.Recording, sec recordingSecret) error {
	sealed, err := t.s.seal(bucketRecordings, rec.ID, sec)
	if err != nil {
		return err
	}
	return t.s.putTagged(t.tx.Bucket(bucketRecordings), bucketRecordings, []byte(rec.ID), recordingRecord{Recording: rec, Sealed: sealed})
}

func (t *Tx) recordingRecord(id string) (recordingRecord, error) {
	var r recordingRecord
	if err := t.s.getTagged(t.tx.Bucket(bucketRecordings), bucketRecordings, []byte(id), &r); err != nil {
		if isNotFound(err) {
			return r, hotline.Errorf(hotline.ENOTFOUND, "no such recording")
		}
		return r, err
	}
	if r.ID != id {
		return r, fmt.Errorf("%w: the recording record under %s names itself %s", ErrTampered, id, r.ID)
	}
	return r, nil
}

func (t *Tx) recordingSecret(r recordingRecord) (recordingSecret, error) {
	var sec recordingSecret
	err := t.s.open(bucketRecordings, r.ID, r.Sealed, &sec)
	return sec, err
}

// Recording returns a recording's metadata.
func (t *Tx) Recording(id string) (hotline.Recording, error) {
	r, err := t.recordingRecord(id)
	return r.Recording, err
}

// RecordingSID opens the Twilio SID of a recording (for the job that
// fetches and deletes it; never logged).
func (t *Tx) RecordingSID(id string) (string, error) {
	r, err := t.recordingRecord(id)
	if err != nil {
		return "", err
	}
	sec, err := t.recordingSecret(r)
	return sec.RecordingSID, err
}

// SetRecordingDeleted records that Twilio's copy is gone.
func (t *Tx) SetRecordingDeleted(id string) error {
	return t.changeRecording(id, func(r *hotline.Recording) { r.DeletedAtTwilio = true })
}

// FailRecording marks a recording that could not be fetched, with a
// reason safe to show (the case page shows it).
func (t *Tx) FailRecording(id, reason string) error {
	return t.changeRecording(id, func(r *hotline.Recording) { r.State, r.Reason = hotline.RecordingFailed, reason })
}

func (t *Tx) changeRecording(id string, change func(*hotline.Recording)) error {
	if err := t.writable(); err != nil {
		return err
	}
	r, err := t.recordingRecord(id)
	if err != nil {
		return err
	}
	change(&r.Recording)
	return t.s.putTagged(t.tx.Bucket(bucketRecordings), bucketRecordings, []byte(id), r)
}

// CaseRecordings lists a case's recordings, oldest first (metadata only).
func (t *Tx) CaseRecordings(caseID string) ([]hotline.Recording, error) {
	var out []hotline.Recording
	prefix := []byte(caseID + "/")
	c := t.tx.Bucket(bucketCaseRecordings).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		r, err := t.Recording(string(k[len(prefix):]))
		if err != nil {
			return out, fmt.Errorf("recording %s of case %s: %w", keyName(k[len(prefix):]), caseID, err)
		}
		if r.CaseID != caseID {
			return out, fmt.Errorf("%w: recording %s is filed under case %s but belongs to case %s", ErrTampered, r.ID, caseID, r.CaseID)
		}
		out = append(out, r)
	}
	return out, nil
}

// deleteChunks removes every chunk of a recording (what an interrupted
// download left).
func deleteChunks(btx *bolt.Tx, id string) error {
	b := btx.Bucket(bucketRecordingChunks)
	prefix := []byte(id + "/")
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		keys = append(keys, clone(k))
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// ErrRecordingTooLarge is wrapped by StoreRecordingAudio's error when the
// audio runs past the limit it was given.
var ErrRecordingTooLarge = errors.New("recording is larger than the limit")

// StoreRecordingAudio streams a queued recording's audio from r into the
// store: it is read and sealed RecordingChunkSize at a time, each chunk
// bound to the recording and its index, and committed every MiB, so a
// recording of any length costs about a MiB of memory. Chunks an earlier,
// interrupted try left are removed first. The recording becomes "stored"
// in the transaction that writes its last chunk, with its size, chunk
// count and a sealed digest of the audio; until then it stays "queued"
// and its partial chunks are never read. At most limit bytes are taken.
func (s *Store) StoreRecordingAudio(ctx context.Context, id, contentType string, r io.Reader, limit int64) (hotline.Recording, error) {
	var rec recordingRecord
	var sec recordingSecret
	err := s.Update(ctx, func(tx *Tx) error {
		var err error
		if rec, err = tx.recordingRecord(id); err != nil {
			return err
		}
		// A failed recording may be tried again (an admin retried its job).
		if rec.State != hotline.RecordingQueued && rec.State != hotline.RecordingFailed {
			return fmt.Errorf("recording %s is %s: its audio is not fetched again", id, rec.State)
		}
		if sec, err = tx.recordingSecret(rec); err != nil {
			return err
		}
		return deleteChunks(tx.tx, id)
	})
	if err != nil {
		return hotline.Recording{}, err
	}

	digest := sha256.New()
	buf := make([]byte, RecordingChunkSize)
	var batch [][2][]byte // key, value
	batchBytes := 0
	var size int64
	n := 0
	flush := func(final func(*bolt.Tx) error) error {
		err := s.update(ctx, func(btx *bolt.Tx) error {
			b := btx.Bucket(bucketRecordingChunks)
			for _, kv := range batch {
				if err := b.Put(kv[0], kv[1]); err != nil {
					return err
				}
			}
			if final != nil {
				return final(btx)
			}
			return nil
		})
		batch, batchBytes = batch[:0], 0
		return err
	}
	for {
		got, rerr := io.ReadFull(r, buf)
		if got > 0 {
			size += int64(got)
			if size > limit {
				return hotline.Recording{}, fmt.Errorf("%w (%d bytes)", ErrRecordingTooLarge, limit)
			}
			digest.Write(buf[:got])
			key := chunkKey(id, n)
			env, err := s.keyring.Seal(string(bucketRecordingChunks), string(key), buf[:got])
			if err != nil {
				return hotline.Recording{}, err
			}
			value, err := json.Marshal(chunkRecord{Sealed: env})
			if err != nil {
				return hotline.Recording{}, err
			}
			batch = append(batch, [2][]byte{key, value})
			batchBytes += got
			n++
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return hotline.Recording{}, fmt.Errorf("read recording: %w", rerr)
		}
		if batchBytes >= recordingBatchBytes {
			if err := flush(nil); err != nil {
				return hotline.Recording{}, err
			}
		}
	}
	if size == 0 {
		return hotline.Recording{}, errors.New("recording is empty")
	}
	rec.State, rec.Size, rec.Chunks, rec.ContentType, rec.StoredAt = hotline.RecordingStored, size, n, contentType, s.now()
	rec.Reason = ""
	sec.SHA256 = hex.EncodeToString(digest.Sum(nil))
	sealed, err := s.seal(bucketRecordings, id, sec)
	if err != nil {
		return hotline.Recording{}, err
	}
	rec.Sealed = sealed
	err = flush(func(btx *bolt.Tx) error {
		return s.putTagged(btx.Bucket(bucketRecordings), bucketRecordings, []byte(id), rec)
	})
	return rec.Recording, err
}

// WriteRecordingAudio opens a stored recording chunk by chunk and writes
// the audio to w, each chunk read in its own short transaction (a slow
// reader never holds the file). It checks the chunk count, the size and
// the digest as it goes: an error after some bytes were written means the
// audio is not what was stored, and the caller must discard what it got.
func (s *Store) WriteRecordingAudio(id string, w io.Writer) (hotline.Recording, error) {
	var rec recordingRecord
	var sec recordingSecret
	err := s.View(func(tx *Tx) error {
		var err error
		if rec, err = tx.recordingRecord(id); err != nil {
			return err
		}
		sec, err = tx.recordingSecret(rec)
		return err
	})
	if err != nil {
		return hotline.Recording{}, err
	}
	if rec.State != hotline.RecordingStored && rec.State != hotline.RecordingVerified {
		return rec.Recording, hotline.Errorf(hotline.ENOTFOUND, "recording %s has no audio yet (%s)", id, rec.State)
	}
	digest := sha256.New()
	var size int64
	for i := range rec.Chunks {
		key := chunkKey(id, i)
		var env []byte
		err := s.view(func(btx *bolt.Tx) error {
			var c chunkRecord
			if err := getJSON(btx.Bucket(bucketRecordingChunks), key, &c); err != nil {
				return fmt.Errorf("%w: chunk %d of recording %s is missing", ErrTampered, i, id)
			}
			env = c.Sealed
			return nil
		})
		if err != nil {
			return rec.Recording, err
		}
		plain, err := s.keyring.Open(string(bucketRecordingChunks), string(key), env)
		if err != nil {
			return rec.Recording, fmt.Errorf("%w: chunk %d of recording %s does not open: %v", ErrTampered, i, id, err)
		}
		size += int64(len(plain))
		digest.Write(plain)
		if _, err := w.Write(plain); err != nil {
			return rec.Recording, err
		}
	}
	want, _ := hex.DecodeString(sec.SHA256)
	if size != rec.Size || subtle.ConstantTimeCompare(digest.Sum(nil), want) != 1 {
		return rec.Recording, fmt.Errorf("%w: recording %s does not open as it was downloaded (%d bytes, want %d)", ErrTampered, id, size, rec.Size)
	}
	return rec.Recording, nil
}

// ErrRecordingDoesNotOpen is wrapped by VerifyRecording's error when the
// stored audio is not what was downloaded. Any other error (a context ended, a full disk) leaves it stored, to be
// verified again.
var ErrRecordingDoesNotOpen = errors.New("stored recording does not open as downloaded")

// VerifyRecording opens every chunk of a stored recording and checks it
// against the digest taken while it was downloaded; only then is it
// "verified" and may Twilio's copy be deleted. A recording that does not
// open goes back to "queued" (its chunks removed) to be fetched again,
// and the error wraps ErrRecordingDoesNotOpen; any other error (ctx
// ended at shutdown) leaves it stored, to be verified again.
func (s *Store) VerifyRecording(ctx context.Context, id string) error {
	_, verr := s.WriteRecordingAudio(id, io.Discard)
	if verr != nil && !errors.Is(verr, ErrTampered) {
		return verr // the check could not run (store closing): it is not a verdict
	}
	err := s.Update(ctx, func(tx *Tx) error {
		r, err := tx.recordingRecord(id)
		if err != nil {
			return err
		}
		if verr != nil {
			r.State, r.Size, r.Chunks = hotline.RecordingQueued, 0, 0
			if err := deleteChunks(tx.tx, id); err != nil {
				return err
			}
		} else if r.State == hotline.RecordingStored {
			r.State = hotline.RecordingVerified
		}
		// The verdict is returned below, after this commits: returning it
		// here would roll the reset back and leave the bad audio "stored".
		return tx.s.putTagged(tx.tx.Bucket(bucketRecordings), bucketRecordings, []byte(id), r)
	})
	if verr != nil {
		return fmt.Errorf("%w: %w", ErrRecordingDoesNotOpen, verr)
	}
	return err
}

// QueueRedaction queues the job that blanks an inbound SMS's body at
// Twilio. The job names the message; the worker opens its sealed
// MessageSid when it runs, so nothing identifying is in the job.
func (t *Tx) QueueRedaction(caseID, messageID string) error {
	j := hotline.Job{Kind: hotline.JobRedactSMS, CaseID: caseID, MessageID: messageID, State: hotline.JobPending}
	return t.PutJob(&j)
}

// MessageTwilioSID opens the Twilio SID of an inbound message (for the
// redaction job; never logged).
func (t *Tx) MessageTwilioSID(caseID, messageID string) (string, error) {
	var m messageRecord
	if err := getJSON(t.tx.Bucket(bucketMessages), []byte(messageID), &m); err != nil {
		return "", err
	}
	sec, err := t.s.openMessage(caseID, []byte(messageID), m)
	if err != nil {
		return "", err
	}
	if sec.TwilioSID == "" {
		return "", hotline.Errorf(hotline.ENOTFOUND, "message %s has no Twilio SID", messageID)
	}
	return sec.TwilioSID, nil
}

// JobTwilioSID opens the Twilio SID recorded for a job (SetJobSID).
func (t *Tx) JobTwilioSID(jobID string) (string, error) {
	var r jobRecord
	if err := t.s.getTagged(t.tx.Bucket(bucketJobs), bucketJobs, []byte(jobID), &r); err != nil {
		return "", err
	}
	if r.SealedSID == nil {
		return "", hotline.Errorf(hotline.ENOTFOUND, "job %s has no Twilio SID", jobID)
	}
	var sid string
	err := t.s.open(bucketJobs, jobID+"/sid", r.SealedSID, &sid)
	return sid, err
}

// DueMediaJobs returns pending media jobs whose next try is due at now,
// like DueJobs for the alert queue.
func (t *Tx) DueMediaJobs(now time.Time, limit int) ([]hotline.Job, error) {
	var out []hotline.Job
	var bad []error
	c := t.tx.Bucket(bucketMediaQueue).Cursor()
	end := binary.BigEndian.AppendUint64(nil, uint64(now.UnixNano()))
	for k, _ := c.First(); k != nil && bytes.Compare(k[:8], end) <= 0 && len(out) < limit; k, _ = c.Next() {
		j, err := t.Job(string(k[8:]))
		if err != nil {
			bad = append(bad, fmt.Errorf("queued media job %s: %w", keyName(k[8:]), err))
			continue
		}
		out = append(out, j)
	}
	return out, errors.Join(bad...)
}

// NextMediaTimer is when the earliest media job is due (zero: none).
func (s *Store) NextMediaTimer() time.Time {
	var next time.Time
	s.view(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket(bucketMediaQueue).Cursor().First(); k != nil {
			next = time.Unix(0, int64(binary.BigEndian.Uint64(k[:8])))
		}
		return nil
	})
	return next
}

// recording checks a recording record: its tag, its sealed SID and
// digest, and its case.
func (v verifier) recording(k, _ []byte) error {
	tx := &Tx{s: v.s, tx: v.tx}
	r, err := tx.recordingRecord(string(k))
	if err != nil {
		return err
	}
	if _, err := tx.recordingSecret(r); err != nil {
		return err
	}
	if !hasKey(v.tx.Bucket(bucketCaseRecordings), []byte(r.CaseID+"/"+r.ID)) {
		return fmt.Errorf("%w: recording %s is not indexed by its case %s", ErrTampered, r.ID, r.CaseID)
	}
	chunks := v.tx.Bucket(bucketRecordingChunks)
	for i := range r.Chunks {
		if chunks.Get(chunkKey(r.ID, i)) == nil {
			return fmt.Errorf("%w: chunk %d of recording %s is missing", ErrTampered, i, r.ID)
		}
	}
	return nil
}

// recordingChunk checks that a chunk opens where it is and belongs to a
// recording that counts it (chunks past the count are what an
// interrupted download left, only while the recording is queued).
func (v verifier) recordingChunk(k, val []byte) error {
	id, idx, ok := bytes.Cut(k, []byte("/"))
	i, err := strconv.Atoi(string(idx))
	if !ok || err != nil || i < 0 {
		return fmt.Errorf("%w: not a chunk key", ErrTampered)
	}
	var c chunkRecord
	if err := json.Unmarshal(val, &c); err != nil {
		return err
	}
	if _, err := v.s.keyring.Open(string(bucketRecordingChunks), string(k), c.Sealed); err != nil {
		return fmt.Errorf("%w: chunk does not open where it is (moved, or changed): %v", ErrTampered, err)
	}
	r, err := (&Tx{s: v.s, tx: v.tx}).recordingRecord(string(id))
	if err != nil {
		return fmt.Errorf("chunk of recording %s: %w", keyName(id), err)
	}
	if i >= r.Chunks && r.State != hotline.RecordingQueued {
		return fmt.Errorf("%w: chunk %d of recording %s, which has %d", ErrTampered, i, r.ID, r.Chunks)
	}
	return nil
}

// caseRecording checks that a case's recording index entry names a
// recording of that case.
func (v verifier) caseRecording(k, _ []byte) error {
	caseID, recID, ok := bytes.Cut(k, []byte("/"))
	if !ok {
		return fmt.Errorf("%w: not a case/recording key", ErrTampered)
	}
	r, err := (&Tx{s: v.s, tx: v.tx}).recordingRecord(string(recID))
	if err != nil {
		return err
	}
	if r.CaseID != string(caseID) {
		return fmt.Errorf("%w: case %s indexes recording %s of case %s", ErrTampered, caseID, r.ID, r.CaseID)
	}
	return nil
}
