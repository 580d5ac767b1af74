package store_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/crypto"
	"github.com/hotline-az/hotline/store"
)

// fillStore writes n tips from n/3 reporters, enough for every big bucket
// to span several pages, and closes the store.
func fillStore(tb testing.TB, dir string, key crypto.MasterKey, n int) {
	tb.Helper()
	s := MustOpen(tb, dir, key, nil)
	defer s.Close()
	body := strings.Repeat("Kömək edin, bizi zirzəmidə saxlayırlar. ", 8)
	for i := range n {
		from := fmt.Sprintf("+99450%07d", i/3)
		if _, err := s.RecordInboundSMS(context.Background(), sms(fmt.Sprintf("SM%032x", i), from, body, hotline.P2), nil); err != nil {
			tb.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		tb.Fatal(err)
	}
}

// leafPage returns the offset of a leaf page of bucket in the file: the
// first leaf under the bucket's root, read from bbolt's page layout (a
// 16-byte header: id, flags, count, overflow; branch elements of 16 bytes
// whose last 8 are the child's page id).
func leafPage(tb testing.TB, path string, bucket string) int64 {
	tb.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		tb.Fatal(err)
	}
	var root uint64
	pageSize := db.Info().PageSize
	db.View(func(tx *bolt.Tx) error {
		root = uint64(tx.Bucket([]byte(bucket)).Root())
		return nil
	})
	db.Close()
	if root == 0 {
		tb.Fatalf("bucket %s is inline: write more tips", bucket)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	for id := root; ; {
		off := int64(id) * int64(pageSize)
		switch flags := binary.LittleEndian.Uint16(raw[off+8:]); flags {
		case 0x02:
			return off
		case 0x01:
			id = binary.LittleEndian.Uint64(raw[off+16+8:])
		default:
			tb.Fatalf("page %d has flags %#x", id, flags)
		}
	}
}

func flipByte(tb testing.TB, path string, off int64) {
	tb.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		tb.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, off); err != nil {
		tb.Fatal(err)
	}
}

func nextIndex(b, sub []byte, after int) int {
	i := bytes.Index(b[after+1:], sub)
	if i < 0 {
		return -1
	}
	return after + 1 + i
}

func readFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// damage is one way a data file gets damaged, applied to the file at path.
type damage struct {
	name  string
	apply func(tb testing.TB, path string)
	// atOpen is true when Open itself must refuse the file; damage in the
	// middle of the buckets that grow with tips is left to stats and check
	// (Open reads them only at their ends, so that start time does not
	// grow with the file).
	atOpen bool
}

var damages = []damage{
	{"leaf page type flipped in the SID log", func(tb testing.TB, path string) {
		flipByte(tb, path, leafPage(tb, path, "dedup")+8)
	}, true},
	// The first leaf of a bucket that grows with tips is read at open.
	{"leaf page type flipped in cases", func(tb testing.TB, path string) {
		flipByte(tb, path, leafPage(tb, path, "cases")+8)
	}, true},
	// A key size of gigabytes points past the mapped file: bbolt would
	// slice (or fault) past its end.
	{"leaf key size flipped in reporters", func(tb testing.TB, path string) {
		flipByte(tb, path, leafPage(tb, path, "reporters")+16+8+3)
	}, true},
	// An overflow count of millions of pages once sent bbolt's own check
	// (tx.Check) into a loop that did not end.
	{"leaf overflow count flipped in the SID log", func(tb testing.TB, path string) {
		flipByte(tb, path, leafPage(tb, path, "dedup")+15)
	}, true},
	{"leaf page type flipped in messages", func(tb testing.TB, path string) {
		flipByte(tb, path, leafPage(tb, path, "messages")+8)
	}, false},
	{"truncated copy", func(tb testing.TB, path string) {
		info, err := os.Stat(path)
		if err != nil {
			tb.Fatal(err)
		}
		if err := os.Truncate(path, info.Size()*2/3); err != nil {
			tb.Fatal(err)
		}
	}, true},
}

