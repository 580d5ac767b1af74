package main

import (
	"crypto/sha256"
	"os"
	"testing"
	"time"
)

func TestProcessCPUCountsThisProcess(t *testing.T) {
	before, ok := processCPU(os.Getpid())
	if !ok {
		t.Fatal("cannot read this process's CPU time from /proc")
	}
	sum := sha256.Sum256(nil)
	for start := time.Now(); time.Since(start) < 300*time.Millisecond; {
		sum = sha256.Sum256(sum[:])
	}
	after, _ := processCPU(os.Getpid())
	if after-before < 50*time.Millisecond {
		t.Fatalf("300ms of hashing added %s of CPU time, want at least 50ms", after-before)
	}
	if _, ok := processCPU(-1); ok {
		t.Error("processCPU(-1) reported a time")
	}
}
