package triage

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/hotline-az/hotline"
)

// constantOpinion is a second opinion that gives every tip the same
// probabilities of P1, P2 and P3, to test the decision table alone.
func constantOpinion(p1, p2, p3 float64) *secondOpinion {
	logp := func(p float64) float32 { return float32(math.Log(p)) }
	return &secondOpinion{
		priority: &linear{classes: 3, w: make([]float32, 3), bias: []float32{logp(p1), logp(p2), logp(p3)}},
		category: &linear{classes: len(modelCategories), w: make([]float32, len(modelCategories)), bias: make([]float32, len(modelCategories))},
	}
}

const decisionRules = `
[second_opinion]
threshold = 0.6
threshold_p2 = 0.6
confirm = 0.3

[words.imminent]
en = ["tonight", "tomorrow"]

[words.reassured]
en = ["nobody is hurt"]

[words.retracted]
en = ["it turned out"]

[words.practical_request]
en = ["embassy +number"]

[words.routine]
en = ["every +day"]

[[rule]]
name = "locked"
priority = "P1"
category = "servitude"
en = ["locked in"]

[[rule]]
name = "plea_net"
priority = "P1"
weak = true
category = "servitude"
en = ["help"]

[[rule]]
name = "married"
priority = "P2"
imminent = "P1"
category = "child"
en = ["married off"]

[[rule]]
name = "late"
priority = "P2"
category = "labor"
en = ["late pay"]
`

