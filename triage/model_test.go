package triage

import (
	"hash/fnv"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/hotline-az/hotline"
)

func TestTrainingIsDeterministic(t *testing.T) {
	tips, err := readExamples(examplesFS)
	if err != nil {
		t.Fatal(err)
	}
	sum := func(m *linear) uint64 {
		h := fnv.New64a()
		for _, w := range m.w {
			b := math.Float32bits(w)
			h.Write([]byte{byte(b), byte(b >> 8), byte(b >> 16), byte(b >> 24)})
		}
		return h.Sum64()
	}
	small := tips[:300]
	a, b := trainSecondOpinion(small, defaultTrain), trainSecondOpinion(small, defaultTrain)
	if sum(a.priority) != sum(b.priority) || sum(a.category) != sum(b.category) {
		t.Fatal("the same examples gave two different models")
	}
	c := trainSecondOpinion(tips[:299], defaultTrain)
	if sum(a.priority) == sum(c.priority) {
		t.Fatal("one example fewer gave the same model: training ignores its input")
	}
}

func TestReadExamplesNamesTheBadLine(t *testing.T) {
	fsys := fstest.MapFS{
		"testdata/a.jsonl": {Data: []byte(`{"text":"ok","priority":"P3","category":"none"}` + "\n\n" + `{"text":"x","priority":"P7"}` + "\n")},
	}
	_, err := readExamples(fsys)
	if err == nil || err.Error() != "testdata/a.jsonl:3: need a text and a priority P1, P2 or P3" {
		t.Fatalf("err = %v", err)
	}
	fsys["testdata/a.jsonl"] = &fstest.MapFile{Data: []byte("{not json\n")}
	if _, err := readExamples(fsys); err == nil {
		t.Fatal("a line that is not JSON was accepted")
	}
}

// TestSecondOpinionLeaveOneSetOut measures how the model does on tips it was
// not trained on: for each examples file, a model trained on all the others
// judges it. It prints, per file and in all, how many P1 tips reach the
// threshold (recall) and how many others do (false raises), the calibration
// (how often a tip scored 0.8 to 0.9 is really P1), and what each row of
// the decision table would do with the settings of rules.toml. It fails if
// the settings stop meeting the rules they were chosen by (load.go):
// tips at or above threshold are P1 at least 90 times in 100; tips raised to
// P2 at threshold_p2 are P2 or P1 at least 75 times in 100; below confirm,
// at most 1 tip in 100 is P1. It trains a model per file: about a minute.
func TestSecondOpinionLeaveOneSetOut(t *testing.T) {
	if testing.Short() {
		t.Skip("trains one model per examples file")
	}
	files, err := filepath.Glob("testdata/*.jsonl")
	if err != nil || len(files) < 5 {
		t.Fatalf("examples: %v (%d files)", err, len(files))
	}
	sort.Strings(files)
	sets := make(map[string][]example)
	s := newScratch()
	for _, f := range files {
		for _, tip := range readTips(t, f) {
			li := langIndex(s.readTip(tip.Text))
			sets[f] = append(sets[f], example{feats: features(s, li, nil), class: priorityClass(tip.Priority)})
		}
	}
	e := Default()
	var (
		p1, hit, other, raised int
		bins                   [10][2]int // by P(P1) tenth: tips, P1 tips
		up2, up2ok             int        // raised to P2: tips, P2 or P1 tips
		low, lowP1             int        // below confirm: tips, P1 tips
	)
	p := make([]float64, 3)
	for _, held := range files {
		var tr []example
		for _, f := range files {
			if f != held {
				tr = append(tr, sets[f]...)
			}
		}
		m := train(tr, 3, modelBits, defaultTrain)
		var sp1, shit, sother, sraised int
		for _, ex := range sets[held] {
			m.probs(ex.feats, p)
			isP1 := ex.class == priorityClass(hotline.P1)
			b := min(int(p[0]*10), 9)
			bins[b][0]++
			if isP1 {
				bins[b][1]++
			}
			if p[0] < e.confirm {
				low++
				if isP1 {
					lowP1++
				}
			}
			if p[0] < e.threshold && p[1] >= e.thresholdP2 {
				up2++
				if ex.class != priorityClass(hotline.P3) {
					up2ok++
				}
			}
			up := p[0] >= e.threshold
			if isP1 {
				sp1++
				if up {
					shit++
				}
			} else {
				sother++
				if up {
					sraised++
				}
			}
		}
		t.Logf("%-24s P1 reaching %.2f: %3d of %3d; others raised: %2d of %3d", filepath.Base(held), e.threshold, shit, sp1, sraised, sother)
		p1, hit, other, raised = p1+sp1, hit+shit, other+sother, raised+sraised
	}
	recall, falseRate := float64(hit)/float64(p1), float64(raised)/float64(other)
	precision := float64(hit) / float64(hit+raised)
	t.Logf("all: P1 recall of the model alone %.3f (%d of %d), false raises %.3f (%d of %d), P1 among tips at %.2f or more %.3f", recall, hit, p1, falseRate, raised, other, e.threshold, precision)
	t.Log("calibration: P(P1) given by the model, tips, of which P1")
	for b, n := range bins {
		if n[0] > 0 {
			t.Logf("  %.1f-%.1f %5d %5d (%.2f)", float64(b)/10, float64(b+1)/10, n[0], n[1], float64(n[1])/float64(n[0]))
		}
	}
	t.Logf("raised to P2 at %.2f: %d tips, %d of them P2 or P1 (%.2f); below confirm %.2f: %d tips, %d of them P1 (%.3f)",
		e.thresholdP2, up2, up2ok, float64(up2ok)/float64(up2), e.confirm, low, lowP1, float64(lowP1)/float64(low))
	if precision < 0.9 {
		t.Errorf("tips the model scores at least %.2f are P1 %.3f of the time, want at least 0.9: raise threshold", e.threshold, precision)
	}
	if float64(up2ok) < 0.75*float64(up2) {
		t.Errorf("tips raised to P2 at %.2f are P2 or P1 %d of %d times, want at least 3 in 4: raise threshold_p2", e.thresholdP2, up2ok, up2)
	}
	if float64(lowP1) > 0.01*float64(low) {
		t.Errorf("%d of %d tips scored below confirm %.2f are P1, want at most 1 in 100: lower confirm", lowP1, low, e.confirm)
	}
	// Regression floors, a little below the figures of the last change
	// (recall 0.901, false raises 0.009).
	if recall < 0.89 {
		t.Errorf("the model alone finds %.3f of P1 tips it was not trained on, want at least 0.89", recall)
	}
	if falseRate > 0.015 {
		t.Errorf("the model alone raises %.3f of tips that are not P1, want at most 0.015", falseRate)
	}
}

