package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hotline-az/hotline/crypto"
)

// get fetches url and returns the status, the body and the headers.
func get(tb testing.TB, url string) (int, string, http.Header) {
	tb.Helper()
	resp, err := http.Get(url)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp.StatusCode, string(b), resp.Header
}

func TestPublicListenerServesTwilioOnly(t *testing.T) {
	key, _ := crypto.GenerateMasterKey()
	srv := MustRunMain(t, t.TempDir(), key, io.Discard)
	defer srv.Close()

	if status, body, _ := get(t, srv.URL+"/healthz"); status != 200 || body != "ok\n" {
		t.Errorf("public GET /healthz: got %d %q, want 200 \"ok\\n\"", status, body)
	}
	for _, path := range []string{"/metrics", "/readyz", "/debug/pprof/", "/debug/pprof/cmdline", "/", "/twilio/"} {
		if status, body, _ := get(t, srv.URL+path); status != http.StatusNotFound {
			t.Errorf("public GET %s: got %d %q, want 404", path, status, body)
		}
	}
	if status, _ := srv.sendSMS(t, "SM"+strings.Repeat("4", 32), "+994501234567", "salam"); status != 200 {
		t.Errorf("public POST /twilio/sms: got %d, want 200", status)
	}

	for path, want := range map[string]string{
		"/readyz":              "ready\n",
		"/metrics":             `hotline_http_requests_total{route="unmatched",status="404"} 6`,
		"/debug/pprof/":        "goroutine",
		"/debug/pprof/cmdline": "",
		"/healthz":             "ok\n",
	} {
		if status, body, _ := get(t, srv.InternalURL+path); status != 200 || !strings.Contains(body, want) {
			t.Errorf("internal GET %s: got %d %.200q, want 200 with %q", path, status, body, want)
		}
	}
	// Twilio's routes are not on the internal listener either.
	if status, _, _ := get(t, srv.InternalURL+"/twilio/sms"); status != http.StatusNotFound {
		t.Errorf("internal GET /twilio/sms: got %d, want 404", status)
	}
}

