package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/crypto"
)

// RetentionPolicy says what Purge removes. A zero duration turns that
// rule off.
type RetentionPolicy struct {
	// CloseUntouched closes open cases with no new message (or change)
	// for this long.
	CloseUntouched time.Duration
	// DeleteClosed deletes cases closed (and untouched) for this long:
	// the case, its messages, notes, workflow, code, reporter and dedup
	// entries.
	DeleteClosed time.Duration
	// DropNumber removes the reporter's sealed number from cases
	// untouched for this long; the keyed hash stays, so a text from the
	// same number still threads, but nobody can reply to it any more.
	DropNumber time.Duration
}

// Off reports whether the policy removes nothing.
func (p RetentionPolicy) Off() bool {
	return p.CloseUntouched <= 0 && p.DeleteClosed <= 0 && p.DropNumber <= 0
}

// PurgeReport says what Purge did (or, in a dry run, would do), by case
// code: codes are references, not identifying data.
type PurgeReport struct {
	DryRun bool      `json:"dry_run"`
	At     time.Time `json:"at"`
	// Closed are the cases closed for being untouched.
	Closed []string `json:"closed"`
	// NumbersDropped are the cases whose reporter number was removed.
	NumbersDropped []string `json:"numbers_dropped"`
	// Deleted are the cases deleted, with Messages messages in all.
	Deleted  []string `json:"deleted"`
	Messages int      `json:"messages"`
}

// PurgeOptions tune Purge.
type PurgeOptions struct {
	DryRun bool
	// BatchSize is how many cases one transaction changes (default 200),
	// so intake never waits behind a large purge.
	BatchSize int
	// By names who asked, for the audit entries (Actor, Via, From).
	By AuditEntry
}

type purgeAction struct {
	id, code          string
	close, drop, del  bool
	reporterKeys      [][]byte
	dedupKeys         [][]byte
	callKeys          [][]byte
	updatedAtPlanning time.Time
}

// Purge applies policy as of the store's clock: it plans in one read
// transaction, then (unless DryRun) applies the plan in transactions of
// BatchSize cases, checking again in each that the case was not touched
// since. Each transaction writes one "retention.purge" audit entry with
// its counts.
func (s *Store) Purge(ctx context.Context, policy RetentionPolicy, opts PurgeOptions) (PurgeReport, error) {
	now := s.now()
	rep := PurgeReport{DryRun: opts.DryRun, At: now.UTC(), Closed: []string{}, NumbersDropped: []string{}, Deleted: []string{}}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 200
	}
	var plan []*purgeAction
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		plan, err = s.planPurge(tx, policy, now)
		return err
	})
	if err != nil {
		return rep, err
	}
	for len(plan) > 0 {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		batch := plan[:min(opts.BatchSize, len(plan))]
		plan = plan[len(batch):]
		var done PurgeReport
		var forget []crypto.IndexHash
		apply := func(btx *bolt.Tx) error {
			done, forget = PurgeReport{}, forget[:0]
			for _, a := range batch {
				if err := s.applyPurge(btx, a, policy, now, opts.DryRun, &done, &forget); err != nil {
					return fmt.Errorf("case %s: %w", a.code, err)
				}
			}
			if opts.DryRun {
				return nil
			}
			e := opts.By
			e.Action = "retention.purge"
			e.Detail = fmt.Sprintf("closed=%d numbers_dropped=%d deleted=%d messages=%d", len(done.Closed), len(done.NumbersDropped), len(done.Deleted), done.Messages)
			return (&Tx{s: s, tx: btx}).AppendAudit(e)
		}
		if opts.DryRun {
			err = s.view(apply)
		} else {
			err = s.update(ctx, apply)
		}
		if err != nil {
			return rep, err
		}
		s.dedup.forget(forget)
		rep.Closed = append(rep.Closed, done.Closed...)
		rep.NumbersDropped = append(rep.NumbersDropped, done.NumbersDropped...)
		rep.Deleted = append(rep.Deleted, done.Deleted...)
		rep.Messages += done.Messages
	}
	return rep, nil
}

// due reports whether a case last touched at updated is older than d.
func due(d time.Duration, updated, now time.Time) bool {
	return d > 0 && now.Sub(updated) >= d
}

