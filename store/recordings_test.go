package store_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/internal/leaktest"
	"github.com/hotline-az/hotline/store"
	"github.com/hotline-az/hotline/twiliotest"
)

// storeRecording queues a voicemail and streams audio into it.
func storeRecording(t *testing.T, s *store.Store, audio []byte) hotline.Recording {
	t.Helper()
	ctx := context.Background()
	q, err := s.QueueRecording(ctx, store.RecordingCallback{RecordingSID: twiliotest.NewSID("RE"), Duration: 9})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := s.StoreRecordingAudio(ctx, q.Recording.ID, "audio/x-wav", bytes.NewReader(audio), 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.VerifyRecording(ctx, rec.ID); err != nil {
		t.Fatalf("verify a recording just stored: %v", err)
	}
	return rec
}

func readAudio(s *store.Store, id string) ([]byte, error) {
	var b bytes.Buffer
	_, err := s.WriteRecordingAudio(id, &b)
	return b.Bytes(), err
}

// Chunks are bound to their recording and their index: swapped, moved to
// another recording, or cut off, the audio does not open, and check
// names it.
func TestRecordingChunksCannotBeReorderedOrCut(t *testing.T) {
	chunk := func(id string, i int) []byte { return []byte(id + "/" + pad(i)) }
	tests := []struct {
		label string
		edit  func(b *bolt.Bucket, a, other string) error
	}{
		{"two chunks swapped", func(b *bolt.Bucket, a, _ string) error {
			c0, c1 := bytes.Clone(b.Get(chunk(a, 0))), bytes.Clone(b.Get(chunk(a, 1)))
			if err := b.Put(chunk(a, 0), c1); err != nil {
				return err
			}
			return b.Put(chunk(a, 1), c0)
		}},
		{"a chunk from another recording", func(b *bolt.Bucket, a, other string) error {
			return b.Put(chunk(a, 2), bytes.Clone(b.Get(chunk(other, 2))))
		}},
		{"the last chunk cut off", func(b *bolt.Bucket, a, _ string) error {
			last := 0
			for i := 0; b.Get(chunk(a, i)) != nil; i++ {
				last = i
			}
			return b.Delete(chunk(a, last))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.label, func(t *testing.T) {
			dir, key := t.TempDir(), testKey(t)
			s := MustOpen(t, dir, key, nil)
			audio := twiliotest.NewWAV(15, 1) // 4 chunks
			a := storeRecording(t, s, audio)
			other := storeRecording(t, s, twiliotest.NewWAV(15, 2))
			s.Close()
			editRaw(t, dir, func(tx *bolt.Tx) error { return tc.edit(tx.Bucket([]byte("recording_chunks")), a.ID, other.ID) })

			s = MustOpen(t, dir, key, nil)
			defer s.Close()
			_, err := readAudio(s, a.ID)
			wantTampered(t, "reading the recording", err, a.ID)
			if problems := verify(t, s); len(problems) == 0 {
				t.Fatal("check found nothing wrong")
			}
			// The media worker's verification then queues it for a fresh
			// download: the bad chunks go and the file checks clean.
			if err := s.VerifyRecording(context.Background(), a.ID); !errors.Is(err, store.ErrRecordingDoesNotOpen) {
				t.Fatalf("VerifyRecording of a tampered recording: %v, want ErrRecordingDoesNotOpen", err)
			}
			if problems := verify(t, s); len(problems) != 0 {
				t.Errorf("check after the tampered audio was dropped for a fresh download: %v", problems)
			}
			if err := s.View(func(tx *store.Tx) error {
				r, err := tx.Recording(a.ID)
				if err == nil && r.State != hotline.RecordingQueued {
					t.Errorf("tampered recording is %s after verification, want queued for a fresh download", r.State)
				}
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if got, err := readAudio(s, other.ID); err != nil || len(got) == 0 {
				t.Errorf("the untouched recording: %v", err)
			}
		})
	}
}

// Key rotation reaches recordings: rewrap moves every chunk to the new
// key without opening it, and the audio still opens.
func TestRecordingsAreRewrapped(t *testing.T) {
	dir, key := t.TempDir(), testKey(t)
	s := MustOpen(t, dir, key, nil)
	defer s.Close()
	audio := twiliotest.NewWAV(20, 3)
	rec := storeRecording(t, s, audio)
	ctx := context.Background()
	before, err := s.KeyStatus()
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.RotateKey(ctx, store.AuditEntry{Actor: "cli", Via: "cli"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RewrapKeys(ctx, store.RewrapOptions{}); err != nil {
		t.Fatal(err)
	}
	after, err := s.KeyStatus()
	if err != nil {
		t.Fatal(err)
	}
	// Every record, the recording's chunks (5) and record among them, is
	// now under v.
	for _, kv := range after.Versions {
		if kv.Version == v && kv.Records != before.Versions[0].Records {
			t.Errorf("under v%d: %d records, want all %d", v, kv.Records, before.Versions[0].Records)
		}
	}
	if before.Versions[0].Records < rec.Chunks+1 {
		t.Errorf("key status counts %d records, fewer than the recording's %d chunks and its record", before.Versions[0].Records, rec.Chunks)
	}
	if got, err := readAudio(s, rec.ID); err != nil || !bytes.Equal(got, audio) {
		t.Fatalf("audio after rewrap: %v", err)
	}
}

// An interrupted download leaves partial chunks; the next try starts over
// and the audio stored is the whole of it, once. The data file never
// holds 64 bytes of audio in the clear.
func TestInterruptedDownloadStartsOver(t *testing.T) {
	dir, key := t.TempDir(), testKey(t)
	s := MustOpen(t, dir, key, nil)
	defer s.Close()
	ctx := context.Background()
	audio := twiliotest.NewWAV(80, 4) // 1.28 MB: the first MiB commits before the cut
	q, err := s.QueueRecording(ctx, store.RecordingCallback{RecordingSID: twiliotest.NewSID("RE")})
	if err != nil {
		t.Fatal(err)
	}
	cut := &cutReader{r: bytes.NewReader(audio), left: 1100 << 10}
	if _, err := s.StoreRecordingAudio(ctx, q.Recording.ID, "audio/x-wav", cut, 64<<20); !errors.Is(err, errCut) {
		t.Fatalf("cut download: %v, want the reader's error", err)
	}
	if _, err := readAudio(s, q.Recording.ID); err == nil {
		t.Fatal("a partly downloaded recording opened")
	}
	rec, err := s.StoreRecordingAudio(ctx, q.Recording.ID, "audio/x-wav", bytes.NewReader(audio), 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := readAudio(s, rec.ID); err != nil || !bytes.Equal(got, audio) {
		t.Fatalf("audio after the retry: %v", err)
	}
	if problems := verify(t, s); len(problems) != 0 {
		t.Fatalf("check after a retried download: %v", problems)
	}
	if _, err := s.StoreRecordingAudio(ctx, q.Recording.ID, "audio/x-wav", bytes.NewReader(audio), 64<<20); err == nil {
		t.Fatal("a stored recording was stored again")
	}
	raw, err := os.ReadFile(filepath.Join(dir, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	leaktest.CheckNoRun(t, "data file", raw, audio, 64)
}

// A recording over the limit is refused.
func TestRecordingOverLimitRefused(t *testing.T) {
	s := MustOpen(t, t.TempDir(), testKey(t), nil)
	defer s.Close()
	ctx := context.Background()
	q, err := s.QueueRecording(ctx, store.RecordingCallback{RecordingSID: twiliotest.NewSID("RE")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.StoreRecordingAudio(ctx, q.Recording.ID, "audio/x-wav", bytes.NewReader(make([]byte, 300<<10)), 200<<10)
	if !errors.Is(err, store.ErrRecordingTooLarge) {
		t.Fatalf("err = %v, want ErrRecordingTooLarge", err)
	}
}

var errCut = errors.New("connection cut")

type cutReader struct {
	r    *bytes.Reader
	left int
}

func (c *cutReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, errCut
	}
	if len(p) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= n
	return n, err
}

func pad(i int) string {
	s := "0000000" + string(rune('0'+i))
	return s[len(s)-8:]
}

// VerifyRecording tells a recording that does not open from a check that
// could not finish (a context cancelled at shutdown): only the first
// wraps ErrRecordingDoesNotOpen, and the second leaves it stored.
func TestVerifyRecordingCancelledIsNotDoesNotOpen(t *testing.T) {
	s := MustOpen(t, t.TempDir(), testKey(t), nil)
	defer s.Close()
	ctx := context.Background()
	q, err := s.QueueRecording(ctx, store.RecordingCallback{RecordingSID: twiliotest.NewSID("RE"), Duration: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.StoreRecordingAudio(ctx, q.Recording.ID, "audio/x-wav", bytes.NewReader(twiliotest.NewWAV(2, 1)), 64<<20); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	// A cancelled context may or may not win the race to the writer.
	for range 20 {
		err = s.VerifyRecording(cancelled, q.Recording.ID)
		if errors.Is(err, store.ErrRecordingDoesNotOpen) || (err != nil && !errors.Is(err, context.Canceled)) {
			t.Fatalf("verify with a cancelled context: %v, want nil or context.Canceled, never ErrRecordingDoesNotOpen", err)
		}
	}
	s.Close()
	if err := s.VerifyRecording(ctx, q.Recording.ID); err == nil || errors.Is(err, store.ErrRecordingDoesNotOpen) {
		t.Fatalf("verify on a closed store: %v, want an error that is not ErrRecordingDoesNotOpen", err)
	}
}