func TestRequestIDsStayInTheLogAndAreRandom(t *testing.T) {
	key, _ := crypto.GenerateMasterKey()
	logs := &syncBuffer{}
	srv := MustRunMain(t, t.TempDir(), key, logs)
	for i, sid := range []string{"SM" + strings.Repeat("5", 32), "SM" + strings.Repeat("6", 32)} {
		status, _ := srv.sendSMS(t, sid, "+99450123456"+string(rune('0'+i)), "salam")
		if status != 200 {
			t.Fatalf("sms %d: got %d", i, status)
		}
	}
	for _, u := range []string{srv.URL + "/healthz", srv.URL + "/nope", srv.InternalURL + "/debug/pprof/"} {
		if _, _, h := get(t, u); h.Get("X-Request-Id") != "" {
			t.Errorf("GET %s answered with X-Request-Id %q", u, h.Get("X-Request-Id"))
		}
	}
	resp, err := http.Post(srv.URL+"/twilio/sms", "application/x-www-form-urlencoded", strings.NewReader("MessageSid=x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("X-Request-Id") != "" {
		t.Errorf("unsigned POST: got %d with X-Request-Id %q, want 403 and no header", resp.StatusCode, resp.Header.Get("X-Request-Id"))
	}
	srv.Close()

	var ids []string
	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	for sc.Scan() {
		var line struct {
			Message string `json:"message"`
			Route   string `json:"route"`
			ReqID   string `json:"req_id"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Message == "request" && line.Route == "/twilio/sms" {
			ids = append(ids, line.ReqID)
		}
	}
	// The unsigned POST has no access-log line (intake logs refusals,
	// rate-limited); the two tips do.
	if len(ids) != 2 {
		t.Fatalf("found %d request lines for /twilio/sms with req_id %q, want 2; log:\n%s", len(ids), ids, logs.String())
	}
	for i, id := range ids {
		if len(id) < 16 {
			t.Errorf("req_id %q is too short to be unguessable", id)
		}
		for _, other := range ids[:i] {
			// xid ids of one process share their timestamp and machine
			// prefix; random ones almost never share 6 leading characters.
			if n := commonPrefix(id, other); n >= 6 {
				t.Errorf("req_ids %q and %q share %d leading characters: not random", other, id, n)
			}
		}
	}
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// syncBuffer is a log sink the server's goroutines can write concurrently.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestReadyzDoesNotWriteOnEveryCall(t *testing.T) {
	key, _ := crypto.GenerateMasterKey()
	srv := MustRunMain(t, t.TempDir(), key, io.Discard)
	defer srv.Close()
	if status, body, _ := get(t, srv.InternalURL+"/readyz"); status != 200 {
		t.Fatalf("first /readyz: got %d %q", status, body)
	}
	before, _ := srv.Store().CommitStats()
	for range 20 {
		if status, body, _ := get(t, srv.InternalURL+"/readyz"); status != 200 {
			t.Fatalf("/readyz: got %d %q", status, body)
		}
	}
	after, _ := srv.Store().CommitStats()
	// The alert worker may commit on its own; 20 probes must not add 20.
	if after-before >= 10 {
		t.Errorf("20 /readyz calls within %s made %d commits, want them to reuse one write check", readyCacheFor, after-before)
	}
}

func TestReadyzFailsWhenAlertWorkerStops(t *testing.T) {
	key, _ := crypto.GenerateMasterKey()
	srv := MustRunMain(t, t.TempDir(), key, io.Discard)
	defer srv.Close()
	if !srv.WorkerRunning() {
		t.Fatal("alert worker not running after Run")
	}
	srv.stopWorker()
	<-srv.worker.done
	if srv.WorkerRunning() {
		t.Fatal("WorkerRunning is true after the worker returned")
	}
	status, body, _ := get(t, srv.InternalURL+"/readyz")
	if status != http.StatusServiceUnavailable || !strings.Contains(body, "alert worker stopped") {
		t.Fatalf("/readyz with the worker stopped: got %d %q, want 503 naming the alert worker", status, body)
	}
	// Tips are still taken: only readiness tells the operator.
	if status, _ := srv.sendSMS(t, "SM"+strings.Repeat("7", 32), "+994501234567", "salam"); status != 200 {
		t.Errorf("sms with the worker stopped: got %d, want 200", status)
	}
}

// failingPinger is a data file that refuses durable writes.
type failingPinger struct{ calls int }

func (p *failingPinger) Ping(context.Context) error {
	p.calls++
	return io.ErrClosedPipe
}

func TestReadinessCachesAFailedWriteCheckBriefly(t *testing.T) {
	now := time.Date(2026, 3, 1, 3, 0, 0, 0, time.UTC)
	worker := &alertWorker{done: make(chan struct{})} // running until closed
	p := &failingPinger{}
	r := newReadiness(p, worker, func() time.Time { return now }, zerolog.New(io.Discard))
	for range 3 {
		if got := r.problem(); got != "data file does not take durable writes" {
			t.Fatalf("problem() = %q, want the data file named", got)
		}
	}
	if p.calls != 1 {
		t.Fatalf("3 checks within %s made %d write checks, want 1", readyCacheFor, p.calls)
	}
	now = now.Add(readyCacheFor)
	r.problem()
	if p.calls != 2 {
		t.Fatalf("after %s: %d write checks, want a second one", readyCacheFor, p.calls)
	}
	close(worker.done)
	if got := r.problem(); got != "alert worker stopped" {
		t.Fatalf("problem() with a stopped worker = %q", got)
	}
}

func TestServeRefusesAnInternalAddrOnTheInternet(t *testing.T) {
	dir := t.TempDir()
	key, _ := crypto.GenerateMasterKey()
	keyFile := filepath.Join(t.TempDir(), "master.key")
	if err := key.WriteFile(keyFile); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"HOTLINE_DATA_DIR":        dir,
		"HOTLINE_PUBLIC_URL":      "https://hotline.example.az",
		"HOTLINE_MASTER_KEY_FILE": keyFile,
		"TWILIO_ACCOUNT_SID":      "AC" + strings.Repeat("a", 32),
		"TWILIO_AUTH_TOKEN":       testToken,
		"TWILIO_PHONE_NUMBER":     "+994125550000",
		"HOTLINE_INTERNAL_ADDR":   "0.0.0.0:9090",
	}
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	code := run(ctx, []string{"serve", "--addr", "127.0.0.1:0"}, nil, &stdout, &stderr, func(k string) string { return env[k] })
	if code != 2 || !strings.Contains(stderr.String(), "internal_addr (HOTLINE_INTERNAL_ADDR, --internal-addr)") ||
		!strings.Contains(stderr.String(), "--allow-public-internal") {
		t.Fatalf("exit %d, stderr %q; want 2 naming internal_addr and --allow-public-internal", code, stderr.String())
	}
	code = run(ctx, []string{"serve", "--dev", "--data", dir, "--internal-addr", "10.0.0.1:9090"}, nil, &stdout, &stderr, func(string) string { return "" })
	if code != 2 || !strings.Contains(stderr.String(), `--dev listens on loopback only; internal_addr "10.0.0.1:9090"`) {
		t.Fatalf("--dev with a private internal address: exit %d, stderr %q; want 2", code, stderr.String())
	}
}

func TestCloseCutsAStuckRequestAtTheShutdownBudget(t *testing.T) {
	old := shutdownBudget
	shutdownBudget = 300 * time.Millisecond
	defer func() { shutdownBudget = old }()
	key, _ := crypto.GenerateMasterKey()
	srv := MustRunMain(t, t.TempDir(), key, io.Discard)
	conn, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A client that promises a body and never sends it holds its request
	// open until the 20 s read timeout: the stop must not wait for it.
	fmt.Fprintf(conn, "POST /twilio/sms HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
		"X-Twilio-Signature: %s\r\nContent-Length: 5000\r\n\r\nBody=", strings.Repeat("A", 27)+"=")
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	err = srv.Close()
	took := time.Since(start)
	if took > 10*time.Second {
		t.Fatalf("Close took %s with a stuck request, want it cut near the %s budget", took, shutdownBudget)
	}
	if err == nil || !strings.Contains(err.Error(), "public listener") {
		t.Errorf("Close() = %v, want the cut public request reported", err)
	}
	if _, err := srv.Store().Stats(); err == nil {
		t.Error("store still open after Close")
	}
}

func TestServeNamesTheFlagOfATakenPort(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	busy := taken.Addr().String()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--addr", busy}, "(addr): "},
		{[]string{"--addr", "127.0.0.1:0", "--internal-addr", busy}, "(internal_addr): "},
		{[]string{"--addr", "127.0.0.1:0", "--internal-addr", "127.0.0.1:0", "--console-addr", busy}, "(console_addr): "},
	} {
		flagName := tc.args[len(tc.args)-2]
		var stdout, stderr bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		args := append([]string{"serve", "--dev", "--data", t.TempDir()}, tc.args...)
		code := run(ctx, args, nil, &stdout, &stderr, func(string) string { return "" })
		cancel()
		if code == 0 || !strings.Contains(stderr.String(), "listen on "+busy+" "+tc.want) ||
			!strings.Contains(stderr.String(), "choose another address with "+flagName+" ") {
			t.Errorf("%s taken: exit %d, stderr %q; want an error naming %s", flagName, code, stderr.String(), flagName)
		}
	}
}
