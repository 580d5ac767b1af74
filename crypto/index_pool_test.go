package crypto_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"sync"
	"testing"

	"github.com/hotline-az/hotline/crypto"
)

// referenceIndex is Index's documented construction, computed afresh.
func referenceIndex(key [32]byte, domain, value string) crypto.IndexHash {
	mac := hmac.New(sha256.New, key[:])
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(domain)))
	mac.Write(n[:])
	mac.Write([]byte(domain))
	mac.Write([]byte(value))
	var h crypto.IndexHash
	mac.Sum(h[:0])
	return h
}

// TestIndexReusesStateWithoutMixingKeys: Index reuses pooled HMAC states,
// shared with Tag and across index versions; from many goroutines, with
// two versions in use during a move, every hash is still the one a fresh
// HMAC under the right key gives.
func TestIndexReusesStateWithoutMixingKeys(t *testing.T) {
	var index [32]byte
	for i := range index {
		index[i] = byte(i + 1)
	}
	k, err := crypto.NewKeyringForTest(1, map[uint32][32]byte{1: {9}}, index)
	if err != nil {
		t.Fatal(err)
	}
	phones := []string{"+994501234567", "+994551112233", "+447700900123"}
	want := map[string]crypto.IndexHash{}
	for _, p := range phones {
		want[p] = referenceIndex(index, crypto.DomainPhone, p)
		if got := k.Index(crypto.DomainPhone, p); got != want[p] {
			t.Fatalf("Index(phone) = %v, want HMAC-SHA256 under the index key", got)
		}
	}
	if _, err := k.RotateIndex(); err != nil {
		t.Fatal(err)
	}
	// The new version's key is not known here; its first hashes, taken
	// before any state is pooled for it, are the reference.
	fresh := map[string]crypto.IndexHash{}
	for _, p := range phones {
		fresh[p] = k.Index(crypto.DomainPhone, p)
		if fresh[p] == want[p] {
			t.Fatal("the hash did not change with the index version")
		}
	}
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				p := phones[(g+i)%len(phones)]
				c := k.IndexCandidates(crypto.DomainPhone, p)
				if len(c) != 2 || c[0] != fresh[p] || c[1] != want[p] {
					errs <- "IndexCandidates gave a hash under the wrong key"
					return
				}
				if k.Index("officer-name", p) != referenceIndex(index, "officer-name", p) {
					errs <- "a version 1 hash changed"
					return
				}
				k.Tag("record-mac v1", []byte(p))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

func BenchmarkIndex(b *testing.B) {
	k, err := crypto.NewKeyring()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		k.Index(crypto.DomainPhone, "+994501234567")
	}
}

func BenchmarkIndexFreshHMAC(b *testing.B) {
	var key [32]byte
	b.ReportAllocs()
	for b.Loop() {
		referenceIndex(key, crypto.DomainPhone, "+994501234567")
	}
}
