package crypto_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hotline-az/hotline/crypto"
)

// Real envelopes sealed once by MustFixedKeyring for seedBucket/seedKey;
// they are also in testdata/fuzz/FuzzOpen as valid-v1 and valid-v2.
const (
	seedBucket = "messages"
	seedKey    = "seed"
	seedPlain  = "Kömək edin! Помогите!"
	seedV1Hex  = "010000000155886b34f48b147178fb9f2a46c2b7f70666d292992187228f2e5f3141479b9c9c80eb7ee56838974255e166d93f83219406d1bfb112e2f31e2992556e06cf192e0a3c5bde35b519e14294581d50e17aece12da9251dc3492b03cad5b9741e3e0089cb44f5a666cc23cd8bc7071f6734e8587838fd2d67c00ff57bfc953278e99fa0ab938b27dee36083934adde486"
	seedV2Hex  = "0100000002d8e6704cbdc6483eddfc375dfd4b57c0c674009f3e82341cd0a5fe57ec6a1c3afbbc06df9f2fd7a86534c02239f60083cf73a9857cc477794639f5ccb549564e8dcfc592332074b3b2a674b61533dfcb59b0b485f8bc672905db3d421d2784a2aacc4907efb43ef869e401a6c11ae496aba78fa748db60fd59f72d6e64d1229dee1364ed4d22a2792fef196da74644"
)

func seedEnvelopes(tb testing.TB) [][]byte {
	tb.Helper()
	var out [][]byte
	for _, h := range []string{seedV1Hex, seedV2Hex} {
		b, err := hex.DecodeString(h)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// FuzzOpen feeds arbitrary bytes to the envelope decoder. It must never
// panic, must only return the sentinel errors, and must only open the real
// envelopes: anything else opening would be a forgery.
func FuzzOpen(f *testing.F) {
	k := MustFixedKeyring(f, 2)
	valid := seedEnvelopes(f)
	for _, v := range valid {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, env []byte) {
		in := bytes.Clone(env)
		pt, err := k.Open(seedBucket, seedKey, env)
		known := slices.ContainsFunc(valid, func(v []byte) bool { return bytes.Equal(v, env) })
		switch {
		case err == nil && !known:
			t.Fatalf("Open accepted bytes that no Seal produced: %x", env)
		case err == nil && string(pt) != seedPlain:
			t.Fatalf("Open = %q, want %q", pt, seedPlain)
		case err != nil && known:
			t.Fatalf("Open rejected a real envelope: %v", err)
		case err != nil && !errors.Is(err, crypto.ErrMalformed) && !errors.Is(err, crypto.ErrUnknownVersion) && !errors.Is(err, crypto.ErrDecrypt):
			t.Fatalf("Open error = %v, want one wrapping a sentinel", err)
		}
		if v, verr := crypto.EnvelopeVersion(env); verr == nil && v != binary.BigEndian.Uint32(env[1:5]) {
			t.Fatalf("EnvelopeVersion = %d, want %d", v, binary.BigEndian.Uint32(env[1:5]))
		}
		// Rewrap succeeds only if the DEK wrap authenticates; the body is
		// untouched, so the result must open exactly when the input does.
		if re, rerr := k.Rewrap(seedBucket, seedKey, env); rerr == nil {
			pt2, err2 := k.Open(seedBucket, seedKey, re)
			if (err == nil) != (err2 == nil) || !bytes.Equal(pt, pt2) {
				t.Fatalf("Open after Rewrap = %q, %v; Open before = %q, %v", pt2, err2, pt, err)
			}
			if !bytes.Equal(re[offBodyNonce:], env[offBodyNonce:]) {
				t.Fatalf("Rewrap changed the body")
			}
		}
		if !bytes.Equal(in, env) {
			t.Fatalf("input modified")
		}
	})
}

// TestFuzzSeedCorpus checks the committed seed files still parse and that
// the valid ones still open, so a format change cannot silently turn the
// corpus into noise.
func TestFuzzSeedCorpus(t *testing.T) {
	k := MustFixedKeyring(t, 2)
	valid := seedEnvelopes(t)
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzOpen", "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no seed corpus: %v", err)
	}
	opened := 0
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		if len(lines) != 2 || lines[0] != "go test fuzz v1" || !strings.HasPrefix(lines[1], "[]byte(") || !strings.HasSuffix(lines[1], ")") {
			t.Fatalf("%s: not a one-value go test fuzz v1 file", path)
		}
		s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		env := []byte(s)
		pt, err := k.Open(seedBucket, seedKey, env)
		isValid := slices.ContainsFunc(valid, func(v []byte) bool { return bytes.Equal(v, env) })
		if isValid != (err == nil) {
			t.Errorf("%s: Open = %q, %v; valid seed = %v", path, pt, err, isValid)
		}
		if err == nil {
			opened++
		}
	}
	if opened != len(valid) {
		t.Errorf("%d seed files open, want %d (one per valid envelope)", opened, len(valid))
	}
}
