package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/store"
)

// TestRotateIndexKeepsThreadingDedupAndResumes stops a rotate-index half
// way, checks lookups still find entries under either version, restarts
// the store, finishes the move, and checks a reporter joins their old
// case, a retried webhook is still a duplicate, an officer is still
// recognised and a job is still found by its SID.
func TestRotateIndexKeepsThreadingDedupAndResumes(t *testing.T) {
	dir, key := t.TempDir(), testKey(t)
	ctx := context.Background()
	s := MustOpen(t, dir, key, nil)
	codes := fillTips(t, s, 120)
	var officerID, jobID string
	err := s.Update(ctx, func(tx *store.Tx) error {
		o, err := tx.AddOfficer(hotline.Officer{Name: "Aysel", Phone: "+994551112233", Role: hotline.RoleOfficer})
		if err != nil {
			return err
		}
		officerID = o.ID
		j := &hotline.Job{Kind: hotline.JobKind("sms"), State: hotline.JobPending}
		if err := tx.PutJob(j); err != nil {
			return err
		}
		jobID = j.ID
		return tx.SetJobSID(j, "SMjob0001")
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RecordOfficerCommand(ctx, "SMcmd0001"); err != nil {
		t.Fatal(err)
	}

	errStop := errors.New("stop")
	batches := 0
	_, err = s.RotateIndex(ctx, store.IndexMoveOptions{BatchSize: 40, By: cliAdmin, Progress: func(p store.IndexMoveProgress) error {
		if batches++; batches == 2 {
			return errStop
		}
		return nil
	}})
	if !errors.Is(err, errStop) {
		t.Fatalf("RotateIndex with a stop hook: err = %v, want the hook's", err)
	}
	p, err := s.IndexMoveUnderway()
	// 80 entries visited; some were already moved ones met again.
	if err != nil || p == nil || p.Moved == 0 || p.Moved > 80 || p.Version != 2 || p.Bucket != "reporters" {
		t.Fatalf("IndexMoveUnderway half way = %+v, %v; want version 2, 1-80 reporters moved", p, err)
	}
	// Half way: reporter 0 (moved) and 119 (not yet) both thread.
	for _, i := range []int{0, 119} {
		res, err := s.RecordInboundSMS(ctx, sms(fmt.Sprintf("SMhalf%03d", i), fmt.Sprintf("+99450%07d", i), "again", hotline.P3), nil)
		if err != nil || res.NewCase || res.Case.Code != codes[i] {
			t.Errorf("reporter %d texting half way: case %s new=%v err=%v; want their case %s", i, res.Case.Code, res.NewCase, err, codes[i])
		}
	}
	s.Close() // as if killed: the cursor and the two-version keyring are stored

	s = MustOpen(t, dir, key, nil)
	defer s.Close()
	res, err := s.RecordInboundSMS(ctx, sms("SM000100", "+994500000100", "tip number 100", hotline.P2), nil)
	if err != nil || !res.Duplicate {
		t.Errorf("a retry after the restart, before the move ends: duplicate=%v err=%v; want a duplicate", res.Duplicate, err)
	}
	p2, err := s.RotateIndex(ctx, store.IndexMoveOptions{BatchSize: 40, By: cliAdmin})
	if err != nil || !p2.Done || p2.Version != 2 {
		t.Fatalf("resumed RotateIndex = %+v, %v; want done at version 2", p2, err)
	}
	// 120 reporters, 120 tips' dedup entries (the two texts half way
	// were hashed under version 2 already), 1 job, 1 officer phone.
	if p2.Moved != 120+120+1+1 || p2.Kept != 1 || p2.Dropped != 0 {
		t.Errorf("moved %d kept %d dropped %d; want 242, 1 (the officer command), 0", p2.Moved, p2.Kept, p2.Dropped)
	}
	if primary, moving := s.Keyring().IndexVersions(); primary != 2 || moving != 0 {
		t.Errorf("IndexVersions after the move = %d, %d; want 2, 0", primary, moving)
	}

	for _, check := range []func(*store.Store){
		func(s *store.Store) {
			res, err := s.RecordInboundSMS(ctx, sms("SMafter01", "+994500000007", "it is me again", hotline.P3), nil)
			if err != nil || res.NewCase || res.Case.Code != codes[7] {
				t.Errorf("a reporter texting after rotate-index: case %s new=%v err=%v; want their old case %s", res.Case.Code, res.NewCase, err, codes[7])
			}
			res, err = s.RecordInboundSMS(ctx, sms("SM000042", "+994500000042", "tip number 42", hotline.P2), nil)
			if err != nil || !res.Duplicate || res.Case.Code != codes[42] {
				t.Errorf("a retried webhook after rotate-index: duplicate=%v case %s err=%v; want a duplicate of case %s", res.Duplicate, res.Case.Code, err, codes[42])
			}
			id, ok, err := s.IsOfficerPhone("+994551112233")
			if err != nil || !ok || id != officerID {
				t.Errorf("IsOfficerPhone after rotate-index = %q, %v, %v; want the officer", id, ok, err)
			}
			err = s.View(func(tx *store.Tx) error {
				j, ok, err := tx.JobBySID("SMjob0001")
				if err != nil || !ok || j.ID != jobID {
					t.Errorf("JobBySID after rotate-index = %v, %v, %v; want the job", j.ID, ok, err)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		},
	} {
		check(s)
		s.Close()
		s = MustOpen(t, dir, key, nil) // and again from the file alone
		check(s)
	}
	if got, want := auditActions(t, s), "keys.rotate_index:index-v2 keys.rotate_index_done:index-v2"; got != want {
		t.Errorf("audit = %q, want %q", got, want)
	}
	mustOpenAll(t, s, 2*120+3+1+1) // cases and messages, 3 later texts, the officer, the job's SID
}
