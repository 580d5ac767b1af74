package crypto_test

import (
	"errors"
	"testing"

	"github.com/hotline-az/hotline/crypto"
)

// TestRotateIndexMovesLookupDomainsOnly: after RotateIndex, phone and SID
// hashes change, both versions are candidates until FinishIndexMove, the
// state survives Marshal, and tags and other domains never change.
func TestRotateIndexMovesLookupDomainsOnly(t *testing.T) {
	master, _ := crypto.GenerateMasterKey()
	k := MustNewKeyring(t)
	phone1 := k.Index(crypto.DomainPhone, "+994501234567")
	sid1 := k.Index(crypto.DomainTwilioSID, "SM1")
	other := k.Index("officer-name", "aysel")
	tag := k.Tag("record-mac v1", []byte("cases"), []byte("id"))

	v, err := k.RotateIndex()
	if err != nil || v != 2 {
		t.Fatalf("RotateIndex = %d, %v; want 2", v, err)
	}
	if _, err := k.RotateIndex(); !errors.Is(err, crypto.ErrIndexMoveUnderway) {
		t.Errorf("a second RotateIndex during a move: err = %v, want ErrIndexMoveUnderway", err)
	}
	blob, err := k.Marshal(master)
	if err != nil {
		t.Fatal(err)
	}
	k, err = crypto.UnmarshalKeyring(master, blob)
	if err != nil {
		t.Fatalf("UnmarshalKeyring of a keyring mid-move: %v", err)
	}
	if p, m := k.IndexVersions(); p != 2 || m != 1 {
		t.Errorf("IndexVersions mid-move = %d, %d; want 2, 1", p, m)
	}
	phone2 := k.Index(crypto.DomainPhone, "+994501234567")
	if phone2 == phone1 || k.Index(crypto.DomainTwilioSID, "SM1") == sid1 {
		t.Error("phone and SID hashes did not change with the index version")
	}
	if c := k.IndexCandidates(crypto.DomainPhone, "+994501234567"); len(c) != 2 || c[0] != phone2 || c[1] != phone1 {
		t.Errorf("IndexCandidates mid-move = %v; want the new hash, then the old", c)
	}
	if from, to, ok := k.IndexMovePair(crypto.DomainPhone, "+994501234567"); !ok || from != phone1 || to != phone2 {
		t.Errorf("IndexMovePair = %v, %v, %v; want old, new, true", from, to, ok)
	}
	if k.Index("officer-name", "aysel") != other || k.Tag("record-mac v1", []byte("cases"), []byte("id")) != tag {
		t.Error("a non-lookup hash or a record tag changed with the index version")
	}

	if err := k.FinishIndexMove(); err != nil {
		t.Fatal(err)
	}
	if c := k.IndexCandidates(crypto.DomainPhone, "+994501234567"); len(c) != 1 || c[0] != phone2 {
		t.Errorf("IndexCandidates after the move = %v; want the new hash alone", c)
	}
	// A second rotation drops version 2's key when it finishes, and the
	// stored keyring still reads.
	if v, err := k.RotateIndex(); err != nil || v != 3 {
		t.Fatalf("second RotateIndex = %d, %v; want 3", v, err)
	}
	if err := k.FinishIndexMove(); err != nil {
		t.Fatal(err)
	}
	blob, _ = k.Marshal(master)
	k2, err := crypto.UnmarshalKeyring(master, blob)
	if err != nil {
		t.Fatal(err)
	}
	if p, m := k2.IndexVersions(); p != 3 || m != 0 || k2.Index(crypto.DomainPhone, "+994501234567") != k.Index(crypto.DomainPhone, "+994501234567") {
		t.Errorf("after two rotations and a round trip: IndexVersions %d, %d; want 3, 0 and the same hashes", p, m)
	}
}
