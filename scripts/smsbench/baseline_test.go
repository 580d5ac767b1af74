package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func mustOpenGroupCommitter(tb testing.TB, path string) *groupCommitter {
	tb.Helper()
	g, err := openGroupCommitter(path)
	if err != nil {
		tb.Fatalf("open %s: %v", path, err)
	}
	return g
}

// readAll reopens the file and returns every stored value by key.
func readAll(tb testing.TB, path string) map[uint64]string {
	tb.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		tb.Fatalf("reopen: %v", err)
	}
	defer db.Close()
	got := map[uint64]string{}
	err = db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMessages).ForEach(func(k, v []byte) error {
			got[binary.BigEndian.Uint64(k)] = string(v)
			return nil
		})
	})
	if err != nil {
		tb.Fatalf("read back: %v", err)
	}
	return got
}

// TestGroupCommitSharesCommits holds bbolt's writer lock so the first commit
// cannot finish until all N writers have queued: they must then share
// commits, and every write must be in the file after reopening it.
func TestGroupCommitSharesCommits(t *testing.T) {
	const n = 64
	path := filepath.Join(t.TempDir(), "baseline.db")
	g := mustOpenGroupCommitter(t, path)

	blocker, err := g.db.Begin(true) // the writer's db.Update waits for this
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- g.Write(context.Background(), fmt.Appendf(nil, "message %d", i))
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for g.queued.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d writes queued", g.queued.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
	if err := blocker.Rollback(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("write: %v", err)
		}
	}
	commits := g.Commits()
	if commits >= n {
		t.Errorf("%d concurrent writes took %d commits, want fewer than %d", n, commits, n)
	}
	t.Logf("%d writes, %d commits", n, commits)
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}

	got := readAll(t, path)
	if len(got) != n {
		t.Fatalf("after reopen: %d values, want %d", len(got), n)
	}
	seen := map[string]bool{}
	for seq, v := range got {
		if seq < 1 || seq > n {
			t.Errorf("key %d outside 1..%d", seq, n)
		}
		seen[v] = true
	}
	for i := range n {
		if want := fmt.Sprintf("message %d", i); !seen[want] {
			t.Errorf("%q missing after reopen", want)
		}
	}
}

// TestGroupCommitConcurrentWritesLand writes from many goroutines without
// any help and checks only that nothing is lost.
func TestGroupCommitConcurrentWritesLand(t *testing.T) {
	const writers, each = 32, 20
	path := filepath.Join(t.TempDir(), "baseline.db")
	g := mustOpenGroupCommitter(t, path)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := g.Write(context.Background(), fmt.Appendf(nil, "%d-%d", w, i)); err != nil {
					t.Errorf("write: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	commits := g.Commits()
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, path); len(got) != writers*each {
		t.Errorf("after reopen: %d values, want %d", len(got), writers*each)
	}
	t.Logf("%d writes, %d commits", writers*each, commits)
}

// TestLoneWritePaysOneCommit: a write with nothing else in flight is
// committed alone and at once, one transaction per write, no batching delay.
func TestLoneWritePaysOneCommit(t *testing.T) {
	g := mustOpenGroupCommitter(t, filepath.Join(t.TempDir(), "baseline.db"))
	defer g.Close()
	for i := range 5 {
		start := time.Now()
		if err := g.Write(context.Background(), []byte("x")); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("write %d took %s", i, d)
		}
		if got, want := g.Commits(), int64(i+1); got != want {
			t.Fatalf("after %d sequential writes: %d commits, want %d", i+1, got, want)
		}
	}
}

func TestWriteAfterClose(t *testing.T) {
	g := mustOpenGroupCommitter(t, filepath.Join(t.TempDir(), "baseline.db"))
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if err := g.Write(context.Background(), []byte("late")); err != errClosed {
		t.Errorf("write after close: %v, want %v", err, errClosed)
	}
}

func TestBaselineHandlerStoresRawBody(t *testing.T) {
	path := filepath.Join(t.TempDir(), "baseline.db")
	g := mustOpenGroupCommitter(t, path)
	h, err := newBaselineHandler(g)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	form := newMessages().next()
	resp, err := http.PostForm(srv.URL+webhookPath, form)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "<Response") {
		t.Errorf("got %s %q, want 200 and TwiML", resp.Status, body)
	}
	srv.Close()
	g.Close()
	got := readAll(t, path)
	if len(got) != 1 || got[1] != form.Encode() {
		t.Errorf("stored %v, want map[1:%s]", got, form.Encode())
	}
}

