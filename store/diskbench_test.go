package store

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/crypto"
)

// TestDiskFigures measures the storage choices of layout against their
// alternatives on files of -disk.tips tips: bytes per tip with and without
// full pages in append-only buckets, and, with and without bbolt's synced
// free-page list, the start time, the time to refuse a tip after a commit
// failed for want of space, and intake throughput. It prints a table and
// is skipped unless -disk.tips is given; scripts/diskbench.sh runs it.
func TestDiskFigures(t *testing.T) {
	if *diskTips <= 0 {
		t.Skip("a measurement: run scripts/diskbench.sh (or -args -disk.tips=N)")
	}
	n := *diskTips
	texts := loadTipTexts(t)
	root := *diskDir
	if root == "" {
		root = t.TempDir()
	}
	key := diskKey(t, root)
	fmt.Printf("disk figures for %d tips (%d writers while building; a restart every %d tips prunes the SID log as a deploy would)\n",
		n, buildWriters, restartEvery)
	var rows []diskRow
	for _, fill := range []struct {
		name        string
		defaultFill bool
	}{{"default fill (0.5)", true}, {fmt.Sprintf("append-only buckets at %.2f", appendFill), false}} {
		dir := filepath.Join(root, strings.Fields(fill.name)[0])
		clock := &benchClock{t: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
		lay := layout{defaultFill: fill.defaultFill}
		var built time.Duration
		if _, err := os.Stat(filepath.Join(dir, FileName)); *diskKeep && err == nil {
			clock.t = clock.t.Add(time.Duration(n) * tipStep)
		} else {
			built = buildTips(t, dir, key, clock, lay, n, texts)
		}
		size := fileFigures(t, dir)
		tips := float64(size.messages)
		fmt.Printf("\n%s: built in %s (0 when reused): %d tips, file %s, %.0f bytes/tip (pages in use %.0f bytes/tip); messages leaf pages %.0f%% full, SID log %.0f%% full; %d SIDs in the dedup window\n",
			fill.name, built.Round(time.Second), size.messages, mib(size.file), float64(size.file)/tips,
			float64(size.inUse)/tips, 100*size.messagesFill, 100*size.dedupFill, size.dedupEntries)
		for _, noSync := range []bool{false, true} {
			lay.noFreelistSync = noSync
			r := measureLayout(t, dir, key, clock, lay, texts)
			r.fill, r.noSync, r.bytesPerTip = fill.name, noSync, float64(size.file)/tips
			rows = append(rows, r)
		}
	}
	fmt.Printf("\nwall time (CPU time in brackets); start = store.Open of the file, of which the read-only check; full read = what hotline check's structure pass reads\n")
	fmt.Printf("%-28s %-8s %9s %20s %10s %10s %20s %10s %8s\n", "layout", "freelist", "bytes/tip", "start", "check", "full read", "refusal", "tips/s@64", "p50@1")
	for _, r := range rows {
		fl := "synced"
		if r.noSync {
			fl = "rebuilt"
		}
		fmt.Printf("%-28s %-8s %9.0f %20s %10s %10s %20s %10.0f %8s\n", r.fill, fl, r.bytesPerTip,
			fmt.Sprintf("%s (%s)", r.start.Round(time.Millisecond), r.startCPU.Round(time.Millisecond)),
			r.check.Round(time.Millisecond), r.fullWalk.Round(time.Millisecond),
			fmt.Sprintf("%s (%s)", r.refusal.Round(10*time.Microsecond), r.refusalCPU.Round(10*time.Microsecond)),
			r.throughput, r.p50.Round(10*time.Microsecond))
	}
	for _, r := range rows {
		if !r.noSync && r.start >= 3*time.Second {
			t.Errorf("start with a synced free list took %s at %d tips: over the 3 s target", r.start, n)
		}
	}
}

var (
	diskTips = flag.Int("disk.tips", 0, "tips per file for TestDiskFigures (0 skips it)")
	diskDir  = flag.String("disk.dir", "", "where TestDiskFigures builds its files (default: a temporary directory)")
	diskKeep = flag.Bool("disk.reuse", false, "measure the files already in -disk.dir instead of building them")
)

const (
	buildWriters = 64
	restartEvery = 50_000
	// tipStep spaces tips in time: a million tips span two years.
	tipStep = 63 * time.Second
)

type diskRow struct {
	fill        string
	noSync      bool
	bytesPerTip float64
	start       time.Duration // store.Open of the whole file, median of 3
	startCPU    time.Duration // CPU time (user+system) of that open
	fullWalk    time.Duration // read-only open reading every key and value
	check       time.Duration // of which the read-only structure check
	refusal     time.Duration // one tip refused after a failed commit, median
	refusalCPU  time.Duration
	throughput  float64       // tips/s at 64 concurrent writers
	p50         time.Duration // one writer
}

// benchClock moves forward by tipStep each time a tip reads it.
type benchClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *benchClock) tick() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(tipStep)
	return c.t
}

