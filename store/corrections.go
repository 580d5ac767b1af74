package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"

	"github.com/hotline-az/hotline"
)

// bucketCorrections holds officers' priority corrections: case id/correction
// id → correctionRecord. Ids begin with the time, so a case's corrections
// are in order and its last one is its current label.
var bucketCorrections = []byte("case_corrections")

func init() {
	allBuckets = append(allBuckets, bucketCorrections)
	// Appended last: a rewrap's saved cursor counts fields by index.
	sealedFields = append(sealedFields, sealedField{bucketCorrections, "sealed", recordKey})
}

// MaxCorrectionReason bounds the reason for a priority change, in characters.
const MaxCorrectionReason = 1000

// correctionRecord is a correction as stored, ending in an integrity tag:
// the priorities stay readable without a key (stats), the officer's reason
// and the rules triage matched are sealed, bound to the record's key.
type correctionRecord struct {
	ID        string           `json:"id"`
	CaseID    string           `json:"case_id"`
	At        time.Time        `json:"at"`
	From      hotline.Priority `json:"from"`
	To        hotline.Priority `json:"to"`
	Triage    hotline.Priority `json:"triage"`
	OfficerID string           `json:"officer_id,omitempty"`
	Via       string           `json:"via"`
	Sealed    []byte           `json:"sealed"` // correctionSecret
}

type correctionSecret struct {
	Reason  string   `json:"reason"`
	Matched []string `json:"matched"`
}

func correctionKey(caseID, id string) []byte { return []byte(caseID + "/" + id) }

// CheckCorrection says what is wrong with a priority change before
// anything is read: an unknown priority, or a reason that is missing, too
// long or not text. The messages name no field; callers add theirs.
func CheckCorrection(to hotline.Priority, reason string) *hotline.Error {
	reason = strings.TrimSpace(reason)
	switch {
	case to.Rank() == 0:
		return hotline.Errorf(hotline.EINVALID, "the priority must be P1, P2 or P3, not %q", to)
	case reason == "":
		return hotline.Errorf(hotline.EINVALID, "a priority change needs a reason")
	case !utf8.ValidString(reason):
		return hotline.Errorf(hotline.EINVALID, "the reason is not valid UTF-8 text")
	case utf8.RuneCountInString(reason) > MaxCorrectionReason:
		return hotline.Errorf(hotline.ETOOLARGE, "the reason is longer than %d characters", MaxCorrectionReason)
	case strings.ContainsFunc(reason, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }):
		return hotline.Errorf(hotline.EINVALID, "the reason contains control characters")
	}
	return nil
}

// CorrectPriority sets a case's priority to to on an officer's word
// (officerID "" for an admin on the server) and stores the correction with
// what triage had said: the most urgent priority of the reporter's texts
// and the rules they matched. The reason is required and sealed. Setting
// the priority the case already has is refused (ECONFLICT). The caller
// makes the case's alert follow, in the same transaction.
func (t *Tx) CorrectPriority(caseID string, to hotline.Priority, officerID, via, reason string) (hotline.Correction, error) {
	if err := t.writable(); err != nil {
		return hotline.Correction{}, err
	}
	if err := CheckCorrection(to, reason); err != nil {
		return hotline.Correction{}, err
	}
	reason = strings.TrimSpace(reason)
	cases := t.tx.Bucket(bucketCases)
	var c caseRecord
	if err := t.s.getTagged(cases, bucketCases, []byte(caseID), &c); isNotFound(err) {
		return hotline.Correction{}, hotline.Errorf(hotline.ENOTFOUND, "no such case")
	} else if err != nil {
		return hotline.Correction{}, err
	}
	if c.Priority == to {
		return hotline.Correction{}, hotline.Errorf(hotline.ECONFLICT, "case %s is already %s", c.Code, to)
	}
	triaged, matched, err := t.triageOf(caseID, time.Time{})
	if err != nil {
		return hotline.Correction{}, err
	}
	now := t.s.now()
	corr := hotline.Correction{
		ID: newID(now), CaseID: caseID, At: now, From: c.Priority, To: to,
		TriagePriority: triaged, TriageMatched: matched, OfficerID: officerID, Via: via, Reason: reason,
	}
	key := correctionKey(caseID, corr.ID)
	sealed, err := t.s.seal(bucketCorrections, string(key), correctionSecret{Reason: reason, Matched: matched})
	if err != nil {
		return hotline.Correction{}, err
	}
	rec := correctionRecord{ID: corr.ID, CaseID: caseID, At: now, From: corr.From, To: to, Triage: triaged,
		OfficerID: officerID, Via: via, Sealed: sealed}
	if err := t.s.putTagged(t.tx.Bucket(bucketCorrections), bucketCorrections, key, rec); err != nil {
		return hotline.Correction{}, err
	}
	c.Priority, c.UpdatedAt = to, now
	return corr, t.s.putTagged(cases, bucketCases, []byte(caseID), c)
}