func TestMessages(t *testing.T) {
	m := newMessages()
	sids, froms := map[string]bool{}, map[string]bool{}
	for range 100 {
		f := m.next()
		sid := f.Get("MessageSid")
		if len(sid) != 34 || !strings.HasPrefix(sid, "SM") {
			t.Fatalf("MessageSid %q is not SM + 32 hex digits", sid)
		}
		if sids[sid] {
			t.Fatalf("MessageSid %s repeated", sid)
		}
		sids[sid] = true
		froms[f.Get("From")] = true
		if n := len([]rune(f.Get("Body"))); n != bodyRunes {
			t.Errorf("body of %d runes, want %d: %q", n, bodyRunes, f.Get("Body"))
		}
	}
	if len(froms) != len(reporters) {
		t.Errorf("%d distinct From numbers, want %d", len(froms), len(reporters))
	}
}

func TestPercentile(t *testing.T) {
	r := &result{}
	for i := 1; i <= 100; i++ {
		r.Latencies = append(r.Latencies, time.Duration(i)*time.Millisecond)
	}
	for _, tt := range []struct {
		p    float64
		want time.Duration
	}{{50, 50 * time.Millisecond}, {99, 99 * time.Millisecond}, {100, 100 * time.Millisecond}, {1, time.Millisecond}} {
		if got := r.Percentile(tt.p); got != tt.want {
			t.Errorf("p%v = %s, want %s", tt.p, got, tt.want)
		}
	}
}

// TestResultAddMergesBlocks: the blocks of one level count as one run:
// requests, time and CPU add up, latencies are pooled in order, the
// first error stays the first, and a block whose CPU is unknown makes the
// level's CPU unknown rather than too low.
func TestResultAddMergesBlocks(t *testing.T) {
	var r *result
	for i, b := range []*result{
		{Server: "hotline", Requests: 2, Wanted: 2, Elapsed: time.Second, Latencies: []time.Duration{3, 9}, CPU: 5},
		{Server: "hotline", Requests: 2, Wanted: 3, Errors: 1, FirstError: "HTTP 503", Elapsed: 2 * time.Second, Latencies: []time.Duration{1, 4}, CPU: 7},
		{Server: "hotline", Requests: 1, Wanted: 1, Errors: 1, FirstError: "HTTP 500", Elapsed: time.Second, Latencies: []time.Duration{2}},
	} {
		r = r.add(b)
		if i == 0 && r != b {
			t.Fatal("adding to nil does not start from the block")
		}
	}
	if r.Requests != 5 || r.Wanted != 6 || r.Errors != 2 || r.Elapsed != 4*time.Second || r.CPU != 0 {
		t.Errorf("merged %+v; want 5 of 6 requests, 2 errors, 4s, CPU unknown (0)", r)
	}
	if k := (&result{CPU: 5}).add(&result{CPU: 7}); k.CPU != 12 {
		t.Errorf("CPU of two known blocks = %v, want 12", k.CPU)
	}
	if r.FirstError != "HTTP 503" {
		t.Errorf("first error %q, want the first block's", r.FirstError)
	}
	if !slices.Equal(r.Latencies, []time.Duration{1, 2, 3, 4, 9}) {
		t.Errorf("latencies %v, want all five in order", r.Latencies)
	}
	if r.Throughput() != 5.0/4 || r.Complete() {
		t.Errorf("throughput %v complete %v; want 1.25 and false", r.Throughput(), r.Complete())
	}
}

func TestCheckLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:8080": true, "localhost:8080": true, "[::1]:8080": true,
		"10.0.0.1:8080": false, "hotline.example.az:443": false, "127.0.0.1": false,
	} {
		if err := checkLoopback(addr); (err == nil) != ok {
			t.Errorf("checkLoopback(%q) = %v, want ok=%v", addr, err, ok)
		}
	}
}

func TestFlagErrorsNameTheFlag(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--concurrency", "1,x"}, "--concurrency"},
		{[]string{"--count", "0"}, "--count"},
		{[]string{"--rounds", "0"}, "--rounds"},
		{[]string{"--count", "20", "--rounds", "21"}, "--rounds"},
		{[]string{"--addr", "10.0.0.1:8080", "--token", "t"}, "--addr"},
		{[]string{"--addr", "127.0.0.1:8080"}, "--token"},
		{[]string{"--token", "t"}, "--addr"},
	} {
		t.Setenv("TWILIO_AUTH_TOKEN", "")
		var out, errOut strings.Builder
		if code := run(tt.args, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 naming %s", tt.args, code, errOut.String(), tt.want)
		}
	}
}

// TestBenchBaselineOnly runs the whole command briefly against the baseline.
func TestBenchBaselineOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the benchmark")
	}
	var out, errOut strings.Builder
	code := run([]string{"--baseline-only", "--concurrency", "1,4", "--count", "20", "--warmup", "2", "--json", "--dir", t.TempDir()}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut.String())
	}
	for _, want := range []string{`"concurrency": 4`, `"requests": 20`, `"errors": 0`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("JSON lacks %s:\n%s", want, out.String())
		}
	}
	if !strings.Contains(errOut.String(), "req/s") {
		t.Errorf("no table on stderr:\n%s", errOut.String())
	}
}
