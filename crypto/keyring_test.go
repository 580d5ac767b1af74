package crypto_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/hotline-az/hotline/crypto"
)

func TestKeyringMarshalRoundTrip(t *testing.T) {
	master, _ := crypto.GenerateMasterKey()
	k := MustNewKeyring(t)
	v1 := MustSeal(t, k, "tips", "1", []byte("one"))
	if _, err := k.Rotate(); err != nil {
		t.Fatal(err)
	}
	v2 := MustSeal(t, k, "tips", "2", []byte("two"))

	blob, err := k.Marshal(master)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	got, err := crypto.UnmarshalKeyring(master, blob)
	if err != nil {
		t.Fatalf("UnmarshalKeyring: %v", err)
	}
	if got.Primary() != 2 || fmt.Sprint(got.Versions()) != "[1 2]" {
		t.Errorf("Primary, Versions = %d, %v; want 2, [1 2]", got.Primary(), got.Versions())
	}
	for _, c := range []struct {
		key  string
		env  []byte
		want string
	}{{"1", v1, "one"}, {"2", v2, "two"}} {
		if pt, err := got.Open("tips", c.key, c.env); err != nil || string(pt) != c.want {
			t.Errorf("Open(%s) after round trip = %q, %v; want %q, nil", c.key, pt, err, c.want)
		}
	}
	if a, b := k.Index(crypto.DomainPhone, "+994501234567"), got.Index(crypto.DomainPhone, "+994501234567"); a != b {
		t.Errorf("Index after round trip = %s, want %s", b, a)
	}
	// The master key can change without touching records.
	newMaster, _ := crypto.GenerateMasterKey()
	blob2, err := got.Marshal(newMaster)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := crypto.UnmarshalKeyring(newMaster, blob2); err != nil {
		t.Errorf("UnmarshalKeyring under new master: %v", err)
	} else if pt, err := again.Open("tips", "1", v1); err != nil || string(pt) != "one" {
		t.Errorf("Open after master change = %q, %v; want %q, nil", pt, err, "one")
	}
	if b2, _ := k.Marshal(master); bytes.Equal(b2, blob) {
		t.Errorf("two Marshal calls gave the same blob; want fresh nonces")
	}
}

func TestUnmarshalKeyringErrors(t *testing.T) {
	master, _ := crypto.GenerateMasterKey()
	wrong, _ := crypto.GenerateMasterKey()
	blob, err := MustNewKeyring(t).Marshal(master)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		master crypto.MasterKey
		blob   []byte
		want   error
	}{
		{"wrong master key", wrong, blob, crypto.ErrWrongMasterKey},
		{"flipped nonce", master, flip(blob, 1), crypto.ErrWrongMasterKey},
		{"flipped ciphertext", master, flip(blob, 30), crypto.ErrWrongMasterKey},
		{"flipped tag", master, flip(blob, len(blob)-1), crypto.ErrWrongMasterKey},
		{"truncated by one", master, blob[:len(blob)-1], crypto.ErrWrongMasterKey},
		{"format byte", master, flip(blob, 0), crypto.ErrMalformed},
		{"too short", master, blob[:20], crypto.ErrMalformed},
		{"empty", master, nil, crypto.ErrMalformed},
		{"an envelope", master, MustSeal(t, MustNewKeyring(t), "b", "k", make([]byte, 64)), crypto.ErrWrongMasterKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := crypto.UnmarshalKeyring(tt.master, tt.blob)
			if !errors.Is(err, tt.want) || k != nil {
				t.Errorf("UnmarshalKeyring = %v, %v; want nil, %v", k, err, tt.want)
			}
		})
	}
	if _, err := crypto.UnmarshalKeyring(crypto.MasterKey{}, blob); err == nil {
		t.Errorf("UnmarshalKeyring with zero master key: error = nil, want one")
	}
	if _, err := MustNewKeyring(t).Marshal(crypto.MasterKey{}); err == nil {
		t.Errorf("Marshal with zero master key: error = nil, want one")
	}
}

func TestIndex(t *testing.T) {
	k := MustFixedKeyring(t, 1)
	other := MustNewKeyring(t)
	const phone = "+994501234567"
	h := k.Index(crypto.DomainPhone, phone)
	tests := []struct {
		name          string
		got           crypto.IndexHash
		wantSameAsRef bool
	}{
		{"same domain and value", k.Index(crypto.DomainPhone, phone), true},
		{"other value", k.Index(crypto.DomainPhone, "+994501234568"), false},
		{"other domain", k.Index(crypto.DomainTwilioSID, phone), false},
		{"other keyring", other.Index(crypto.DomainPhone, phone), false},
		{"domain/value boundary moved", k.Index(crypto.DomainPhone+"+", phone[1:]), false},
		{"after rotation", func() crypto.IndexHash { k.Rotate(); return k.Index(crypto.DomainPhone, phone) }(), true},
	}
	for _, tt := range tests {
		if got := tt.got == h; got != tt.wantSameAsRef {
			t.Errorf("%s: hash %s, reference %s; equal = %v, want %v", tt.name, tt.got, h, got, tt.wantSameAsRef)
		}
	}
	s := h.String()
	if len(s) != 64 || s != fmt.Sprintf("%x", h[:]) {
		t.Errorf("String = %q, want 64 hex digits of %x", s, h[:])
	}
	// Pin the construction (HMAC-SHA256 over a 4-byte length, domain,
	// value) so a silent change, which would orphan every stored hash,
	// fails here. Computed independently with openssl:
	//   printf '\0\0\0\5phone+994501234567' | openssl dgst -sha256 -mac HMAC -macopt hexkey:33..33
	if want := pinnedPhoneHash; s != want {
		t.Errorf("Index(phone, %s) = %s, want %s", phone, s, want)
	}
}

const pinnedPhoneHash = "44049a3fd673e294fc18220e5c8cbce5588c3e3c41033b6c3f650e2e42d79720"

func TestMarshalEmptyKeyring(t *testing.T) {
	master, _ := crypto.GenerateMasterKey()
	if _, err := new(crypto.Keyring).Marshal(master); err == nil {
		t.Errorf("Marshal of a zero Keyring: error = nil, want one")
	}
}
