package triage_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotline-az/hotline/triage"
)

// rulesAloneFloors are the rules' own P1 recall and P1 precision on each
// examples file, without the second opinion, when the file was last fixed.
// The tests of the whole engine cannot see a rule that stops firing when the
// model, trained on the same examples, takes over; this guard can. Raise a
// floor when a fix improves it; never lower one without saying why. The
// independent writers' batches (heldout29 and later) start lower: their P2
// tips fire weak rules that the second opinion, not the rules, settles.
var rulesAloneFloors = map[string][2]float64{
	"heldout.jsonl":    {1, 0.989},
	"heldout10.jsonl":  {1, 1},
	"heldout11.jsonl":  {1, 0.986},
	"heldout12.jsonl":  {1, 1},
	"heldout13.jsonl":  {1, 0.98},
	"heldout14.jsonl":  {0.96, 1},
	"heldout15.jsonl":  {1, 1},
	"heldout16.jsonl":  {1, 0.98},
	"heldout17.jsonl":  {0.96, 1},
	"heldout18.jsonl":  {1, 1},
	"heldout19.jsonl":  {1, 1},
	"heldout2.jsonl":   {1, 0.981},
	"heldout20.jsonl":  {1, 0.98},
	"heldout21.jsonl":  {1, 1},
	"heldout22.jsonl":  {0.98, 1},
	"heldout23.jsonl":  {1, 0.98},
	"heldout24.jsonl":  {0.98, 0.98},
	"heldout25.jsonl":  {0.98, 0.98},
	"heldout26.jsonl":  {1, 1},
	"heldout27.jsonl":  {1, 1},
	"heldout28.jsonl":  {0.98, 1},
	"heldout29.jsonl":  {0.868, 0.92},
	"heldout3.jsonl":   {1, 0.981},
	"heldout30.jsonl":  {0.811, 0.728},
	"heldout31.jsonl":  {0.884, 0.793}, // 0.807 came from "шутк*" matching "сутки" (ш reads as s); a retraction now settles that tip, with the model
	"heldout32.jsonl":  {0.862, 0.862},
	"heldout33.jsonl":  {0.943, 0.925},
	"heldout34.jsonl":  {0.906, 0.98},
	"heldout35.jsonl":  {0.887, 0.922},
	"heldout36.jsonl":  {0.905, 0.927},
	"heldout37.jsonl":  {0.929, 0.975},
	"heldout4.jsonl":   {1, 1},
	"heldout5.jsonl":   {1, 1},
	"heldout6.jsonl":   {1, 0.984},
	"heldout7.jsonl":   {1, 0.985},
	"heldout8.jsonl":   {1, 0.986},
	"heldout9.jsonl":   {1, 1},
	"labelled.jsonl":   {1, 0.97},      // lowered from 0.997: issue 13's contrast pairs (a retracted alarm, "don't reply, it's my work phone", a minor's wedding next year with an "if", a child sent to camp tomorrow who does not want to go, a door locked with nobody behind it) are settled by the second opinion, not the rules
	"labelled14.jsonl": {1, 0.921},     // issue 13's third round: contrast pairs whose harmless side (a relative's operation, children begging every day) is settled by the second opinion
	"labelled15.jsonl": {0.933, 0.903}, // issue 13's fourth round: contrast pairs (a score, a game, a boss's overtime, a kidney for a ticket, a child locked out) whose harmful side is sometimes told only to the second opinion
	"negated.jsonl":    {1, 1},
	"probe13.jsonl":    {0.89, 0.85}, // issue 13's second round: scored blind once, then joined the examples; not tuned to
	"triage-dev.jsonl": {1, 1},
}

func rulesOnlyEngine(t *testing.T) *triage.Engine {
	t.Helper()
	rules, err := os.ReadFile("rules.toml")
	if err != nil {
		t.Fatal(err)
	}
	off := strings.Replace(string(rules), "[second_opinion]\nenabled = true", "[second_opinion]\nenabled = false", 1)
	if off == string(rules) {
		t.Fatal("rules.toml has no [second_opinion] enabled = true to turn off")
	}
	e, err := triage.Load(strings.NewReader(off), "rules.toml")
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestRulesAloneDoNotRegress(t *testing.T) {
	e := rulesOnlyEngine(t)
	files, err := filepath.Glob("testdata/*.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range append(files, devSet) {
		s := score(t, e, readSet(t, f))
		name := filepath.Base(f)
		t.Logf("%-24s rules alone: P1 recall %.3f, P1 precision %.3f", name, s.p1Recall, s.p1Precision)
		floor, ok := rulesAloneFloors[name]
		if !ok {
			t.Errorf("%s has no floor in rulesAloneFloors", name)
			continue
		}
		// Floors are the figures printed to 3 decimals, so allow their rounding.
		if s.p1Recall+0.0005 < floor[0] || s.p1Precision+0.0005 < floor[1] {
			t.Errorf("%s: rules alone P1 recall %.3f, precision %.3f, below the floor %.3f, %.3f", name, s.p1Recall, s.p1Precision, floor[0], floor[1])
		}
	}
}
