package triage_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/triage"
)

// Held-out sets: tips written before the rules were tuned on them.
// heldout2.jsonl was scored blind, once, before any rule was changed for it.
var heldoutSets = []string{
	"testdata/heldout.jsonl",
}

// p1Report lists the P1 tips the engine missed and its false P1 alarms.
func p1Report(e *triage.Engine, rows []labelled) string {
	var miss, alarm strings.Builder
	for _, r := range rows {
		got := e.Triage(r.Text)
		switch {
		case r.Priority == hotline.P1 && got.Priority != hotline.P1:
			fmt.Fprintf(&miss, "  got %s %v: %q\n", got.Priority, got.Matched, r.Text)
		case r.Priority != hotline.P1 && got.Priority == hotline.P1:
			fmt.Fprintf(&alarm, "  want %s, got P1 %v: %q\n", r.Priority, got.Matched, r.Text)
		}
	}
	return "P1 missed:\n" + miss.String() + "P1 false alarms:\n" + alarm.String()
}

func TestHeldoutSets(t *testing.T) {
	e := triage.Default()
	for _, path := range heldoutSets {
		t.Run(strings.TrimSuffix(strings.TrimPrefix(path, "testdata/"), ".jsonl"), func(t *testing.T) {
			rows := readSet(t, path)
			s := score(t, e, rows)
			t.Log("\n" + s.String() + p1Report(e, rows))
		})
	}
}
