package main

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBaselineProcess starts the baseline as a process of its own, sends it
// webhooks, reads its commit count over HTTP, stops it, and finds every body
// in its file.
func TestBaselineProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "baseline.db")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	base, err := startBaselineProcess(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		resp, err := http.Post(base.url+webhookPath, "application/x-www-form-urlencoded", strings.NewReader("Body=tip"+string(rune('0'+i))))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("POST %d: got %d", i, resp.StatusCode)
		}
	}
	if n, err := base.commits(); err != nil || n < 1 || n > 3 {
		t.Fatalf("commits: got %d, %v; want 1 to 3 for 3 sequential writes", n, err)
	}
	if err := base.stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(base.url + "/commits"); err == nil {
		t.Error("the baseline still answers after stop")
	}
	got := readAll(t, path)
	if len(got) != 3 || got[1] != "Body=tip0" || got[3] != "Body=tip2" {
		t.Fatalf("stored %v, want the 3 bodies in order", got)
	}
}
