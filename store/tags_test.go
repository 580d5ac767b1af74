package store_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/crypto"
	"github.com/hotline-az/hotline/store"
)

// tamperFixture is a closed data file with two reporters' cases (A: a P1
// tip, B: a P3 tip), an officer, a rota setting, an open alert for A and
// two outbox jobs.
type tamperFixture struct {
	dir    string
	key    crypto.MasterKey
	a, b   store.InboundResult
	alert  hotline.Alert
	jobs   []hotline.Job
	office hotline.Officer
	// reply is an officer's reply in case A; session is the officer's
	// console login, half way (password given, TOTP code due).
	reply   string
	session string
}

const (
	phoneA = "+994501234567"
	phoneB = "+994501234568"
)

func newTamperFixture(t *testing.T) tamperFixture {
	t.Helper()
	f := tamperFixture{dir: t.TempDir(), key: testKey(t)}
	s := MustOpen(t, f.dir, f.key, nil)
	ctx := context.Background()
	var err error
	if f.a, err = s.RecordInboundSMS(ctx, sms("SMa", phoneA, "Bizi zirzəmidə saxlayırlar", hotline.P1), nil); err != nil {
		t.Fatal(err)
	}
	if f.b, err = s.RecordInboundSMS(ctx, sms("SMb", phoneB, "Saat neçədə açıqsınız?", hotline.P3), nil); err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, func(tx *store.Tx) error {
		o, err := tx.AddOfficer(hotline.Officer{Name: "Leyla Aliyeva", Phone: "+994501110001", Role: hotline.RoleOfficer})
		if err != nil {
			return err
		}
		f.office = o
		if err := tx.PutSetting("rota", []byte(`{"time_zone":"Asia/Baku","shifts":[]}`)); err != nil {
			return err
		}
		f.alert = hotline.Alert{CaseID: f.a.Case.ID, CaseCode: f.a.Case.Code, Priority: hotline.P1, State: hotline.AlertOpen, NextAt: time.Now().Add(time.Hour)}
		if err := tx.PutAlert(&f.alert); err != nil {
			return err
		}
		for range 2 {
			j := hotline.Job{Kind: hotline.JobAlertSMS, AlertID: f.alert.ID, OfficerID: o.ID, State: hotline.JobPending}
			if err := tx.PutJob(&j); err != nil {
				return err
			}
			f.jobs = append(f.jobs, j)
		}
		if err := tx.PutAccount(store.Account{OfficerID: o.ID, PasswordHash: "$argon2id$fake", TOTPSecret: "JBSWY3DPEHPK3PXP"}); err != nil {
			return err
		}
		f.session = "session-cookie-value"
		if err := tx.PutSession(store.Session{ID: f.session, OfficerID: o.ID, Stage: store.StagePassword}); err != nil {
			return err
		}
		if err := tx.SetCaseState(f.a.Case.ID, hotline.WorkInProgress, o.ID, ""); err != nil {
			return err
		}
		if _, err := tx.AddNote(f.a.Case.ID, o.ID, "called back, no answer"); err != nil {
			return err
		}
		f.reply, err = tx.AddReply(f.a.Case.ID, "Biz sizə kömək edəcəyik")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return f
}

// editRaw changes the closed data file with bbolt directly, as someone
// who can write the file but has no key would.
func editRaw(t *testing.T, dir string, edit func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(dir, store.FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(edit); err != nil {
		t.Fatalf("raw edit: %v", err)
	}
}

// replaceIn rewrites one record's stored JSON.
func replaceIn(tx *bolt.Tx, bucket, key, old, new string) error {
	b := tx.Bucket([]byte(bucket))
	v := b.Get([]byte(key))
	if !bytes.Contains(v, []byte(old)) {
		return errors.New(bucket + "/" + key + " does not contain " + old)
	}
	return b.Put([]byte(key), bytes.Replace(v, []byte(old), []byte(new), 1))
}

func wantTampered(t *testing.T, what string, err error, mention ...string) {
	t.Helper()
	if !errors.Is(err, store.ErrTampered) {
		t.Fatalf("%s: got %v, want an error wrapping ErrTampered", what, err)
	}
	for _, m := range mention {
		if !strings.Contains(err.Error(), m) {
			t.Fatalf("%s: error %q does not mention %q", what, err, m)
		}
	}
}

func TestMetadataCannotBeMovedWithoutAKey(t *testing.T) {
	tests := []struct {
		label string
		edit  func(tx *bolt.Tx, f tamperFixture) error
		check func(t *testing.T, s *store.Store, f tamperFixture)
	}{
		{"message moved to another case",
			func(tx *bolt.Tx, f tamperFixture) error {
				cases := tx.Bucket([]byte("cases"))
				if err := cases.Delete([]byte(f.a.Case.ID + "/" + f.a.MessageID)); err != nil {
					return err
				}
				return cases.Put([]byte(f.b.Case.ID+"/"+f.a.MessageID), nil)
			},
			func(t *testing.T, s *store.Store, f tamperFixture) {
				_, err := s.CaseMessages(f.b.Case.ID)
				wantTampered(t, "case B's messages", err, f.a.MessageID, "filed under case "+f.b.Case.ID, "written for case "+f.a.Case.ID)
			}},
		{"message moved with its case id rewritten",
			func(tx *bolt.Tx, f tamperFixture) error {
				cases := tx.Bucket([]byte("cases"))
				if err := cases.Delete([]byte(f.a.Case.ID + "/" + f.a.MessageID)); err != nil {
					return err
				}
				if err := cases.Put([]byte(f.b.Case.ID+"/"+f.a.MessageID), nil); err != nil {
					return err
				}
				return replaceIn(tx, "messages", f.a.MessageID, `"case_id":"`+f.a.Case.ID, `"case_id":"`+f.b.Case.ID)
			},
			func(t *testing.T, s *store.Store, f tamperFixture) {
				_, err := s.CaseMessages(f.b.Case.ID)
				wantTampered(t, "case B's messages", err, f.a.MessageID, "does not open as a message of case "+f.b.Case.ID)
			}},
		{"message priority lowered",
			func(tx *bolt.Tx, f tamperFixture) error {
				return replaceIn(tx, "messages", f.a.MessageID, `"priority":"P1"`, `"priority":"P3"`)
			},
			func(t *testing.T, s *store.Store, f tamperFixture) {
				_, err := s.CaseMessages(f.a.Case.ID)
				wantTampered(t, "case A's messages", err, f.a.MessageID)
			}},
		{"case priority lowered",
			func(tx *bolt.Tx, f tamperFixture) error {
				return replaceIn(tx, "cases", f.a.Case.ID, `"priority":"P1"`, `"priority":"P3"`)
			},
			func(t *testing.T, s *store.Store, f tamperFixture) {
				_, err := s.CaseByCode(f.a.Case.Code)
				wantTampered(t, "case A by code", err, f.a.Case.ID)
				cases, err := s.ListCases()
				wantTampered(t, "list", err, f.a.Case.ID)
				if len(cases) != 1 || cases[0].ID != f.b.Case.ID {
					t.Fatalf("list: got %+v, want case B alone", cases)
				}
			}},
		{"case closed",
			func(tx *bolt.Tx, f tamperFixture) error {
				return replaceIn(tx, "cases", f.a.Case.ID, `"status":"open"`, `"status":"closed"`)
			},
			func(t *testing.T, s *store.Store, f tamperFixture) {
				err := s.View(func(tx *store.Tx) error { _, err := tx.Case(f.a.Case.ID); return err })
				wantTampered(t, "case A", err)
			}},
		{"case code re-pointed",
			func(tx *bolt.Tx, f tamperFixture) error {
				return tx.Bucket([]byte("case_codes")).Put([]byte(f.a.Case.Code), []byte(f.b.Case.ID))
			},
			func(t *testing.T, s *store.Store, f tamperFixture) {
				_, err := s.CaseByCode(f.a.Case.Code)
				wantTampered(t, "case A's code", err, "points at case "+f.b.Case.ID)
			}},
		{"reporter re-pointed at another case",
			func(tx *bolt.Tx, f tamperFixture) error {
				rep := tx.Bucket([]byte("reporters"))
				var keyA, valueB []byte
				rep.ForEach(func(k, v []byte) error {
					if bytes.HasPrefix(v, []byte(f.a.Case.ID)) {
						keyA = append([]byte(nil), k...)
					}
					if bytes.HasPrefix(v, []byte(f.b.Case.ID)) {
						valueB = append([]byte(nil), v...)
					}
					return nil
				})
				if keyA == nil || valueB == nil {
					return errors.New("reporter entries not found")
				}
				return rep.Put(keyA, valueB)
			},
			func(t *testing.T, s *store.Store, f tamperFixture) {
				res, err := s.RecordInboundSMS(context.Background(), sms("SMa2", phoneA, "yenə", hotline.P2), nil)
				if err != nil {
					t.Fatal(err)
				}
				if res.Case.ID == f.b.Case.ID || !res.NewCase {
					t.Fatalf("A's next text joined case %s (B is %s), want a new case", res.Case.ID, f.b.Case.ID)
				}
				msgs, err := s.CaseMessages(f.b.Case.ID)
				if err != nil || len(msgs) != 1 {
					t.Fatalf("case B: got %d messages (%v), want its own 1", len(msgs), err)
				}
			}},
		{"alert acknowledged without a key",
			func(tx *bolt.Tx, f tamperFixture) error {
				return replaceIn(tx, "alerts", f.alert.ID, `"state":"open"`, `"state":"acknowledged"`)
			},
			func(t *testing.T, s *store.Store, f tamperFixture) {
				err := s.View(func(tx *store.Tx) error { _, err := tx.Alert(f.alert.ID); return err })
				wantTampered(t, "alert", err, f.alert.ID)
				err = s.View(func(tx *store.Tx) error { _, _, err := tx.OpenAlertForCase(f.a.Case.ID); return err })
				wantTampered(t, "case A's open alert", err)
			}},
		{"job moved to another job's key",
			func(tx *bolt.Tx, f tamperFixture) error {
				jobs := tx.Bucket([]byte("jobs"))
				return jobs.Put([]byte(f.jobs[1].ID), append([]byte(nil), jobs.Get([]byte(f.jobs[0].ID))...))
			},
			func(t *testing.T, s *store.Store, f tamperFixture) {
				err := s.View(func(tx *store.Tx) error { _, err := tx.Job(f.jobs[1].ID); return err })
				wantTampered(t, "job", err, f.jobs[1].ID)
			}},
		{"officer's role raised",
			func(tx *bolt.Tx, f tamperFixture) error {
				return replaceIn(tx, "officers", f.office.ID, `"role":"officer"`, `"role":"admin"`)
			},
			func(t *testing.T, s *store.Store, f tamperFixture) {
				err := s.View(func(tx *store.Tx) error { _, err := tx.Officers(); return err })
				wantTampered(t, "officers", err, f.office.ID)
			}},
		{"officer's number re-pointed",
			func(tx *bolt.Tx, f tamperFixture) error {
				idx := tx.Bucket([]byte("officer_index"))
				return idx.ForEach(func(k, v []byte) error {
					return idx.Put(append([]byte(nil), k...), []byte(f.a.Case.ID)) // any other id, untagged
				})
			},
			func(t *testing.T, s *store.Store, f tamperFixture) {
				_, _, err := s.IsOfficerPhone("+994501110001")
				wantTampered(t, "officer number", err)
			}},
		{"officer's reply moved to another case",
			func(tx *bolt.Tx, f tamperFixture) error {
				cases := tx.Bucket([]byte("cases"))
				if err := cases.Delete([]byte(f.a.Case.ID + "/" + f.reply)); err != nil {
					return err
				}
				return cases.Put([]byte(f.b.Case.ID+"/"+f.reply), nil)
			},
			func(t *testing.T, s *store.Store, f tamperFixture) {
				_, err := s.CaseMessages(f.b.Case.ID)
				wantTampered(t, "case B's messages", err, f.reply, "written for case "+f.a.Case.ID)
				err = s.View(func(tx *store.Tx) error { _, err := tx.MessageBody(f.reply); return err })
				wantTampered(t, "the reply's body for the outbox", err, f.reply)
			}},
		{"console login raised past its TOTP code",
			func(tx *bolt.Tx, f tamperFixture) error {
				b := tx.Bucket([]byte("sessions"))
				return b.ForEach(func(k, v []byte) error {
					return b.Put(append([]byte(nil), k...), bytes.Replace(v, []byte(`"stage":"password"`), []byte(`"stage":"full"`), 1))
				})
			},
			func(t *testing.T, s *store.Store, f tamperFixture) {
				err := s.View(func(tx *store.Tx) error { _, _, err := tx.Session(f.session); return err })
				wantTampered(t, "session", err)
			}},
		{"TOTP enrolment undone",
			func(tx *bolt.Tx, f tamperFixture) error {
				return replaceIn(tx, "accounts", f.office.ID, `"totp_enrolled":true`, `"totp_enrolled":false`)
			},
			func(t *testing.T, s *store.Store, f tamperFixture) {
				err := s.View(func(tx *store.Tx) error { _, _, err := tx.Account(f.office.ID); return err })
				wantTampered(t, "account", err, f.office.ID)
			}},
		{"case workflow moved back to new",
			func(tx *bolt.Tx, f tamperFixture) error {
				return replaceIn(tx, "case_work", f.a.Case.ID, `"state":"in_progress"`, `"state":"new"`)
			},
			func(t *testing.T, s *store.Store, f tamperFixture) {
				err := s.View(func(tx *store.Tx) error { _, err := tx.CaseWork(f.a.Case.ID); return err })
				wantTampered(t, "case work", err, f.a.Case.ID)
			}},
		{"note moved to another case",
			func(tx *bolt.Tx, f tamperFixture) error {
				b := tx.Bucket([]byte("case_notes"))
				k, v := b.Cursor().First()
				k, v = append([]byte(nil), k...), append([]byte(nil), v...)
				if err := b.Delete(k); err != nil {
					return err
				}
				return b.Put([]byte(f.b.Case.ID+string(k[len(f.a.Case.ID):])), v)
			},
			func(t *testing.T, s *store.Store, f tamperFixture) {
				err := s.View(func(tx *store.Tx) error { _, err := tx.Notes(f.b.Case.ID); return err })
				wantTampered(t, "case B's notes", err)
			}},
		{"rota edited",
			func(tx *bolt.Tx, f tamperFixture) error {
				return replaceIn(tx, "settings", "rota", `Asia/Baku`, `Asia/Dubai`)
			},
			func(t *testing.T, s *store.Store, f tamperFixture) {
				err := s.View(func(tx *store.Tx) error { _, err := tx.Setting("rota"); return err })
				wantTampered(t, "rota", err, "rota")
			}},
	}
	for _, tc := range tests {
		t.Run(tc.label, func(t *testing.T) {
			f := newTamperFixture(t)
			// Untouched, everything opens: the check below can only fail
			// because of the edit.
			s := MustOpen(t, f.dir, f.key, nil)
			if msgs, err := s.CaseMessages(f.a.Case.ID); err != nil || len(msgs) != 2 || msgs[0].Body != "Bizi zirzəmidə saxlayırlar" {
				t.Fatalf("before the edit: %d messages, %v", len(msgs), err)
			}
			if _, err := s.ListCases(); err != nil {
				t.Fatalf("before the edit: %v", err)
			}
			if problems := verify(t, s); len(problems) != 0 {
				t.Fatalf("before the edit, VerifyRecords found %v", problems)
			}
			s.Close()
			editRaw(t, f.dir, func(tx *bolt.Tx) error { return tc.edit(tx, f) })
			s = MustOpen(t, f.dir, f.key, nil)
			defer s.Close()
			if problems := verify(t, s); len(problems) == 0 {
				t.Fatal("VerifyRecords found nothing wrong after the edit")
			} else {
				t.Logf("VerifyRecords found %v", problems)
				for _, p := range problems {
					if !errors.Is(p.err, store.ErrTampered) {
						t.Errorf("problem %v does not wrap ErrTampered", p)
					}
				}
			}
			tc.check(t, s, f)
		})
	}
}

// recordProblem is one failure VerifyRecords reported.
type recordProblem struct {
	bucket, id string
	err        error
}

func (p recordProblem) String() string { return p.bucket + " " + p.id + ": " + p.err.Error() }

// verify runs VerifyRecords and returns what it found.
func verify(t *testing.T, s *store.Store) []recordProblem {
	t.Helper()
	var problems []recordProblem
	n, err := s.VerifyRecords(func(bucket, id string, err error) { problems = append(problems, recordProblem{bucket, id, err}) })
	if err != nil || n == 0 {
		t.Fatalf("VerifyRecords: checked %d, %v", n, err)
	}
	return problems
}
