package store_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/crypto"
	"github.com/hotline-az/hotline/internal/leaktest"
	"github.com/hotline-az/hotline/store"
)

// v1Key opens testdata/v1/hotline.db (see its README).
const v1Key = "aG90bGluZSB2MSBmaXh0dXJlIGtleSAtIHRlc3QgMDE="

// copyV1 copies the schema 1 data file into a fresh directory.
func copyV1(t *testing.T) (string, crypto.MasterKey) {
	t.Helper()
	return copyFixture(t, "v1")
}

// copyFixture copies testdata/NAME/hotline.db (written with v1Key) into a
// fresh directory.
func copyFixture(t *testing.T, name string) (string, crypto.MasterKey) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, store.FileName), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	key, err := crypto.ParseMasterKey(v1Key)
	if err != nil {
		t.Fatal(err)
	}
	return dir, key
}

// v1Clock is an hour after the fixture's last write, inside its dedup
// window and case window.
func v1Clock() *fakeClock { return &fakeClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)} }

func openLogged(t *testing.T, dir string, key crypto.MasterKey) (*store.Store, *leaktest.Buffer, error) {
	t.Helper()
	logs := &leaktest.Buffer{}
	s, err := store.Open(dir, store.MasterKeySource{Key: &key}, store.Options{Now: v1Clock().Now, Logger: zerolog.New(logs)})
	return s, logs, err
}