func TestDamagedFileIsReportedNotPanicked(t *testing.T) {
	key := testKey(t)
	sound := t.TempDir()
	fillStore(t, sound, key, 300)
	soundBytes := readFile(t, filepath.Join(sound, store.FileName))
	for _, d := range damages {
		t.Run(d.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, store.FileName)
			if err := os.WriteFile(path, soundBytes, 0o600); err != nil {
				t.Fatal(err)
			}
			d.apply(t, path)
			before := readFile(t, path)

			s, err := store.Open(dir, store.MasterKeySource{Key: &key}, store.Options{Logger: zerolog.Nop()})
			if d.atOpen {
				if !errors.Is(err, store.ErrDamaged) {
					t.Fatalf("Open: got %v, want ErrDamaged", err)
				}
				for _, want := range []string{"is damaged", "run `hotline check`", "restore the last backup"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("Open error %q lacks %q", err, want)
					}
				}
			} else if err == nil {
				s.Close()
			}
			if d.atOpen && !bytes.Equal(before, readFile(t, path)) {
				t.Fatal("Open of a damaged file changed it")
			}
			if _, err := store.ReadStats(dir); !errors.Is(err, store.ErrDamaged) {
				t.Fatalf("ReadStats: got %v, want ErrDamaged", err)
			}
			rep, err := store.Check(dir, store.MasterKeySource{Key: &key}, store.Options{})
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if rep.OK() || len(rep.Structure) == 0 {
				t.Fatalf("Check: got %+v, want a structure problem", rep)
			}
			t.Logf("check says: %s", rep.Structure[0])
		})
	}
}

