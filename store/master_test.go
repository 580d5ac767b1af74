package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/hotline-az/hotline/crypto"
	"github.com/hotline-az/hotline/store"
)

func TestChangedMasterKeyOpensTheSameStore(t *testing.T) {
	dir, oldKey := t.TempDir(), testKey(t)
	ctx := context.Background()
	s := MustOpen(t, dir, oldKey, nil)
	codes := fillTips(t, s, 5)
	if _, err := s.RotateKey(ctx, cliAdmin); err != nil {
		t.Fatal(err)
	}
	newKey := testKey(t)
	if err := s.ChangeMaster(ctx, store.MasterKeySource{Key: &newKey}, store.Options{}, cliAdmin); err != nil {
		t.Fatalf("ChangeMaster: %v", err)
	}
	// The change persists through a later keyring change in the same run.
	if _, err := s.RotateKey(ctx, cliAdmin); err != nil {
		t.Fatal(err)
	}
	s.Close()

	if _, err := store.Open(dir, store.MasterKeySource{Key: &oldKey}, store.Options{Logger: zerolog.Nop()}); err == nil || !strings.Contains(err.Error(), "does not open") {
		t.Fatalf("open with the old master key: err = %v, want refused", err)
	}
	s = MustOpen(t, dir, newKey, nil)
	mustOpenAll(t, s, 10)
	if c, err := s.CaseByCode(codes[4]); err != nil || c.ReporterPhone != "+994500000004" {
		t.Errorf("CaseByCode under the new master = %q, %v", c.ReporterPhone, err)
	}
	if got := versionRecords(t, s); got[1] != 10 || len(got) != 3 {
		t.Errorf("versions after the change = %v, want v1:10 and v2, v3 kept", got)
	}

	// To a passphrase, and back to a key.
	pass := []byte("correct horse battery staple 42")
	kdf := crypto.KDFParams{Time: 1, MemoryKiB: 8 * 1024, Threads: 1, Salt: make([]byte, 16)}
	if err := s.ChangeMaster(ctx, store.MasterKeySource{Passphrase: pass}, store.Options{KDF: &kdf}, cliAdmin); err != nil {
		t.Fatalf("ChangeMaster to a passphrase: %v", err)
	}
	s.Close()
	if _, err := store.Open(dir, store.MasterKeySource{Key: &newKey}, store.Options{Logger: zerolog.Nop()}); err == nil {
		t.Fatal("the replaced key still opens the file")
	}
	s, err := store.Open(dir, store.MasterKeySource{Passphrase: pass}, store.Options{Logger: zerolog.Nop()})
	if err != nil {
		t.Fatalf("open with the new passphrase: %v", err)
	}
	mustOpenAll(t, s, 10)
	if err := s.ChangeMaster(ctx, store.MasterKeySource{Key: &oldKey}, store.Options{}, cliAdmin); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = MustOpen(t, dir, oldKey, nil)
	defer s.Close()
	mustOpenAll(t, s, 10)
	if got, want := auditActions(t, s), "keys.rotate:v2 keys.change_master: keys.rotate:v3 keys.change_master: keys.change_master:"; got != want {
		t.Errorf("audit = %q, want %q", got, want)
	}
}