// planPurge finds the cases policy touches and, for those to delete,
// the reporter and dedup entries that point at them.
func (s *Store) planPurge(tx *bolt.Tx, policy RetentionPolicy, now time.Time) ([]*purgeAction, error) {
	var plan []*purgeAction
	deleting := map[string]*purgeAction{}
	c := tx.Bucket(bucketCases).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if isIndexKey(k) {
			continue
		}
		if err := s.checkTag(bucketCases, k, v); err != nil {
			return nil, err
		}
		var rec caseRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return nil, fmt.Errorf("case %s: %w", keyName(k), err)
		}
		a := &purgeAction{id: rec.ID, code: rec.Code, updatedAtPlanning: rec.UpdatedAt}
		switch {
		case rec.Status == hotline.CaseClosed && due(policy.DeleteClosed, rec.UpdatedAt, now):
			a.del = true
			deleting[rec.ID] = a
		default:
			a.close = rec.Status == hotline.CaseOpen && due(policy.CloseUntouched, rec.UpdatedAt, now)
			a.drop = !rec.NumberDropped && due(policy.DropNumber, rec.UpdatedAt, now)
		}
		if a.del || a.close || a.drop {
			plan = append(plan, a)
		}
	}
	if len(deleting) == 0 {
		return plan, nil
	}
	err := tx.Bucket(bucketReporters).ForEach(func(k, v []byte) error {
		if len(v) > macLen {
			if a := deleting[string(v[:len(v)-macLen])]; a != nil {
				a.reporterKeys = append(a.reporterKeys, clone(k))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = tx.Bucket(bucketDedup).ForEach(func(k, v []byte) error {
		var rec dedupRecord
		if json.Unmarshal(v, &rec) == nil {
			if a := deleting[rec.CaseID]; a != nil {
				a.dedupKeys = append(a.dedupKeys, clone(k))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = tx.Bucket(bucketCalls).ForEach(func(k, v []byte) error {
		var c struct {
			CaseID string `json:"case_id"`
		}
		if json.Unmarshal(v, &c) == nil {
			if a := deleting[c.CaseID]; a != nil {
				a.callKeys = append(a.callKeys, clone(k))
			}
		}
		return nil
	})
	return plan, err
}

// applyPurge carries out one planned action in btx if the case is as it
// was planned (not touched since), adding to done.
func (s *Store) applyPurge(btx *bolt.Tx, a *purgeAction, policy RetentionPolicy, now time.Time, dryRun bool, done *PurgeReport, forget *[]crypto.IndexHash) error {
	cases := btx.Bucket(bucketCases)
	var c caseRecord
	if err := s.getTagged(cases, bucketCases, []byte(a.id), &c); err != nil {
		if isNotFound(err) {
			return nil
		}
		return err
	}
	if !c.UpdatedAt.Equal(a.updatedAtPlanning) {
		return nil // touched since the plan: next run decides
	}
	if a.del {
		n, err := s.deleteCase(btx, c, a, dryRun, forget)
		if err != nil {
			return err
		}
		done.Deleted = append(done.Deleted, c.Code)
		done.Messages += n
		return nil
	}
	if a.drop {
		done.NumbersDropped = append(done.NumbersDropped, c.Code)
		if !dryRun {
			sealed, err := s.seal(bucketCases, c.ID, caseSecret{})
			if err != nil {
				return err
			}
			c.Sealed, c.NumberDropped = sealed, true
		}
	}
	if a.close {
		done.Closed = append(done.Closed, c.Code)
		if !dryRun {
			if err := s.closeUntouched(btx, &c, policy, now); err != nil {
				return err
			}
		}
	}
	if dryRun {
		return nil
	}
	return s.putTagged(cases, bucketCases, []byte(c.ID), c)
}

// closeUntouched closes c (the caller stores it) and records the close in
// the case's workflow, as an officer's close would, with no officer.
func (s *Store) closeUntouched(btx *bolt.Tx, c *caseRecord, policy RetentionPolicy, now time.Time) error {
	t := &Tx{s: s, tx: btx}
	w, err := t.CaseWork(c.ID)
	if err != nil {
		return err
	}
	c.Status, c.UpdatedAt = hotline.CaseClosed, now
	if w.State == hotline.WorkClosed {
		return nil
	}
	reason := fmt.Sprintf("closed by retention: untouched for %s", policy.CloseUntouched)
	sealed, err := s.seal(bucketCaseWork, c.ID, workSecret{Reason: reason})
	if err != nil {
		return err
	}
	rec := workRecord{State: hotline.WorkClosed, History: append(w.History, hotline.WorkChange{State: hotline.WorkClosed, At: now}), Sealed: sealed}
	return s.putTagged(btx.Bucket(bucketCaseWork), bucketCaseWork, []byte(c.ID), rec)
}

// deleteCase removes a case and everything that belongs to it or points
// at it (messages, notes, priority corrections, workflow, voice call
// records, code, reporter and dedup entries), returning how many messages
// went with it. Alerts (ids, times and states, no content) stay for the
// record of who was alerted when.
func (s *Store) deleteCase(btx *bolt.Tx, c caseRecord, a *purgeAction, dryRun bool, forget *[]crypto.IndexHash) (int, error) {
	cases := btx.Bucket(bucketCases)
	prefix := []byte(c.ID + "/")
	var index [][]byte
	cur := cases.Cursor()
	for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
		index = append(index, clone(k))
	}
	if dryRun {
		return len(index), nil
	}
	msgs := btx.Bucket(bucketMessages)
	for _, k := range index {
		if err := msgs.Delete(k[len(prefix):]); err != nil {
			return 0, err
		}
		if err := cases.Delete(k); err != nil {
			return 0, err
		}
	}
	// Notes and priority corrections are keyed case id/their id.
	for _, bucket := range [][]byte{bucketCaseNotes, bucketCorrections} {
		var keys [][]byte
		c := btx.Bucket(bucket).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			keys = append(keys, clone(k))
		}
		for _, k := range keys {
			if err := btx.Bucket(bucket).Delete(k); err != nil {
				return 0, err
			}
		}
	}
	// Voicemail: the audio's chunks, its record and the case's link to it.
	var recordingLinks [][]byte
	links := btx.Bucket(bucketCaseRecordings)
	lc := links.Cursor()
	for k, _ := lc.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = lc.Next() {
		recordingLinks = append(recordingLinks, clone(k))
	}
	for _, link := range recordingLinks {
		recID := link[len(prefix):]
		chunks := btx.Bucket(bucketRecordingChunks)
		var chunkKeys [][]byte
		chunkPrefix := append(clone(recID), '/')
		cc := chunks.Cursor()
		for k, _ := cc.Seek(chunkPrefix); k != nil && bytes.HasPrefix(k, chunkPrefix); k, _ = cc.Next() {
			chunkKeys = append(chunkKeys, clone(k))
		}
		for _, k := range chunkKeys {
			if err := chunks.Delete(k); err != nil {
				return 0, err
			}
		}
		if err := btx.Bucket(bucketRecordings).Delete(recID); err != nil {
			return 0, err
		}
		if err := links.Delete(link); err != nil {
			return 0, err
		}
	}
	calls := btx.Bucket(bucketCalls)
	for _, k := range a.callKeys {
		var call VoiceCall
		// Only if it still belongs here: a call may have joined another case.
		if err := s.getTagged(calls, bucketCalls, k, &call); err == nil && call.CaseID == c.ID {
			if err := calls.Delete(k); err != nil {
				return 0, err
			}
		}
	}
	reporters := btx.Bucket(bucketReporters)
	for _, k := range a.reporterKeys {
		// Only if it still points here: a newer case may have taken it.
		if v := reporters.Get(k); len(v) > macLen && string(v[:len(v)-macLen]) == c.ID {
			if err := reporters.Delete(k); err != nil {
				return 0, err
			}
		}
	}
	for _, k := range a.dedupKeys {
		if err := btx.Bucket(bucketDedup).Delete(k); err != nil {
			return 0, err
		}
		var h crypto.IndexHash
		copy(h[:], k[8:])
		*forget = append(*forget, h)
	}
	for _, b := range [][]byte{bucketCaseCodes} {
		if err := btx.Bucket(b).Delete([]byte(c.Code)); err != nil {
			return 0, err
		}
	}
	for _, b := range [][]byte{bucketCaseWork, bucketCaseAlerts, bucketAlertPending} {
		if err := btx.Bucket(b).Delete([]byte(c.ID)); err != nil {
			return 0, err
		}
	}
	return len(index), cases.Delete([]byte(c.ID))
}

// forget drops entries of deleted cases from the in-memory index, after
// their log entries were deleted durably.
func (d *dedupIndex) forget(hashes []crypto.IndexHash) {
	if len(hashes) == 0 {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, h := range hashes {
		delete(d.committed, h)
	}
}