func TestCheckOpensEverySealedRecord(t *testing.T) {
	key := testKey(t)
	dir := t.TempDir()
	fillStore(t, dir, key, 60)
	rep, err := store.Check(dir, store.MasterKeySource{Key: &key}, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Opened["messages"] != 60 || rep.Opened["cases"] != 20 {
		t.Fatalf("sound file: got ok=%v opened=%v structure=%v failed=%v, want ok with 60 messages and 20 cases",
			rep.OK(), rep.Opened, rep.Structure, rep.Failed)
	}

	// One byte inside one message's sealed data: the structure is intact,
	// the record does not open, and check names it.
	path := filepath.Join(dir, store.FileName)
	s := MustOpen(t, dir, key, nil)
	cases, err := s.ListCases()
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := s.CaseMessages(cases[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	victim := msgs[0].ID
	// The record may be in the file more than once (bbolt copies a page on
	// write and leaves the old copy free): change every copy.
	raw := readFile(t, path)
	prefix := []byte(`{"id":"` + victim + `"`)
	copies := 0
	for at := bytes.Index(raw, prefix); at >= 0; at = nextIndex(raw, prefix, at) {
		sealed := at + bytes.Index(raw[at:], []byte(`"sealed":"`)) + len(`"sealed":"`) + 20
		raw[sealed] ^= 'A' ^ 'B' // stays base64, changes the ciphertext
		copies++
	}
	if copies == 0 {
		t.Fatal("message record not found in the file")
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	rep, err = store.Check(dir, store.MasterKeySource{Key: &key}, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The record verifier reaches the message through its case's index
	// entry (which binds it to the case) or directly; either way exactly
	// one failure, naming the message.
	if rep.OK() || rep.FailedCount != 1 || !strings.HasSuffix(rep.Failed[0].ID, victim) || len(rep.Structure) != 0 {
		t.Fatalf("one sealed byte changed: got failed=%+v structure=%v, want message %s alone", rep.Failed, rep.Structure, victim)
	}

	wrong := testKey(t)
	if _, err := store.Check(dir, store.MasterKeySource{Key: &wrong}, store.Options{}); err == nil || !strings.Contains(err.Error(), "does not open") {
		t.Fatalf("Check with a wrong key: got %v", err)
	}
}

func TestWrongKeyWritesNothing(t *testing.T) {
	key := testKey(t)
	dir := t.TempDir()
	fillStore(t, dir, key, 20)
	path := filepath.Join(dir, store.FileName)
	before := readFile(t, path)
	wrong := testKey(t)
	_, err := store.Open(dir, store.MasterKeySource{Key: &wrong}, store.Options{Logger: zerolog.Nop()})
	if err == nil || !strings.Contains(err.Error(), "does not open this data file's keyring") {
		t.Fatalf("Open with a wrong key: got %v", err)
	}
	if !bytes.Equal(before, readFile(t, path)) {
		t.Fatal("a start with the wrong master key changed the data file")
	}
	// The right key still opens it, and a clean reopen writes nothing
	// either.
	s := MustOpen(t, dir, key, nil)
	s.Close()
	if !bytes.Equal(before, readFile(t, path)) {
		t.Fatal("opening and closing a complete file changed it")
	}
}

// TestFailedWriteIsSticky runs in a child process whose file size is
// capped (RLIMIT_FSIZE): the kernel refuses to grow the data file, as on a
// full disk, and the cap is process-wide.
func TestFailedWriteIsSticky(t *testing.T) {
	if dir := os.Getenv("HOTLINE_TEST_FSIZE_CHILD"); dir != "" {
		failedWriteChild(t, dir)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestFailedWriteIsSticky$", "-test.v")
	cmd.Env = append(os.Environ(), "HOTLINE_TEST_FSIZE_CHILD="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestFailedWriteIsSticky") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

func failedWriteChild(t *testing.T, dir string) {
	key := testKey(t)
	s := MustOpen(t, dir, key, nil)
	defer s.Close()
	ctx := context.Background()
	tip := func(i int) error {
		_, err := s.RecordInboundSMS(ctx, sms(fmt.Sprintf("SM%032x", i), fmt.Sprintf("+99450%07d", i), strings.Repeat("x", 600), hotline.P3), nil)
		return err
	}
	if err := tip(0); err != nil {
		t.Fatal(err)
	}
	if err := s.Healthy(); err != nil {
		t.Fatalf("Healthy before any failure: %v", err)
	}
	info, err := os.Stat(filepath.Join(dir, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: uint64(info.Size()), Max: old.Max}); err != nil {
		t.Fatal(err)
	}
	refused := 0
	i := 1
	for ; i < 5000 && refused == 0; i++ {
		if err := tip(i); err != nil {
			refused = i
		}
	}
	if refused == 0 {
		t.Fatal("no tip was refused with the file size capped")
	}
	err = s.Healthy()
	if !errors.Is(err, store.ErrWriteFailing) || !strings.Contains(err.Error(), "until a write succeeds") {
		t.Fatalf("Healthy after a refused tip: got %v, want ErrWriteFailing", err)
	}
	if s.WriteFailures() == 0 {
		t.Fatal("WriteFailures is 0 after a refused tip")
	}
	// The readiness probe's small write may still fit in a freed page; it
	// must not end the failed state while tips are refused.
	_ = s.Ping(ctx)
	if s.Healthy() == nil {
		t.Fatal("a probe write cleared the failed-write state")
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	if err := tip(i + 1); err != nil {
		t.Fatalf("a tip after the cap was lifted: %v", err)
	}
	if err := s.Healthy(); err != nil {
		t.Fatalf("Healthy after a tip went through: %v", err)
	}
	// The tips answered before the refusal are all there.
	st, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Messages < refused {
		t.Fatalf("messages after the refusal: got %d, want at least %d", st.Messages, refused)
	}
}

func TestFreeSpaceWatch(t *testing.T) {
	var logs syncBuffer
	key := testKey(t)
	s, err := store.Open(t.TempDir(), store.MasterKeySource{Key: &key}, store.Options{
		Logger: zerolog.New(&logs), MinFreeSpace: 1 << 62, SpaceCheckInterval: 10 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	free, err := s.FreeSpace()
	if err != nil || free == 0 {
		t.Fatalf("FreeSpace: got %d, %v", free, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !s.LowOnSpace() || !strings.Contains(logs.String(), "below min_free_space") {
		if time.Now().After(deadline) {
			t.Fatalf("no low-space warning with a floor of 4 EiB; logs: %s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := strings.Count(logs.String(), "below min_free_space"); n != 1 {
		t.Fatalf("warned %d times within the hour, want once", n)
	}
}

// syncBuffer is a log sink safe for the store's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
