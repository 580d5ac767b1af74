package crypto_test

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/hotline-az/hotline/crypto"
)

func TestSealOpenRoundTrip(t *testing.T) {
	big := make([]byte, 64*1024)
	rand.Read(big)
	tests := []struct {
		name      string
		plaintext []byte
	}{
		{"empty", nil},
		{"small", []byte("help")},
		{"64KiB", big},
		{"russian cyrillic", []byte("Помогите, у меня забрали паспорт, я в Баку")},
		{"azerbaijani cyrillic", []byte("Көмәк един, мәни бурада сахлајырлар")},
		{"azerbaijani latin", []byte("Kömək edin, məni burada saxlayırlar. Şəki, ğ ı ö ü ç")},
	}
	k := MustNewKeyring(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := MustSeal(t, k, "messages", "case-42/1", tt.plaintext)
			if got, want := len(env), overhead+len(tt.plaintext); got != want {
				t.Errorf("len(envelope) = %d, want %d", got, want)
			}
			if v, err := crypto.EnvelopeVersion(env); err != nil || v != 1 {
				t.Errorf("EnvelopeVersion = %d, %v; want 1, nil", v, err)
			}
			got, err := k.Open("messages", "case-42/1", env)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if !bytes.Equal(got, tt.plaintext) {
				t.Errorf("Open = %q, want %q", trim(got), trim(tt.plaintext))
			}
			if len(tt.plaintext) > 0 && bytes.Contains(env, tt.plaintext) {
				t.Errorf("envelope contains the plaintext")
			}
		})
	}
}

func TestSealIsRandomised(t *testing.T) {
	k := MustNewKeyring(t)
	a := MustSeal(t, k, "b", "k", []byte("same"))
	b := MustSeal(t, k, "b", "k", []byte("same"))
	if bytes.Equal(a, b) {
		t.Fatalf("two Seals of the same plaintext are equal: %x", a)
	}
	if bytes.Equal(a[offWrapped:offBodyNonce], b[offWrapped:offBodyNonce]) {
		t.Errorf("two Seals share a wrapped DEK")
	}
}

func TestOpenFailures(t *testing.T) {
	// v1 and v2 share the same KEK bytes, so relabelling an envelope from
	// v1 to v2 can only fail because the version is in the additional data.
	same := fill(0x44)
	k, err := crypto.NewKeyringForTest(1, map[uint32][32]byte{1: same, 2: same}, fill(0x55))
	if err != nil {
		t.Fatal(err)
	}
	const bucket, key = "tips", "1"
	env := MustSeal(t, k, bucket, key, []byte("they took my passport"))
	setVersion := func(v uint32) []byte {
		c := bytes.Clone(env)
		binary.BigEndian.PutUint32(c[offVersion:], v)
		return c
	}
	other := MustSeal(t, MustNewKeyring(t), bucket, key, []byte("they took my passport"))

	tests := []struct {
		name        string
		bucket, key string
		envelope    []byte
		want        error
	}{
		{"format byte", bucket, key, flip(env, 0), crypto.ErrMalformed},
		{"version to existing v2", bucket, key, setVersion(2), crypto.ErrDecrypt},
		{"version to unknown v9", bucket, key, setVersion(9), crypto.ErrUnknownVersion},
		{"version to 0", bucket, key, setVersion(0), crypto.ErrUnknownVersion},
		{"wrap nonce", bucket, key, flip(env, offWrapNonce), crypto.ErrDecrypt},
		{"wrapped DEK", bucket, key, flip(env, offWrapped), crypto.ErrDecrypt},
		{"wrapped DEK tag", bucket, key, flip(env, offBodyNonce-1), crypto.ErrDecrypt},
		{"body nonce", bucket, key, flip(env, offBodyNonce), crypto.ErrDecrypt},
		{"body ciphertext", bucket, key, flip(env, offBody), crypto.ErrDecrypt},
		{"body tag", bucket, key, flip(env, len(env)-1), crypto.ErrDecrypt},
		{"wrong bucket", "notes", key, env, crypto.ErrDecrypt},
		{"wrong key", bucket, "2", env, crypto.ErrDecrypt},
		{"bucket/key boundary moved", "tip", "s1", env, crypto.ErrDecrypt},
		{"bucket and key swapped", key, bucket, env, crypto.ErrDecrypt},
		{"other keyring", bucket, key, other, crypto.ErrDecrypt},
		{"truncated by one", bucket, key, env[:len(env)-1], crypto.ErrDecrypt},
		{"truncated to body", bucket, key, env[:offBody], crypto.ErrMalformed},
		{"truncated below minimum", bucket, key, env[:overhead-1], crypto.ErrMalformed},
		{"truncated to header", bucket, key, env[:offWrapNonce], crypto.ErrMalformed},
		{"empty", bucket, key, []byte{}, crypto.ErrMalformed},
		{"nil", bucket, key, nil, crypto.ErrMalformed},
		{"extended by one", bucket, key, append(bytes.Clone(env), 0), crypto.ErrDecrypt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := k.Open(tt.bucket, tt.key, tt.envelope)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open error = %v, want %v", err, tt.want)
			}
			if got != nil {
				t.Errorf("Open returned %q with an error, want nil", got)
			}
		})
	}
}

