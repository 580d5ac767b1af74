package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// mustBuildStub builds testdata/stubhotline, which keeps cmd/hotline's
// contract with smsbench, and returns the binary's path.
func mustBuildStub(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "stubhotline")
	out, err := exec.Command("go", "build", "-o", bin, "./testdata/stubhotline").CombinedOutput()
	if err != nil {
		tb.Fatalf("building the stub: %v\n%s", err, out)
	}
	return bin
}

// hotlineLog returns the log of the one run kept under dir.
func hotlineLog(tb testing.TB, dir string) string {
	tb.Helper()
	logs, _ := filepath.Glob(filepath.Join(dir, "smsbench-*", "hotline.log"))
	if len(logs) != 1 {
		tb.Fatalf("found logs %v under %s, want one", logs, dir)
	}
	b, err := os.ReadFile(logs[0])
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// TestBenchAgainstStubHotline runs the whole command against a started
// server: it must get ready, answer every signed webhook with 200, and be
// stopped with SIGTERM at the end, also when the run is cut short by
// --timeout.
func TestBenchAgainstStubHotline(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts a server")
	}
	bin := mustBuildStub(t)

	t.Run("complete", func(t *testing.T) {
		dir := t.TempDir()
		var out, errOut strings.Builder
		code := run([]string{"--bin", bin, "--concurrency", "1,8", "--count", "30", "--warmup", "5", "--json", "--keep", "--dir", dir}, &out, &errOut)
		if code != 0 {
			t.Fatalf("exit %d; stderr:\n%s", code, errOut.String())
		}
		for _, want := range []string{`"hotline": {`, `"throughput_ratio"`} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("JSON lacks %s:\n%s", want, out.String())
			}
		}
		if strings.Contains(out.String(), `"first_error"`) {
			t.Errorf("errors in the run:\n%s", out.String())
		}
		if !strings.Contains(errOut.String(), "PASS  no hotline errors") {
			t.Errorf("no PASS line for errors:\n%s", errOut.String())
		}
		if log := hotlineLog(t, dir); !strings.Contains(log, "stub hotline: stopped") {
			t.Errorf("server was not stopped cleanly; log:\n%s", log)
		}
	})

	t.Run("timeout", func(t *testing.T) {
		dir := t.TempDir()
		var out, errOut strings.Builder
		code := run([]string{"--bin", bin, "--concurrency", "1", "--count", "1000000", "--warmup", "0", "--timeout", "3s", "--keep", "--dir", dir}, &out, &errOut)
		if code != 1 {
			t.Errorf("exit %d after --timeout, want 1", code)
		}
		if !strings.Contains(errOut.String(), "--timeout 3s reached") || !strings.Contains(out.String(), "FAIL  every run complete") {
			t.Errorf("timeout not reported; stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
		}
		if log := hotlineLog(t, dir); !strings.Contains(log, "stub hotline: stopped") {
			t.Errorf("server was not stopped cleanly; log:\n%s", log)
		}
	})

	t.Run("server that never gets ready", func(t *testing.T) {
		var out, errOut strings.Builder
		code := run([]string{"--bin", "/bin/false", "--dir", t.TempDir()}, &out, &errOut)
		if code != 1 || !strings.Contains(errOut.String(), "exited before it was ready") {
			t.Errorf("exit %d, stderr %q; want 1 and the early exit", code, errOut.String())
		}
	})
}
