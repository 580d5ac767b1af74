package store

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestReadSafelyTurnsAFaultIntoDamage reads a mapped page after the file
// under it was cut short: the kernel's SIGBUS must become a damage error,
// not a crash of the process.
func TestReadSafelyTurnsAFaultIntoDamage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	page := os.Getpagesize()
	if err := os.WriteFile(path, make([]byte, 2*page), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data, err := syscall.Mmap(int(f.Fd()), 0, 2*page, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(data)
	if err := os.Truncate(path, int64(page)); err != nil {
		t.Fatal(err)
	}
	var sink byte
	err = readSafely(path, func() error {
		sink = data[page+1]
		return nil
	})
	if !errors.Is(err, ErrDamaged) {
		t.Fatalf("reading past the end of a truncated mapping: got %v (read %d), want ErrDamaged", err, sink)
	}
}
