package main

import (
	"bytes"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestForgedFormShape(t *testing.T) {
	for _, n := range []int{100, 9900} {
		body := forgedForm(n, 55_000)
		form, err := url.ParseQuery(string(body))
		if err != nil {
			t.Fatalf("%d fields: the forged form does not parse: %v", n, err)
		}
		if len(form) != n {
			t.Errorf("%d fields: got %d", n, len(form))
		}
		if len(body) < 50_000 || len(body) > 64<<10 {
			t.Errorf("%d fields: %d bytes, want about 55 KB and under the hotline's 64 KiB bound", n, len(body))
		}
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	if got := percentile(d, 50); got != 50*time.Millisecond {
		t.Errorf("p50: got %s", got)
	}
	if got := percentile(d, 99); got != 99*time.Millisecond {
		t.Errorf("p99: got %s", got)
	}
	if got := percentile(nil, 99); got != 0 {
		t.Errorf("p99 of nothing: got %s", got)
	}
}

func TestFlagErrorsNameTheFlag(t *testing.T) {
	for _, args := range [][]string{
		{"--phase", "10ms"}, {"--clients", "0"}, {"--tip-rate", "0"}, {"--rounds", "0"}, {"--flood-procs", "-1"}, {"extra"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
		if name := strings.TrimPrefix(args[0], "--"); !strings.Contains(stderr.String(), name) {
			t.Errorf("%v: stderr %q does not name %s", args, stderr.String(), name)
		}
	}
}
