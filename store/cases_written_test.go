package store

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/crypto"
)

// TestWriterMemoryDoesNotHideAnEditedCase: the writer remembers the case
// records it stored (writtenCases) so the next text of the same reporter
// skips the tag check and decoding; a case edited in the file meanwhile
// (here its status, through the open file, without a key) must still fail
// its check, and the reporter's next text opens a new case. An untouched
// case is still joined.
func TestWriterMemoryDoesNotHideAnEditedCase(t *testing.T) {
	key, err := crypto.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	s, err := Open(t.TempDir(), MasterKeySource{Key: &key}, Options{Logger: zerolog.New(&logs)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	tip := func(sid, from string) InboundResult {
		t.Helper()
		res, err := s.RecordInboundSMS(ctx, InboundSMS{
			MessageSID: sid, From: from, Body: "kömək edin", Window: time.Hour,
			Triage: hotline.Triage{Priority: hotline.P2, Lang: hotline.LangAz},
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	a1, b1 := tip("SMa1", "+994501111111"), tip("SMb1", "+994502222222")
	if a2 := tip("SMa2", "+994501111111"); a2.NewCase || a2.Case.ID != a1.Case.ID {
		t.Fatalf("A's second text: got case %s new=%v, want case %s joined", a2.Case.ID, a2.NewCase, a1.Case.ID)
	}
	if _, known := s.commits.cases.get([]byte(a1.Case.ID), s.caseBytes(t, a1.Case.ID)); !known {
		t.Fatal("the writer does not remember case A as stored: the test would not exercise its memory")
	}

	// Close case A without a key, keeping the record's length.
	if err := s.db.Update(func(tx *bolt.Tx) error {
		cases := tx.Bucket(bucketCases)
		v := bytes.Replace(cases.Get([]byte(a1.Case.ID)), []byte(`"status":"open"`), []byte(`"status":"shut"`), 1)
		return cases.Put([]byte(a1.Case.ID), v)
	}); err != nil {
		t.Fatal(err)
	}
	if a3 := tip("SMa3", "+994501111111"); !a3.NewCase || a3.Case.ID == a1.Case.ID {
		t.Fatalf("A's text after the edit: got case %s new=%v, want a new case (the edited one is %s)", a3.Case.ID, a3.NewCase, a1.Case.ID)
	}
	if !bytes.Contains(logs.Bytes(), []byte("cannot be trusted")) {
		t.Errorf("the edited case was not reported in the log: %s", logs.String())
	}
	if b2 := tip("SMb2", "+994502222222"); b2.NewCase || b2.Case.ID != b1.Case.ID || b2.Case.Messages != 2 {
		t.Fatalf("B's second text: got case %s new=%v with %d messages, want case %s joined with 2", b2.Case.ID, b2.NewCase, b2.Case.Messages, b1.Case.ID)
	}
}

// caseBytes is the stored record of case id.
func (s *Store) caseBytes(t *testing.T, id string) []byte {
	t.Helper()
	var v []byte
	if err := s.db.View(func(tx *bolt.Tx) error {
		v = bytes.Clone(tx.Bucket(bucketCases).Get([]byte(id)))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return v
}
