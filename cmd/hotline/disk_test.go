package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/crypto"
	"github.com/hotline-az/hotline/store"
)

// diskFixture is a data directory with tips in it, closed, and the master
// key file that opens it (kept outside the directory).
type diskFixture struct {
	dir, keyFile string
	key          crypto.MasterKey
}

func newDiskFixture(t *testing.T, tips int) diskFixture {
	t.Helper()
	f := diskFixture{dir: t.TempDir(), keyFile: filepath.Join(t.TempDir(), "master.key")}
	var err error
	if f.key, err = crypto.GenerateMasterKey(); err != nil {
		t.Fatal(err)
	}
	if err := f.key.WriteFile(f.keyFile); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(f.dir, store.MasterKeySource{Key: &f.key}, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Repeat("Pomogite, nas derzhat na sklade. ", 10)
	for i := range tips {
		_, err := st.RecordInboundSMS(context.Background(), store.InboundSMS{
			MessageSID: fmt.Sprintf("SM%032x", i), From: fmt.Sprintf("+99450%07d", i/3), Body: body, Window: time.Hour,
			Triage: hotline.Triage{Priority: hotline.P2, Lang: hotline.LangRu},
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f diskFixture) path() string { return filepath.Join(f.dir, store.FileName) }

// env is what `hotline serve` needs besides the data.
func (f diskFixture) env(keyFile string) []string {
	return append(os.Environ(),
		"HOTLINE_DATA_DIR="+f.dir, "HOTLINE_MASTER_KEY_FILE="+keyFile, "HOTLINE_ADDR=127.0.0.1:0",
		"HOTLINE_PUBLIC_URL=https://hotline.example.az", "TWILIO_ACCOUNT_SID=AC"+strings.Repeat("a", 32),
		"TWILIO_AUTH_TOKEN="+testToken, "TWILIO_PHONE_NUMBER=+994125550000")
}

// runBinary runs the built hotline and returns its exit code and output.
// A command that does not exit within a minute (a server that started
// after all) fails the test.
func runBinary(t *testing.T, bin string, env []string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("hotline %s did not exit within a minute\nstderr: %s", strings.Join(args, " "), stderr.String())
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

// leafPageOffset finds the first leaf page under a bucket's root in the
// file's raw bytes (bbolt's layout: a 16-byte page header of id, flags,
// count, overflow; branch elements of 16 bytes ending in a page id).
func leafPageOffset(t *testing.T, path, bucket string) int64 {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	pageSize := int64(db.Info().PageSize)
	var id uint64
	db.View(func(tx *bolt.Tx) error { id = uint64(tx.Bucket([]byte(bucket)).Root()); return nil })
	db.Close()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for id != 0 {
		off := int64(id) * pageSize
		switch binary.LittleEndian.Uint16(raw[off+8:]) {
		case 0x02:
			return off
		case 0x01:
			id = binary.LittleEndian.Uint64(raw[off+24:])
		default:
			t.Fatalf("page %d is neither branch nor leaf", id)
		}
	}
	t.Fatalf("bucket %s is inline: write more tips", bucket)
	return 0
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDamagedFileStopsCleanly damages copies of a real data file the two
// ways seen in the field, one flipped byte in a leaf page and a copy cut
// short, and runs the real binary on each: serve, stats and check all say
// the file is damaged, exit 1, never panic, and change nothing.
func TestDamagedFileStopsCleanly(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	sound := newDiskFixture(t, 300)
	soundBytes := mustRead(t, sound.path())
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, path string)
		// serve reads the buckets that grow with tips only at their ends
		// at start (its start time must not grow with the file); stats
		// and check read them all.
		serveSees bool
	}{
		{"flipped leaf page in cases", func(t *testing.T, path string) {
			raw := mustRead(t, path)
			raw[leafPageOffset(t, path, "cases")+8] ^= 0xff
			os.WriteFile(path, raw, 0o600)
		}, true},
		{"flipped leaf page in messages", func(t *testing.T, path string) {
			raw := mustRead(t, path)
			raw[leafPageOffset(t, path, "messages")+8] ^= 0xff
			os.WriteFile(path, raw, 0o600)
		}, false},
		{"truncated copy", func(t *testing.T, path string) {
			os.Truncate(path, int64(len(soundBytes))/2)
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := sound
			f.dir = t.TempDir()
			if err := os.WriteFile(f.path(), soundBytes, 0o600); err != nil {
				t.Fatal(err)
			}
			tc.damage(t, f.path())
			damaged := mustRead(t, f.path())
			if bytes.Equal(damaged, soundBytes) {
				t.Fatal("the damage changed nothing")
			}
			runs := [][]string{{"stats", "--data", f.dir}, {"check", "--data", f.dir}}
			if tc.serveSees {
				runs = append(runs, []string{"serve"})
			}
			for _, args := range runs {
				code, stdout, stderr := runBinary(t, bin, f.env(f.keyFile), args...)
				out := stdout + stderr
				if code != 1 {
					t.Errorf("hotline %s: exit %d, want 1\n%s", args[0], code, out)
				}
				for _, bad := range []string{"panic", "SIGSEGV", "SIGBUS", "goroutine "} {
					if strings.Contains(out, bad) {
						t.Errorf("hotline %s printed %q:\n%s", args[0], bad, out)
					}
				}
				want := "restore the last backup"
				if args[0] != "check" {
					want = "is damaged (" // and the detail, then "run `hotline check`, restore the last backup"
					if !strings.Contains(stderr, "run `hotline check`, restore the last backup") {
						t.Errorf("hotline %s: stderr lacks the advice:\n%s", args[0], stderr)
					}
				} else if !strings.Contains(stdout, "structure: 1 problem") {
					t.Errorf("hotline check: stdout does not name the problem:\n%s", stdout)
				}
				if !strings.Contains(stderr, want) {
					t.Errorf("hotline %s: stderr lacks %q:\n%s", args[0], want, stderr)
				}
				if !bytes.Equal(damaged, mustRead(t, f.path())) {
					t.Fatalf("hotline %s wrote to the damaged file", args[0])
				}
			}
		})
	}
}

func TestWrongKeyStartLeavesFileAlone(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	f := newDiskFixture(t, 10)
	before := mustRead(t, f.path())
	wrong, err := crypto.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	wrongFile := filepath.Join(t.TempDir(), "wrong.key")
	if err := wrong.WriteFile(wrongFile); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runBinary(t, bin, f.env(wrongFile), "serve")
	if code != 1 || !strings.Contains(stderr, "does not open this data file's keyring") {
		t.Fatalf("serve with a wrong key: exit %d, want 1 and the wrong-key message\n%s", code, stderr)
	}
	if !bytes.Equal(before, mustRead(t, f.path())) {
		t.Fatal("a start with the wrong master key changed the data file")
	}
}

func TestCheckCommand(t *testing.T) {
	f := newDiskFixture(t, 30)
	cfgFile := filepath.Join(t.TempDir(), "hotline.toml")
	if err := os.WriteFile(cfgFile, []byte(fmt.Sprintf("master_key_file = %q\n", f.keyFile)), 0o600); err != nil {
		t.Fatal(err)
	}
	before := mustRead(t, f.path())
	code, stdout, stderr := runCLI(t, "check", "--data", f.dir, "--config", cfgFile)
	if code != 0 || !strings.Contains(stdout, "structure: ok") ||
		!strings.Contains(stdout, "cases 10,") || !strings.Contains(stdout, "messages 30,") || !strings.Contains(stdout, "), 0 failed") ||
		!strings.HasSuffix(stdout, "ok\n") {
		t.Fatalf("check of a sound file: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if !bytes.Equal(before, mustRead(t, f.path())) {
		t.Fatal("check wrote to the file")
	}
	if code, _, stderr := runCLI(t, "check", "--data", f.dir); code != 2 || !strings.Contains(stderr, "needs the master key") {
		t.Fatalf("check without a key: exit %d, want 2 naming the key\n%s", code, stderr)
	}
	if code, _, stderr := runCLI(t, "check"); code != 2 || !strings.Contains(stderr, "--data is required") {
		t.Fatalf("check without --data: exit %d, want 2 naming --data\n%s", code, stderr)
	}
	// While a process holds the file, check says so instead of waiting.
	st, err := store.Open(f.dir, store.MasterKeySource{Key: &f.key}, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if code, _, stderr := runCLI(t, "check", "--data", f.dir, "--config", cfgFile); code != 1 || !strings.Contains(stderr, "stop it first") {
		t.Fatalf("check of a file in use: exit %d, want 1 saying to stop the server\n%s", code, stderr)
	}
}

// TestReadyzFailsWhileWritesFail runs a server in a child process whose
// file size is capped (RLIMIT_FSIZE, process-wide): the kernel refuses to
// grow the data file as on a full disk. Once a tip is refused, /readyz
// must fail, and stay failed until a tip is stored again.
func TestReadyzFailsWhileWritesFail(t *testing.T) {
	if dir := os.Getenv("HOTLINE_TEST_FSIZE_CHILD"); dir != "" {
		readyzChild(t, dir)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestReadyzFailsWhileWritesFail$", "-test.v")
	cmd.Env = append(os.Environ(), "HOTLINE_TEST_FSIZE_CHILD="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestReadyzFailsWhileWritesFail") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

func readyzChild(t *testing.T, dir string) {
	key, err := crypto.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	srv := MustRunMain(t, dir, key, io.Discard)
	defer srv.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.InternalURL + path) // /readyz and /metrics are internal
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	body := strings.Repeat("Kömək edin. ", 50)
	tip := func(i int) int {
		code, _ := srv.sendSMS(t, fmt.Sprintf("SM%032x", i), fmt.Sprintf("+99450%07d", i), body)
		return code
	}
	if code := tip(0); code != 200 {
		t.Fatalf("first tip: %d", code)
	}
	if code, _ := get("/readyz"); code != 200 {
		t.Fatalf("/readyz before: %d", code)
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
	refused, i := false, 1
	for ; i < 3000 && !refused; i++ {
		switch code := tip(i); code {
		case 200:
		case 503:
			refused = true
		default:
			t.Fatalf("tip %d under the cap: %d, want 200 or 503", i, code)
		}
	}
	if !refused {
		t.Fatal("no tip was refused with the file size capped")
	}
	for range 3 { // the probe's own write must not make it ready again
		if code, _ := get("/readyz"); code != 503 {
			t.Fatalf("/readyz after a refused tip: %d, want 503", code)
		}
	}
	if _, metrics := get("/metrics"); !strings.Contains(metrics, "hotline_store_write_failing 1") ||
		strings.Contains(metrics, "hotline_store_write_failures_total 0\n") {
		t.Fatalf("/metrics while writes fail lacks the failure:\n%s", metrics)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	if code := tip(i + 1); code != 200 {
		t.Fatalf("a tip after the cap was lifted: %d", code)
	}
	if code, _ := get("/readyz"); code != 200 {
		t.Fatalf("/readyz after a tip was stored again: %d, want 200", code)
	}
}