// triageOf reads what triage said of a case's reporter texts (up to
// until, when it is not zero): the most urgent priority and every rule
// matched, in order, each once.
func (t *Tx) triageOf(caseID string, until time.Time) (hotline.Priority, []string, error) {
	var prio hotline.Priority
	matched := []string{}
	err := t.reporterTexts(caseID, until, func(m messageRecord, sec messageSecret) {
		prio = prio.Max(m.Priority)
		for _, r := range sec.Matched {
			if !slices.Contains(matched, r) {
				matched = append(matched, r)
			}
		}
	})
	return prio, matched, err
}

// reporterTexts calls fn for each inbound message of a case, oldest first,
// opened, up to until (zero: all).
func (t *Tx) reporterTexts(caseID string, until time.Time, fn func(messageRecord, messageSecret)) error {
	msgs := t.tx.Bucket(bucketMessages)
	prefix := []byte(caseID + "/")
	cur := t.tx.Bucket(bucketCases).Cursor()
	for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
		id := k[len(prefix):]
		var m messageRecord
		if err := getJSON(msgs, id, &m); err != nil {
			return fmt.Errorf("message %s of case %s: %w", keyName(id), caseID, err)
		}
		if m.Direction != hotline.Inbound || (!until.IsZero() && m.At.After(until)) {
			continue
		}
		sec, err := t.s.openMessage(caseID, id, m)
		if err != nil {
			return err
		}
		fn(m, sec)
	}
	return nil
}

// Corrections returns a case's priority corrections, oldest first, opened.
func (t *Tx) Corrections(caseID string) ([]hotline.Correction, error) {
	var out []hotline.Correction
	prefix := []byte(caseID + "/")
	c := t.tx.Bucket(bucketCorrections).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		corr, err := t.s.openCorrection(k, v)
		if err != nil {
			return nil, err
		}
		out = append(out, corr)
	}
	return out, nil
}

// openCorrection checks a stored correction's tag and opens it.
func (s *Store) openCorrection(k, v []byte) (hotline.Correction, error) {
	if err := s.checkTag(bucketCorrections, k, v); err != nil {
		return hotline.Correction{}, err
	}
	var rec correctionRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return hotline.Correction{}, err
	}
	if !bytes.Equal(k, correctionKey(rec.CaseID, rec.ID)) {
		return hotline.Correction{}, fmt.Errorf("%w: the correction under %s names itself %s/%s", ErrTampered, keyName(k), rec.CaseID, rec.ID)
	}
	var sec correctionSecret
	if err := s.open(bucketCorrections, string(k), rec.Sealed, &sec); err != nil {
		return hotline.Correction{}, fmt.Errorf("correction: %w", err)
	}
	return hotline.Correction{
		ID: rec.ID, CaseID: rec.CaseID, At: rec.At, From: rec.From, To: rec.To,
		TriagePriority: rec.Triage, TriageMatched: sec.Matched, OfficerID: rec.OfficerID, Via: rec.Via, Reason: sec.Reason,
	}, nil
}

