package store_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/hotline-az/hotline/store"
)

// writeAudit opens a store, appends n entries and closes it.
func writeAudit(t *testing.T, dir string, n int) func() *store.Store {
	t.Helper()
	key := testKey(t)
	s := MustOpen(t, dir, key, nil)
	for i := range n {
		err := s.Update(context.Background(), func(tx *store.Tx) error {
			return tx.AppendAudit(store.AuditEntry{Actor: "officer-1", Action: "case.open", Object: "K7QA3M", Via: "console", Detail: strings.Repeat("x", i)})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return func() *store.Store { return MustOpen(t, dir, key, nil) }
}

// tamper edits the raw audit bucket of a closed data file.
func tamper(t *testing.T, dir string, fn func(b *bolt.Bucket) error) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(dir, store.FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bolt.Tx) error { return fn(tx.Bucket([]byte("audit"))) }); err != nil {
		t.Fatal(err)
	}
}

func seqKey(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

func TestAuditVerify(t *testing.T) {
	cases := []struct {
		label   string
		tamper  func(b *bolt.Bucket) error
		problem string
	}{
		{"untouched", nil, ""},
		{"one byte of one entry changed", func(b *bolt.Bucket) error {
			v := bytes.Clone(b.Get(seqKey(3)))
			i := bytes.Index(v, []byte("K7QA3M"))
			v[i] = 'X'
			return b.Put(seqKey(3), v)
		}, "changed"},
		{"an entry removed", func(b *bolt.Bucket) error { return b.Delete(seqKey(2)) }, "removed"},
		{"the last entry removed", func(b *bolt.Bucket) error { return b.Delete(seqKey(5)) }, "removed at the end"},
		{"two entries swapped", func(b *bolt.Bucket) error {
			v2, v4 := bytes.Clone(b.Get(seqKey(2))), bytes.Clone(b.Get(seqKey(4)))
			if err := b.Put(seqKey(2), v4); err != nil {
				return err
			}
			return b.Put(seqKey(4), v2)
		}, "moved"},
	}
	for _, tc := range cases {
		t.Run(tc.label, func(t *testing.T) {
			dir := t.TempDir()
			reopen := writeAudit(t, dir, 5)
			if tc.tamper != nil {
				tamper(t, dir, tc.tamper)
			}
			s := reopen()
			defer s.Close()
			n, problems, err := s.VerifyAudit()
			if err != nil {
				t.Fatal(err)
			}
			if tc.problem == "" {
				if len(problems) > 0 || n != 5 {
					t.Fatalf("untouched log: %d entries, problems %v", n, problems)
				}
				return
			}
			found := false
			for _, p := range problems {
				if strings.Contains(p.Problem, tc.problem) {
					found = true
				}
			}
			if !found {
				t.Fatalf("got problems %+v, want one saying %q", problems, tc.problem)
			}
		})
	}
}

func TestAuditEntriesFilter(t *testing.T) {
	dir := t.TempDir()
	s := writeAudit(t, dir, 4)()
	defer s.Close()
	all, err := s.Audit(store.AuditFilter{})
	if err != nil || len(all) != 4 || all[0].Seq != 1 || all[3].Seq != 4 {
		t.Fatalf("all entries: %d (err %v), want 4 oldest first", len(all), err)
	}
	last, _ := s.Audit(store.AuditFilter{Limit: 2})
	if len(last) != 2 || last[0].Seq != 3 || last[1].Seq != 4 {
		t.Fatalf("limit 2: got %+v, want the newest two oldest first", last)
	}
	none, _ := s.Audit(store.AuditFilter{Action: "login"})
	if len(none) != 0 {
		t.Fatalf("action filter: got %d entries", len(none))
	}
}