func (c *benchClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// loadTipTexts reads the triage package's labelled tips: real wording in
// the hotline's three languages, so sealed sizes are those of real tips.
func loadTipTexts(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "triage", "testdata", "*.jsonl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no tip texts under ../triage/testdata: %v", err)
	}
	var texts []string
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			var row struct {
				Text string `json:"text"`
			}
			if json.Unmarshal(sc.Bytes(), &row) == nil && row.Text != "" {
				texts = append(texts, row.Text)
			}
		}
		fh.Close()
	}
	return texts
}

// tipSource makes tips: 30% from a recent reporter (threaded into their
// open case), the rest from new numbers.
type tipSource struct {
	texts  []string
	seq    atomic.Int64
	mu     sync.Mutex
	recent []string
	rng    *rand.Rand
}

func newTipSource(texts []string, start int64) *tipSource {
	src := &tipSource{texts: texts, rng: rand.New(rand.NewPCG(uint64(start), 7))}
	src.seq.Store(start)
	return src
}

func (src *tipSource) next() InboundSMS {
	i := src.seq.Add(1)
	src.mu.Lock()
	var from string
	if len(src.recent) > 0 && src.rng.IntN(10) < 3 {
		from = src.recent[src.rng.IntN(len(src.recent))]
	} else {
		from = fmt.Sprintf("+99450%07d", src.rng.IntN(10_000_000))
		if len(src.recent) < 512 {
			src.recent = append(src.recent, from)
		} else {
			src.recent[src.rng.IntN(512)] = from
		}
	}
	src.mu.Unlock()
	p := []hotline.Priority{hotline.P3, hotline.P3, hotline.P2, hotline.P1}[i%4]
	return InboundSMS{
		MessageSID: fmt.Sprintf("SM%032x", i), From: from, Body: src.texts[int(i)%len(src.texts)],
		Window: 7 * 24 * time.Hour,
		Triage: hotline.Triage{Priority: p, Category: hotline.CategoryLabor, Lang: hotline.LangAz, Matched: []string{"bench"}},
	}
}

func benchOpen(t *testing.T, dir string, key crypto.MasterKey, now func() time.Time, lay layout) *Store {
	t.Helper()
	s, err := Open(dir, MasterKeySource{Key: &key}, Options{Now: now, Logger: zerolog.Nop(), layout: lay})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return s
}