// TestOpenEveryByteFlipped flips each byte of an envelope in turn: every
// byte is authenticated, so each flip must fail with its region's error.
func TestOpenEveryByteFlipped(t *testing.T) {
	k := MustNewKeyring(t)
	env := MustSeal(t, k, "tips", "7", []byte("short tip"))
	for i := range env {
		want := crypto.ErrDecrypt
		switch {
		case i == 0:
			want = crypto.ErrMalformed
		case i < offWrapNonce:
			want = crypto.ErrUnknownVersion
		}
		if _, err := k.Open("tips", "7", flip(env, i)); !errors.Is(err, want) {
			t.Errorf("byte %d flipped: Open error = %v, want %v", i, err, want)
		}
	}
}

func TestEnvelopeVersion(t *testing.T) {
	k := MustFixedKeyring(t, 2)
	env := MustSeal(t, k, "b", "k", []byte("x"))
	tests := []struct {
		name     string
		envelope []byte
		want     uint32
		wantErr  error
	}{
		{"valid", env, 2, nil},
		{"short", env[:overhead-1], 0, crypto.ErrMalformed},
		{"bad format", flip(env, 0), 0, crypto.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := crypto.EnvelopeVersion(tt.envelope)
			if got != tt.want || !errors.Is(err, tt.wantErr) {
				t.Errorf("EnvelopeVersion = %d, %v; want %d, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestRotate(t *testing.T) {
	k := MustNewKeyring(t)
	old := MustSeal(t, k, "tips", "1", []byte("before rotation"))
	v, err := k.Rotate()
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	if v != 2 || k.Primary() != 2 {
		t.Errorf("Rotate = %d, Primary = %d; want 2, 2", v, k.Primary())
	}
	if got, want := fmt.Sprint(k.Versions()), "[1 2]"; got != want {
		t.Errorf("Versions = %s, want %s", got, want)
	}
	if got, err := k.Open("tips", "1", old); err != nil || string(got) != "before rotation" {
		t.Errorf("Open(old) = %q, %v; want %q, nil", got, err, "before rotation")
	}
	env := MustSeal(t, k, "tips", "2", []byte("after rotation"))
	if v, _ := crypto.EnvelopeVersion(env); v != 2 {
		t.Errorf("new envelope version = %d, want 2", v)
	}
	if got, err := k.Open("tips", "2", env); err != nil || string(got) != "after rotation" {
		t.Errorf("Open(new) = %q, %v; want %q, nil", got, err, "after rotation")
	}
	if v, _ := k.Rotate(); v != 3 {
		t.Errorf("second Rotate = %d, want 3", v)
	}
}

func TestRewrap(t *testing.T) {
	k := MustNewKeyring(t)
	plain := []byte("Məni Gəncədə saxlayırlar")
	env := MustSeal(t, k, "messages", "9", plain)
	if _, err := k.Rotate(); err != nil {
		t.Fatal(err)
	}
	re, err := k.Rewrap("messages", "9", env)
	if err != nil {
		t.Fatalf("Rewrap: %v", err)
	}
	if v, _ := crypto.EnvelopeVersion(re); v != 2 {
		t.Errorf("rewrapped version = %d, want 2", v)
	}
	if !bytes.Equal(re[offBodyNonce:], env[offBodyNonce:]) {
		t.Errorf("body changed by Rewrap:\n got %x\nwant %x", re[offBodyNonce:], env[offBodyNonce:])
	}
	if bytes.Equal(re[offWrapped:offBodyNonce], env[offWrapped:offBodyNonce]) {
		t.Errorf("wrapped DEK unchanged by Rewrap")
	}
	for name, e := range map[string][]byte{"rewrapped": re, "original": env} {
		if got, err := k.Open("messages", "9", e); err != nil || !bytes.Equal(got, plain) {
			t.Errorf("Open(%s) = %q, %v; want %q, nil", name, got, err, plain)
		}
	}
	// Rewrap checks the DEK wrap, so moved or relabelled envelopes fail.
	if _, err := k.Rewrap("messages", "10", env); !errors.Is(err, crypto.ErrDecrypt) {
		t.Errorf("Rewrap with wrong key: error = %v, want %v", err, crypto.ErrDecrypt)
	}
	if _, err := k.Rewrap("messages", "9", flip(env, offWrapped)); !errors.Is(err, crypto.ErrDecrypt) {
		t.Errorf("Rewrap of tampered DEK: error = %v, want %v", err, crypto.ErrDecrypt)
	}
	if _, err := k.Rewrap("messages", "9", env[:overhead-1]); !errors.Is(err, crypto.ErrMalformed) {
		t.Errorf("Rewrap of short input: error = %v, want %v", err, crypto.ErrMalformed)
	}
	// It never reads the body, so a tampered body survives Rewrap and is
	// caught by Open.
	bad, err := k.Rewrap("messages", "9", flip(env, offBody))
	if err != nil {
		t.Fatalf("Rewrap of tampered body: %v", err)
	}
	if _, err := k.Open("messages", "9", bad); !errors.Is(err, crypto.ErrDecrypt) {
		t.Errorf("Open of rewrapped tampered body: error = %v, want %v", err, crypto.ErrDecrypt)
	}
}

func TestConcurrentUse(t *testing.T) {
	k := MustNewKeyring(t)
	done := make(chan error)
	for i := range 8 {
		go func() {
			var err error
			for j := range 50 {
				if i == 0 && j%10 == 0 {
					if _, err = k.Rotate(); err != nil {
						break
					}
				}
				key := fmt.Sprint(i, "/", j)
				env, err2 := k.Seal("b", key, []byte(key))
				if err = err2; err != nil {
					break
				}
				var got []byte
				if got, err = k.Open("b", key, env); err == nil && string(got) != key {
					err = fmt.Errorf("Open = %q, want %q", got, key)
				}
				if err != nil {
					break
				}
			}
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// trim shortens long values in failure messages.
func trim(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}

func BenchmarkSeal160(b *testing.B) {
	k := MustNewKeyring(b)
	plain := bytes.Repeat([]byte("x"), 160)
	b.ReportAllocs()
	b.SetBytes(int64(len(plain)))
	for b.Loop() {
		if _, err := k.Seal("messages", "0001975f-3c1e-7a9b", plain); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen160(b *testing.B) {
	k := MustNewKeyring(b)
	env := MustSeal(b, k, "messages", "0001975f-3c1e-7a9b", bytes.Repeat([]byte("x"), 160))
	b.ReportAllocs()
	b.SetBytes(160)
	for b.Loop() {
		if _, err := k.Open("messages", "0001975f-3c1e-7a9b", env); err != nil {
			b.Fatal(err)
		}
	}
}
