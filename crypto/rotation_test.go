package crypto_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/hotline-az/hotline/crypto"
)

func TestMinDecryptArchivesOldVersionsReversiblyAndPersists(t *testing.T) {
	master, _ := crypto.GenerateMasterKey()
	k := MustNewKeyring(t)
	old := MustSeal(t, k, "tips", "1", []byte("one"))
	if _, err := k.Rotate(); err != nil {
		t.Fatal(err)
	}
	if err := k.SetMinDecrypt(2); err != nil {
		t.Fatalf("SetMinDecrypt(2): %v", err)
	}
	if _, err := k.Open("tips", "1", old); !errors.Is(err, crypto.ErrArchivedVersion) {
		t.Errorf("Open of a v1 envelope with min-decrypt 2: err = %v, want ErrArchivedVersion", err)
	}
	if _, err := k.Rewrap("tips", "1", old); !errors.Is(err, crypto.ErrArchivedVersion) {
		t.Errorf("Rewrap of a v1 envelope with min-decrypt 2: err = %v, want ErrArchivedVersion", err)
	}
	blob, err := k.Marshal(master)
	if err != nil {
		t.Fatal(err)
	}
	got, err := crypto.UnmarshalKeyring(master, blob)
	if err != nil {
		t.Fatalf("UnmarshalKeyring: %v", err)
	}
	if got.MinDecrypt() != 2 || got.Primary() != 2 {
		t.Errorf("after round trip MinDecrypt, Primary = %d, %d; want 2, 2", got.MinDecrypt(), got.Primary())
	}
	if err := got.SetMinDecrypt(1); err != nil {
		t.Fatal(err)
	}
	if pt, err := got.Open("tips", "1", old); err != nil || string(pt) != "one" {
		t.Errorf("Open after lowering min-decrypt = %q, %v; want one", pt, err)
	}
	for _, v := range []uint32{0, 3} {
		if err := got.SetMinDecrypt(v); err == nil {
			t.Errorf("SetMinDecrypt(%d) with primary 2 succeeded", v)
		}
	}
}

func TestRetireDestroysAVersionButNotThePrimary(t *testing.T) {
	k := MustNewKeyring(t)
	old := MustSeal(t, k, "tips", "1", []byte("one"))
	if err := k.Retire(1); err == nil {
		t.Fatal("Retire of the primary succeeded")
	}
	if _, err := k.Rotate(); err != nil {
		t.Fatal(err)
	}
	if err := k.Retire(1); err != nil {
		t.Fatalf("Retire(1): %v", err)
	}
	if fmt.Sprint(k.Versions()) != "[2]" {
		t.Errorf("Versions = %v, want [2]", k.Versions())
	}
	if _, err := k.Open("tips", "1", old); !errors.Is(err, crypto.ErrUnknownVersion) {
		t.Errorf("Open under a retired version: err = %v, want ErrUnknownVersion", err)
	}
	if err := k.Retire(1); !errors.Is(err, crypto.ErrUnknownVersion) {
		t.Errorf("Retire twice: err = %v, want ErrUnknownVersion", err)
	}
}