func TestSchema1FileIsMigratedAndStillOpens(t *testing.T) {
	dir, key := copyV1(t)
	if st, err := store.ReadStats(dir); err != nil || st.Schema != 1 || st.Messages != 4 || st.Cases != 3 {
		t.Fatalf("fixture before migration: %+v %v, want schema 1, 4 messages, 3 cases", st, err)
	}
	s, logs, err := openLogged(t, dir, key)
	if err != nil {
		t.Fatalf("open a schema 1 file: %v", err)
	}
	if !strings.Contains(logs.String(), "data file migrated") {
		t.Fatalf("no migration in the log: %s", logs)
	}
	wantBodies := map[string][]string{
		"6QDFW6": {"Müdir pasportumu saxlayıb", "Kömək edin, bizi zirzəmidə saxlayırlar"},
		"4KKCWJ": {"What are your opening hours?"},
		"6D93KT": {"Помогите, нас держат на складе"},
	}
	wantPhones := map[string]string{"6QDFW6": "+994557654321", "4KKCWJ": "+994557654322", "6D93KT": "+994557654323"}
	cases, err := s.ListCases()
	if err != nil || len(cases) != 3 {
		t.Fatalf("cases after migration: %d, %v", len(cases), err)
	}
	ids := map[string]string{}
	for code, bodies := range wantBodies {
		c, err := s.CaseByCode(code)
		if err != nil {
			t.Fatalf("case %s: %v", code, err)
		}
		ids[code] = c.ID
		if c.ReporterPhone != wantPhones[code] {
			t.Fatalf("case %s: reporter number did not survive the migration", code)
		}
		msgs, err := s.CaseMessages(c.ID)
		if err != nil || len(msgs) != len(bodies) {
			t.Fatalf("case %s: %d messages, %v", code, len(msgs), err)
		}
		for i, m := range msgs {
			if m.Body != bodies[i] {
				t.Fatalf("case %s message %d: body changed in the migration", code, i)
			}
		}
	}
	err = s.View(func(tx *store.Tx) error {
		officers, err := tx.Officers()
		if err != nil || len(officers) != 3 || officers[0].Name != "Aysel Huseynova" || officers[0].Role != hotline.RoleSupervisor {
			t.Errorf("officers: %+v %v", officers, err)
		}
		if o, ok, err := tx.OfficerByPhone("+994501110002"); err != nil || !ok || o.Name != "Rashad Mammadov" {
			t.Errorf("officer by phone: %+v %v %v", o, ok, err)
		}
		if rota, err := tx.Setting("rota"); err != nil || !strings.Contains(string(rota), `"time_zone":"Asia/Baku"`) {
			t.Errorf("rota: %q %v", rota, err)
		}
		if a, ok, err := tx.AlertByNumber(2); err != nil || !ok || a.State != hotline.AlertAcknowledged {
			t.Errorf("alert 2: %+v %v %v", a, ok, err)
		}
		if a, ok, err := tx.OpenAlertForCase(ids["6D93KT"]); err != nil || !ok || a.Number != 3 {
			t.Errorf("open alert of 6D93KT: %+v %v %v", a, ok, err)
		}
		if jobs, err := tx.Jobs(""); err != nil || len(jobs) != 9 {
			t.Errorf("jobs: %d %v", len(jobs), err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if res, err := s.RecordInboundSMS(ctx, sms("SM00000000000000000000000000000001", "+994557654321", "x", hotline.P2), nil); err != nil || !res.Duplicate || res.Case.Code != "6QDFW6" {
		t.Fatalf("retried SID after migration: dup=%v code=%s err=%v", res.Duplicate, res.Case.Code, err)
	}
	if res, err := s.RecordInboundSMS(ctx, sms("SMnew", "+994557654322", "Salam", hotline.P3), nil); err != nil || res.NewCase || res.Case.Code != "4KKCWJ" {
		t.Fatalf("a new text from a migrated reporter: new=%v code=%s err=%v, want it threaded into 4KKCWJ", res.NewCase, res.Case.Code, err)
	}
	s.Close()
	if st, err := store.ReadStats(dir); err != nil || st.Schema != 2 || st.Messages != 5 {
		t.Fatalf("after migration: %+v %v, want schema 2 and 5 messages", st, err)
	}

	// A second start migrates nothing, and every record verifies.
	s, logs, err = openLogged(t, dir, key)
	if err != nil {
		t.Fatal(err)
	}
	if problems := verify(t, s); len(problems) != 0 {
		t.Fatalf("VerifyRecords after migration: %v", problems)
	}
	s.Close()
	if strings.Contains(logs.String(), "migrat") {
		t.Fatalf("second start migrated again: %s", logs)
	}

	// Messages of a migrated file are bound like new ones.
	editRaw(t, dir, func(tx *bolt.Tx) error {
		cases := tx.Bucket([]byte("cases"))
		c := cases.Cursor()
		prefix := []byte(ids["6D93KT"] + "/")
		k, _ := c.Seek(prefix)
		msgID := append([]byte(nil), k[len(prefix):]...)
		if err := cases.Delete(k); err != nil {
			return err
		}
		return cases.Put([]byte(ids["4KKCWJ"]+"/"+string(msgID)), nil)
	})
	s, _, err = openLogged(t, dir, key)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.CaseMessages(ids["4KKCWJ"])
	wantTampered(t, "a migrated message moved to another case", err, "written for case "+ids["6D93KT"])
}

// setSchema writes the schema version as the store does (8 bytes, big endian).
func setSchema(tx *bolt.Tx, v uint64) error {
	return tx.Bucket([]byte("meta")).Put([]byte("schema_version"), binary.BigEndian.AppendUint64(nil, v))
}

// markerTag computes the integrity marker's tag the way the store does,
// with the keyring opened from the file: a test that has the key can
// forge what an attacker cannot.
func putMarker(t *testing.T, tx *bolt.Tx, key crypto.MasterKey, state string) error {
	meta := tx.Bucket([]byte("meta"))
	kr, err := crypto.UnmarshalKeyring(key, meta.Get([]byte("keyring")))
	if err != nil {
		t.Fatal(err)
	}
	field := func(s string) string {
		return string(binary.BigEndian.AppendUint32(nil, uint32(len(s)))) + s
	}
	h := kr.Index("record-mac v1", field("meta")+field("integrity")+field(state))
	return meta.Put([]byte("integrity"), append([]byte(state), h[:16]...))
}

func TestMigrationResumesAndRefusesALoweredVersion(t *testing.T) {
	t.Run("interrupted before any record", func(t *testing.T) {
		dir, key := copyV1(t)
		editRaw(t, dir, func(tx *bolt.Tx) error { return putMarker(t, tx, key, "migrating") })
		s, _, err := openLogged(t, dir, key)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, err := s.ListCases(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("interrupted after every record", func(t *testing.T) {
		dir, key := copyV1(t)
		s, _, err := openLogged(t, dir, key)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		editRaw(t, dir, func(tx *bolt.Tx) error {
			if err := setSchema(tx, 1); err != nil {
				return err
			}
			return putMarker(t, tx, key, "migrating")
		})
		s, logs, err := openLogged(t, dir, key)
		if err != nil {
			t.Fatalf("resume over migrated records: %v", err)
		}
		defer s.Close()
		if !strings.Contains(logs.String(), `"resuming":true`) {
			t.Fatalf("not resumed: %s", logs)
		}
		c, err := s.CaseByCode("6QDFW6")
		if err != nil {
			t.Fatal(err)
		}
		if msgs, err := s.CaseMessages(c.ID); err != nil || len(msgs) != 2 {
			t.Fatalf("after resume: %d messages, %v", len(msgs), err)
		}
	})
	for _, tc := range []struct {
		label, want string
		edit        func(t *testing.T, tx *bolt.Tx) error
	}{
		{"version lowered", "lowered", func(t *testing.T, tx *bolt.Tx) error { return setSchema(tx, 1) }},
		{"version lowered and marker removed", "never migrated", func(t *testing.T, tx *bolt.Tx) error {
			if err := setSchema(tx, 1); err != nil {
				return err
			}
			return tx.Bucket([]byte("meta")).Delete([]byte("integrity"))
		}},
		{"marker removed", "without its integrity marker", func(t *testing.T, tx *bolt.Tx) error {
			return tx.Bucket([]byte("meta")).Delete([]byte("integrity"))
		}},
		{"marker forged", "integrity marker", func(t *testing.T, tx *bolt.Tx) error {
			return tx.Bucket([]byte("meta")).Put([]byte("integrity"), []byte("migrating0123456789abcdef"))
		}},
	} {
		t.Run(tc.label, func(t *testing.T) {
			dir, key := copyV1(t)
			s, _, err := openLogged(t, dir, key)
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
			editRaw(t, dir, func(tx *bolt.Tx) error { return tc.edit(t, tx) })
			_, _, err = openLogged(t, dir, key)
			if !errors.Is(err, store.ErrTampered) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want ErrTampered mentioning %q", err, tc.want)
			}
		})
	}
}

// The console's records (accounts, sessions, workflow, notes, replies) of
// a schema 1 file are migrated too: they open, and they are tagged.
func TestSchema1ConsoleRecordsAreMigrated(t *testing.T) {
	dir, key := copyFixture(t, "v1console")
	s, _, err := openLogged(t, dir, key)
	if err != nil {
		t.Fatal(err)
	}
	cases, err := s.ListCases()
	if err != nil || len(cases) != 1 {
		t.Fatalf("cases: %d %v", len(cases), err)
	}
	id := cases[0].ID
	msgs, err := s.CaseMessages(id)
	if err != nil || len(msgs) != 2 || msgs[1].Direction != hotline.Outbound || msgs[1].Body != "Biz sizə kömək edəcəyik. Təhlükəsizsinizmi?" {
		t.Fatalf("messages after migration: %+v %v", msgs, err)
	}
	err = s.View(func(tx *store.Tx) error {
		if body, err := tx.MessageBody(msgs[1].ID); err != nil || !strings.HasPrefix(body, "Biz sizə") {
			t.Errorf("reply body for the outbox: %v", err)
		}
		o, ok, err := tx.OfficerByName("Leyla Aliyeva")
		if err != nil || !ok {
			return fmt.Errorf("officer: %v %v", ok, err)
		}
		if a, ok, err := tx.Account(o.ID); err != nil || !ok || a.TOTPSecret != "JBSWY3DPEHPK3PXP" {
			t.Errorf("account: %v %v", ok, err)
		}
		if sess, ok, err := tx.Session("fixture-session"); err != nil || !ok || sess.Stage != store.StageFull || sess.OfficerID != o.ID {
			t.Errorf("session: %+v %v %v", sess, ok, err)
		}
		if w, err := tx.CaseWork(id); err != nil || w.State != hotline.WorkInProgress {
			t.Errorf("workflow: %+v %v", w, err)
		}
		if notes, err := tx.Notes(id); err != nil || len(notes) != 1 || notes[0].Text != "Zəng etdim, cavab vermədi" {
			t.Errorf("notes: %+v %v", notes, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if problems := verify(t, s); len(problems) != 0 {
		t.Fatalf("VerifyRecords after migration: %v", problems)
	}
	s.Close()
	// Tagged now: an edited session no longer passes.
	editRaw(t, dir, func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("sessions"))
		k, v := b.Cursor().First()
		return b.Put(append([]byte(nil), k...), []byte(strings.Replace(string(v), `"stage":"full"`, `"stage":"password"`, 1)))
	})
	s, _, err = openLogged(t, dir, key)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.View(func(tx *store.Tx) error { _, _, err := tx.Session("fixture-session"); return err })
	wantTampered(t, "edited session", err)
}