// CorrectedTip is one corrected case as a labelled example: the
// reporter's texts up to its last correction, and that correction's
// priority. It holds tip text: it leaves the store only for an admin's
// encrypted export.
type CorrectedTip struct {
	CaseCode string
	// Text is the reporter's texts up to the last correction, one a line.
	Text     string
	Lang     hotline.Lang
	Category hotline.Category
	// Priority is the officer's (the last correction's); Triage what
	// triage had said.
	Priority hotline.Priority
	Triage   hotline.Priority
	// Corrections counts the case's corrections.
	Corrections int
}

// CorrectedTips returns every corrected case as a labelled example, in
// the order of their last correction. Cases with no reporter text (a call
// with no message) are left out and counted in skipped.
func (s *Store) CorrectedTips() (tips []CorrectedTip, skipped int, err error) {
	err = s.View(func(t *Tx) error {
		last := map[string]hotline.Correction{}
		count := map[string]int{}
		var order []string
		b := t.tx.Bucket(bucketCorrections)
		if err := b.ForEach(func(k, v []byte) error {
			corr, err := s.openCorrection(k, v)
			if err != nil {
				return err
			}
			if _, seen := last[corr.CaseID]; !seen {
				order = append(order, corr.CaseID)
			}
			last[corr.CaseID] = corr
			count[corr.CaseID]++
			return nil
		}); err != nil {
			return err
		}
		slices.SortStableFunc(order, func(x, y string) int { return last[x].At.Compare(last[y].At) })
		for _, id := range order {
			c, err := t.CaseByID(id)
			if err != nil {
				return err
			}
			corr := last[id]
			var texts []string
			if err := t.reporterTexts(id, corr.At, func(_ messageRecord, sec messageSecret) {
				if body := strings.TrimSpace(sec.Body); body != "" {
					texts = append(texts, body)
				}
			}); err != nil {
				return err
			}
			if len(texts) == 0 {
				skipped++
				continue
			}
			tips = append(tips, CorrectedTip{
				CaseCode: c.Code, Text: strings.Join(texts, "\n"), Lang: c.Lang, Category: c.Category,
				Priority: corr.To, Triage: corr.TriagePriority, Corrections: count[id],
			})
		}
		return nil
	})
	return tips, skipped, err
}

// CorrectionStats counts officers' priority corrections from plaintext
// metadata only.
type CorrectionStats struct {
	Total int `json:"total"`
	// Lowered and Raised count corrections that made a case less or more
	// urgent; P1Lowered and P3Raised single out the two that matter most
	// (a false page, a missed tip).
	Lowered   int `json:"lowered"`
	Raised    int `json:"raised"`
	P1Lowered int `json:"p1_lowered"`
	P3Raised  int `json:"p3_raised"`
	// ByChange counts each change, keyed "P1_to_P2".
	ByChange map[string]int `json:"by_change"`
}

// countCorrections adds the corrections bucket's counts to st.
func countCorrections(tx *bolt.Tx, st *CorrectionStats) error {
	st.ByChange = map[string]int{}
	b := tx.Bucket(bucketCorrections)
	if b == nil {
		return nil // a file from before corrections, opened read-only
	}
	return b.ForEach(func(k, v []byte) error {
		var r struct {
			From hotline.Priority `json:"from"`
			To   hotline.Priority `json:"to"`
		}
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("correction record: %w", err)
		}
		st.Total++
		st.ByChange[string(r.From)+"_to_"+string(r.To)]++
		switch {
		case r.To.Rank() < r.From.Rank():
			st.Lowered++
			if r.From == hotline.P1 {
				st.P1Lowered++
			}
		case r.To.Rank() > r.From.Rank():
			st.Raised++
			if r.From == hotline.P3 {
				st.P3Raised++
			}
		}
		return nil
	})
}

// correction checks a stored correction (tag, key, sealed reason) and
// that its case exists.
func (v verifier) correction(k, val []byte) error {
	corr, err := v.s.openCorrection(k, val)
	if err != nil {
		return err
	}
	if v.tx.Bucket(bucketCases).Get([]byte(corr.CaseID)) == nil {
		return fmt.Errorf("%w: the correction names case %s, which does not exist", ErrTampered, corr.CaseID)
	}
	return nil
}
