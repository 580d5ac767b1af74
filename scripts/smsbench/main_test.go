package main

import (
	"os"
	"testing"
)

// TestMain lets the test binary stand in for smsbench when smsbench starts
// itself as the baseline process (os.Executable is the test binary here).
func TestMain(m *testing.M) {
	if path := os.Getenv(baselineServerEnv); path != "" {
		os.Exit(serveBaseline(path))
	}
	os.Exit(m.Run())
}