// buildTips writes n tips through RecordInboundSMS from buildWriters
// goroutines (group commits), restarting the store every restartEvery.
func buildTips(t *testing.T, dir string, key crypto.MasterKey, clock *benchClock, lay layout, n int, texts []string) time.Duration {
	t.Helper()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	src := newTipSource(texts, 0)
	start := time.Now()
	for done := 0; done < n; {
		batch := min(restartEvery, n-done)
		s := benchOpen(t, dir, key, clock.tick, lay)
		if err := writeTips(s, src, batch, buildWriters, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		done += batch
	}
	// The last restart's prune, so the figures see the steady state.
	benchOpen(t, dir, key, clock.now, lay).Close()
	return time.Since(start)
}

// writeTips records count tips from writers goroutines; latencies, if not
// nil, receives each tip's time.
func writeTips(s *Store, src *tipSource, count, writers int, latencies []time.Duration) error {
	var next atomic.Int64
	errs := make(chan error, writers)
	var wg sync.WaitGroup
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(count) {
					return
				}
				t0 := time.Now()
				if _, err := s.RecordInboundSMS(context.Background(), src.next(), nil); err != nil {
					errs <- err
					return
				}
				if latencies != nil {
					latencies[i] = time.Since(t0)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

type sizeFigures struct {
	file, inUse             int64
	messagesFill, dedupFill float64
	dedupEntries, messages  int
}

func fileFigures(t *testing.T, dir string) sizeFigures {
	t.Helper()
	path := filepath.Join(dir, FileName)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	f := sizeFigures{file: info.Size()}
	fillOf := func(st bolt.BucketStats) float64 {
		if st.LeafPageN == 0 {
			return 0
		}
		return float64(st.LeafInuse) / float64(st.LeafPageN*db.Info().PageSize)
	}
	err = db.View(func(tx *bolt.Tx) error {
		f.inUse = tx.Size() - int64(db.Stats().FreePageN*db.Info().PageSize)
		ms := tx.Bucket(bucketMessages).Stats()
		f.messagesFill, f.messages = fillOf(ms), ms.KeyN
		st := tx.Bucket(bucketDedup).Stats()
		f.dedupFill, f.dedupEntries = fillOf(st), st.KeyN
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// measureLayout opens the file with lay (the first open and write convert
// the free list to lay's kind) and measures it.
func measureLayout(t *testing.T, dir string, key crypto.MasterKey, clock *benchClock, lay layout, texts []string) diskRow {
	t.Helper()
	// Fresh SIDs on every run (a reused file holds those of earlier runs,
	// which would be answered as retries without a write).
	src := newTipSource(texts, time.Now().UnixNano()>>4)
	s := benchOpen(t, dir, key, clock.tick, lay)
	if err := writeTips(s, src, 1, 1, nil); err != nil {
		t.Fatal(err)
	}
	s.Close()

	var r diskRow
	var starts, startCPUs, checks, fulls []time.Duration
	for range 3 {
		t0 := time.Now()
		db, err := openReadOnly(filepath.Join(dir, FileName), time.Second, walkOpen)
		if err != nil {
			t.Fatal(err)
		}
		checks = append(checks, time.Since(t0))
		db.Close()
		t0, c0 := time.Now(), cpuTime(t)
		s := benchOpen(t, dir, key, clock.tick, lay)
		starts, startCPUs = append(starts, time.Since(t0)), append(startCPUs, cpuTime(t)-c0)
		s.Close()
		t0 = time.Now()
		if db, err = openReadOnly(filepath.Join(dir, FileName), time.Second, walkAll); err != nil {
			t.Fatal(err)
		}
		fulls = append(fulls, time.Since(t0))
		db.Close()
	}
	r.start, r.startCPU, r.check, r.fullWalk = median(starts), median(startCPUs), median(checks), median(fulls)

	s = benchOpen(t, dir, key, clock.tick, lay)
	defer s.Close()
	const burst = 20_000
	t0 := time.Now()
	if err := writeTips(s, src, burst, 64, nil); err != nil {
		t.Fatal(err)
	}
	r.throughput = burst / time.Since(t0).Seconds()
	lat := make([]time.Duration, 300)
	if err := writeTips(s, src, len(lat), 1, lat); err != nil {
		t.Fatal(err)
	}
	r.p50 = median(lat)
	r.refusal, r.refusalCPU = measureRefusal(t, s, src)
	return r
}

// measureRefusal caps the process's file size at the data file's size
// (RLIMIT_FSIZE: the kernel refuses to grow it, as a full disk would),
// writes tips until one is refused, times five more refusals, then lifts
// the cap and checks that a tip goes through and Healthy clears.
func measureRefusal(t *testing.T, s *Store, src *tipSource) (time.Duration, time.Duration) {
	t.Helper()
	info, err := os.Stat(filepath.Join(s.dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	capped := syscall.Rlimit{Cur: uint64(info.Size()), Max: old.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &capped); err != nil {
		t.Fatal(err)
	}
	restored := false
	restore := func() {
		if !restored {
			restored = true
			if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
				t.Fatal(err)
			}
		}
	}
	defer restore()
	// The file grows in steps (bbolt's AllocSize), so the tips that still
	// fit in the last step go through first.
	for i := 0; ; i++ {
		if err := writeTips(s, src, 64, 64, nil); err != nil {
			break
		}
		if i > 10_000 {
			t.Fatal("no tip was refused under the file size cap")
		}
	}
	if !errors.Is(s.Healthy(), ErrWriteFailing) {
		t.Fatalf("Healthy after a refused tip: got %v, want ErrWriteFailing", s.Healthy())
	}
	// Single tips may still fit in pages freed inside the file; the ones
	// that do not are the refusals timed.
	var refusals, refusalCPUs []time.Duration
	for i := 0; len(refusals) < 5; i++ {
		if i > 10_000 {
			t.Fatal("fewer than 5 tips refused out of 10000 under the file size cap")
		}
		t0, c0 := time.Now(), cpuTime(t)
		if _, err := s.RecordInboundSMS(context.Background(), src.next(), nil); err != nil {
			refusals, refusalCPUs = append(refusals, time.Since(t0)), append(refusalCPUs, cpuTime(t)-c0)
		}
	}
	restore()
	if err := writeTips(s, src, 1, 1, nil); err != nil {
		t.Fatalf("a tip after lifting the cap: %v", err)
	}
	if err := s.Healthy(); err != nil {
		t.Fatalf("Healthy after a tip went through: %v", err)
	}
	return median(refusals), median(refusalCPUs)
}

// cpuTime is the process's user and system time so far: on a machine
// shared with other work it varies less than wall time.
func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// diskKey is the master key of the files under root, kept beside them so
// that -disk.reuse can open them again.
func diskKey(t *testing.T, root string) crypto.MasterKey {
	t.Helper()
	path := filepath.Join(root, "bench-master.key")
	if k, err := crypto.ReadMasterKeyFile(path); err == nil {
		return k
	}
	k, err := crypto.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	if err := k.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	return k
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
