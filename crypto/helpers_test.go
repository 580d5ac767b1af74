package crypto_test

import (
	"bytes"
	"testing"

	"github.com/hotline-az/hotline/crypto"
)

// Envelope layout as documented in envelope.go; the tests hard-code it so
// that a change to the format shows up as a test failure.
const (
	offVersion   = 1
	offWrapNonce = 5
	offWrapped   = 29
	offBodyNonce = 77
	offBody      = 101
	overhead     = 117
)

// MustNewKeyring returns a fresh random keyring or fails the test.
func MustNewKeyring(tb testing.TB) *crypto.Keyring {
	tb.Helper()
	k, err := crypto.NewKeyring()
	if err != nil {
		tb.Fatalf("NewKeyring: %v", err)
	}
	return k
}

// fill returns a 32-byte array of b, for readable fixed keys.
func fill(b byte) [32]byte {
	var a [32]byte
	copy(a[:], bytes.Repeat([]byte{b}, 32))
	return a
}

// MustFixedKeyring returns a keyring with known keys: KEK v1 = 0x11...,
// v2 = 0x22..., index key = 0x33..., and primary as given.
func MustFixedKeyring(tb testing.TB, primary uint32) *crypto.Keyring {
	tb.Helper()
	k, err := crypto.NewKeyringForTest(primary, map[uint32][32]byte{1: fill(0x11), 2: fill(0x22)}, fill(0x33))
	if err != nil {
		tb.Fatalf("NewKeyringForTest: %v", err)
	}
	return k
}

// MustSeal seals or fails the test.
func MustSeal(tb testing.TB, k *crypto.Keyring, bucket, key string, plaintext []byte) []byte {
	tb.Helper()
	env, err := k.Seal(bucket, key, plaintext)
	if err != nil {
		tb.Fatalf("Seal(%q, %q): %v", bucket, key, err)
	}
	return env
}

// flip returns a copy of b with byte i inverted.
func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0xff
	return c
}