// readTips reads one labelled file the way the embedded examples are read.
func readTips(t *testing.T, path string) []labelledTip {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tips, err := readExamples(fstest.MapFS{"testdata/" + filepath.Base(path): {Data: b}})
	if err != nil {
		t.Fatal(err)
	}
	return tips
}

// TestSecondOpinionOnBlindSets is a measuring tool, run by hand: for each
// examples file named in TRIAGE_BLIND (comma-separated base names), it
// trains the model without that file and scores rules alone and rules with
// the model on it, as if the file had never been seen. TRIAGE_SEEDS=n
// repeats it with n orders of the training examples: a few examples more or
// less move the model as much as another order does, so a change is real
// only if it holds across orders.
func TestSecondOpinionOnBlindSets(t *testing.T) {
	blind := os.Getenv("TRIAGE_BLIND")
	if blind == "" {
		t.Skip("set TRIAGE_BLIND=heldout13.jsonl,... to measure")
	}
	seeds := 1
	if n, err := strconv.Atoi(os.Getenv("TRIAGE_SEEDS")); err == nil && n > 0 {
		seeds = n
	}
	var sumP1, sumHit, sumSaid, sumRight, sumN int
	for seed := range seeds {
		tp := defaultTrain
		tp.seed += uint64(seed)
		for _, name := range strings.Split(blind, ",") {
			var train []labelledTip
			for _, f := range mustGlob(t, "testdata/*.jsonl") {
				if filepath.Base(f) == name {
					continue
				}
				train = append(train, readTips(t, f)...)
			}
			rulesOnly, err := Load(strings.NewReader(strings.Replace(string(defaultRules), "[second_opinion]\nenabled = true", "[second_opinion]\nenabled = false", 1)), "rules.toml")
			if err != nil {
				t.Fatal(err)
			}
			withModel, err := Load(strings.NewReader(string(defaultRules)), "rules.toml")
			if err != nil {
				t.Fatal(err)
			}
			withModel.opinion = trainSecondOpinion(train, tp)
			held := readTips(t, filepath.Join("testdata", name))
			for _, e := range []*Engine{rulesOnly, withModel} {
				var p1, hit, said, wrong, right int
				for _, tip := range held {
					got := e.Triage(tip.Text)
					if got.Priority == tip.Priority {
						right++
					}
					if tip.Priority == hotline.P1 {
						p1++
					}
					if got.Priority == hotline.P1 {
						said++
						if tip.Priority == hotline.P1 {
							hit++
						} else {
							wrong++
							t.Logf("   false P1 %v: %q", got.Matched, tip.Text)
						}
					} else if tip.Priority == hotline.P1 {
						t.Logf("   missed P1 (%s %v): %q", got.Priority, got.Matched, tip.Text)
					}
				}
				t.Logf("%s model=%v seed+%d: P1 recall %.3f (%d of %d), P1 precision %.3f (%d of %d), priority accuracy %.3f",
					name, e.opinion != nil, seed, float64(hit)/float64(p1), hit, p1, float64(hit)/float64(said), hit, said, float64(right)/float64(len(held)))
				if e.opinion != nil {
					sumP1, sumHit, sumSaid, sumRight, sumN = sumP1+p1, sumHit+hit, sumSaid+said, sumRight+right, sumN+len(held)
				}
			}
		}
	}
	t.Logf("rules and model, all files and orders: P1 recall %.3f (%d of %d), P1 precision %.3f (%d of %d), priority accuracy %.3f",
		float64(sumHit)/float64(sumP1), sumHit, sumP1, float64(sumHit)/float64(sumSaid), sumHit, sumSaid, float64(sumRight)/float64(sumN))
}