func TestDecisionTable(t *testing.T) {
	e, err := Load(strings.NewReader(decisionRules), "test.toml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		text       string
		p1, p2, p3 float64 // the second opinion's probabilities; p1 -1 for none
		want       hotline.Priority
		matched    []string
	}{
		{"they locked me in", 0.01, 0.5, 0.49, hotline.P1, []string{"locked"}},
		{"they locked me in", -1, 0, 0, hotline.P1, []string{"locked"}},
		{"they locked us in, nobody is hurt", 0.2, 0.5, 0.3, hotline.P2, []string{"locked", Reassured, SecondOpinionDisagrees}},
		{"they locked us in, nobody is hurt", 0.5, 0.3, 0.2, hotline.P2, []string{"locked", Reassured, SecondOpinionDisagrees}},
		{"they locked us in, nobody is hurt", 0.61, 0.3, 0.09, hotline.P1, []string{"locked", Reassured, SecondOpinionAgrees}},
		{"they locked us in, nobody is hurt", 0.05, 0.05, 0.9, hotline.P2, []string{"locked", Reassured, SecondOpinionDisagrees}},
		{"they locked us in, nobody is hurt", -1, 0, 0, hotline.P1, []string{"locked", Reassured}},
		{"help, nobody is hurt", 0.5, 0.3, 0.2, hotline.P2, []string{"plea_net", Reassured, SecondOpinionDisagrees}},
		{"they locked us in, it turned out it was a game", 0.05, 0.05, 0.9, hotline.P3, []string{"locked", Retracted, SecondOpinionDisagrees}},
		{"they locked us in, it turned out it was a game", 0.05, 0.7, 0.25, hotline.P2, []string{"locked", Retracted, SecondOpinionDisagrees}},
		{"they locked us in, it turned out it was a game", 0.7, 0.2, 0.1, hotline.P1, []string{"locked", Retracted, SecondOpinionAgrees}},
		{"late pay, it turned out", 0.7, 0.2, 0.1, hotline.P2, []string{"late"}},
		{"help", 0.1, 0.5, 0.4, hotline.P2, []string{"plea_net", SecondOpinionDisagrees}},
		{"help", 0.1, 0.1, 0.8, hotline.P3, []string{"plea_net", SecondOpinionDisagrees}},
		{"help", 0.31, 0.3, 0.39, hotline.P1, []string{"plea_net", SecondOpinionAgrees}},
		{"help", -1, 0, 0, hotline.P1, []string{"plea_net"}},
		{"help, they locked me in", 0.01, 0.01, 0.98, hotline.P1, []string{"locked", "plea_net"}},
		{"my sister is married off next year", 0.01, 0.5, 0.49, hotline.P2, []string{"married", NotImminent}},
		{"my sister is married off tomorrow", 0.01, 0.5, 0.49, hotline.P1, []string{"married", Imminent}},
		// The rules judged the time (not_imminent): the model alone does
		// not raise the tip to P1, however sure it is.
		{"my sister is married off next year", 0.95, 0.04, 0.01, hotline.P2, []string{"married", NotImminent}},
		{"my sister is married off tomorrow", 0.95, 0.04, 0.01, hotline.P1, []string{"married", Imminent}},
		// ... and a weak rule beside it needs threshold, not confirm.
		{"help, my sister is married off next year", 0.5, 0.3, 0.2, hotline.P2, []string{"plea_net", "married", NotImminent, SecondOpinionDisagrees}},
		{"help, my sister is married off next year", 0.61, 0.3, 0.09, hotline.P1, []string{"plea_net", "married", NotImminent, SecondOpinionAgrees}},
		{"help, my sister is married off tomorrow", 0.01, 0.3, 0.69, hotline.P1, []string{"plea_net", "married", Imminent}},
		{"late pay again", 0.5, 0.3, 0.2, hotline.P2, []string{"late"}},
		{"late pay again", 0.1, 0.1, 0.8, hotline.P2, []string{"late"}},
		{"late pay again", 0.61, 0.3, 0.09, hotline.P1, []string{"late", SecondOpinion}},
		{"late pay, help", 0.1, 0.1, 0.8, hotline.P2, []string{"plea_net", "late", SecondOpinionDisagrees}},
		{"nothing here", 0.5, 0.1, 0.4, hotline.P3, []string{}},
		{"nothing here", 0.3, 0.61, 0.09, hotline.P2, []string{SecondOpinion}},
		{"nothing here", 0.7, 0.2, 0.1, hotline.P1, []string{SecondOpinion}},
		// A practical request is never raised to P1 by the model alone,
		// but may still be raised to P2, and does not stop a rule.
		{"what is the embassy number", 0.95, 0.04, 0.01, hotline.P3, []string{}},
		{"what is the embassy number", 0.3, 0.61, 0.09, hotline.P2, []string{SecondOpinion}},
		{"help, embassy number", 0.95, 0.04, 0.01, hotline.P1, []string{"plea_net", SecondOpinionAgrees}},
		{"they locked me in, embassy number", 0.01, 0.01, 0.98, hotline.P1, []string{"locked"}},
		// A routine without a sign of imminence is not raised by the model
		// alone; a rule, or a sign of imminence, still makes it P1.
		{"kids beg there every day", 0.95, 0.04, 0.01, hotline.P2, []string{Routine}},
		{"kids beg there every day", 0.5, 0.4, 0.1, hotline.P3, []string{}},
		{"late pay every day", 0.95, 0.04, 0.01, hotline.P2, []string{"late", Routine}},
		{"kids beg there every day, tonight they go", 0.95, 0.04, 0.01, hotline.P1, []string{SecondOpinion}},
		{"every day they keep me locked in", 0.01, 0.01, 0.98, hotline.P1, []string{"locked"}},
		{"help, every day", 0.5, 0.3, 0.2, hotline.P1, []string{"plea_net", SecondOpinionAgrees}},
	}
	for _, tc := range tests {
		e.opinion = nil
		if tc.p1 >= 0 {
			e.opinion = constantOpinion(tc.p1, tc.p2, tc.p3)
		}
		got := e.Triage(tc.text)
		if got.Priority != tc.want || !slices.Equal(got.Matched, tc.matched) {
			t.Errorf("Triage(%q) with P1 %.2f, P2 %.2f, P3 %.2f = %s %v, want %s %v", tc.text, tc.p1, tc.p2, tc.p3, got.Priority, got.Matched, tc.want, tc.matched)
		}
	}
}