func mustGlob(t *testing.T, pattern string) []string {
	t.Helper()
	m, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// BenchmarkTrainSecondOpinion measures what the second opinion adds to the
// start of the hotline and of `hotline triage`.
func BenchmarkTrainSecondOpinion(b *testing.B) {
	tips, err := readExamples(examplesFS)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		trainSecondOpinion(tips, defaultTrain)
	}
}

// TestDecisionTableSweep is a measuring tool, run by hand
// (TRIAGE_SWEEP=1): for each examples file, a model trained on all the
// others judges it, and the whole engine is scored at several values of
// confirm and threshold, over every file and over the independent writers'
// batches (heldout29 and later), so that the decision table's settings are
// chosen on tips the model was not trained on. The rules have seen these
// files, so the figures are kinder than a blind batch.
func TestDecisionTableSweep(t *testing.T) {
	if os.Getenv("TRIAGE_SWEEP") == "" {
		t.Skip("set TRIAGE_SWEEP=1 to measure")
	}
	files := mustGlob(t, "testdata/*.jsonl")
	sort.Strings(files)
	tips := make(map[string][]labelledTip)
	for _, f := range files {
		tips[f] = readTips(t, f)
	}
	confirms := []float64{0.05, 0.1, 0.2, 0.3, 0.5}
	thresholds := []float64{0.8, 0.85, 0.9, 0.95}
	type tally struct{ p1, hit, said, right, n int }
	all := make(map[[2]float64]*tally)
	indep := make(map[[2]float64]*tally)
	for _, held := range files {
		var tr []labelledTip
		for _, f := range files {
			if f != held {
				tr = append(tr, tips[f]...)
			}
		}
		e, err := Load(strings.NewReader(string(defaultRules)), "rules.toml")
		if err != nil {
			t.Fatal(err)
		}
		e.opinion = trainSecondOpinion(tr, defaultTrain)
		isIndep := filepath.Base(held) >= "heldout29.jsonl" && strings.HasPrefix(filepath.Base(held), "heldout") && len(filepath.Base(held)) == len("heldout29.jsonl")
		for _, c := range confirms {
			for _, th := range thresholds {
				e.confirm, e.threshold = c, th
				k := [2]float64{c, th}
				for _, m := range []map[[2]float64]*tally{all, indep} {
					if m[k] == nil {
						m[k] = &tally{}
					}
				}
				for _, tip := range tips[held] {
					got := e.Triage(tip.Text).Priority
					for i, m := range []map[[2]float64]*tally{all, indep} {
						if i == 1 && !isIndep {
							continue
						}
						s := m[k]
						s.n++
						if got == tip.Priority {
							s.right++
						}
						if tip.Priority == hotline.P1 {
							s.p1++
						}
						if got == hotline.P1 {
							s.said++
							if tip.Priority == hotline.P1 {
								s.hit++
							}
						}
					}
				}
			}
		}
	}
	for _, c := range confirms {
		for _, th := range thresholds {
			k := [2]float64{c, th}
			a, b := all[k], indep[k]
			t.Logf("confirm %.2f threshold %.2f: all files P1 recall %.3f precision %.3f accuracy %.3f | heldout29-33 P1 recall %.3f (%d/%d) precision %.3f accuracy %.3f",
				c, th, float64(a.hit)/float64(a.p1), float64(a.hit)/float64(a.said), float64(a.right)/float64(a.n),
				float64(b.hit)/float64(b.p1), b.hit, b.p1, float64(b.hit)/float64(b.said), float64(b.right)/float64(b.n))
		}
	}
}
