package triage

import (
	"bufio"
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"sort"
	"sync"

	"github.com/hotline-az/hotline"
)

// The second opinion is a small learned model that estimates how likely a tip
// is to be P1, P2 or P3 from the words it uses, not from the rules. It is
// trained from the labelled tips in testdata/*.jsonl when the program
// starts, so the examples are the model: adding a labelled tip teaches it.
//
// The engine combines it with the rules by one decision table (decide in
// triage.go): a strong rule's P1 stands; a weak rule's P1 needs the model to
// agree; the model alone raises a tip only above thresholds chosen on tips
// it was not trained on (load.go). A missed "they locked me in" is the worst
// failure this product can have, and the rules miss wordings nobody wrote
// down yet, while the model generalises from words and parts of words it
// has seen in other tips; but the rules also fire on words used in a
// harmless sense, which the model can tell apart when it has seen such tips.
//
// The model is multinomial logistic regression over hashed features, trained
// with Adagrad. No maintained Go library does this without cgo at this size (a
// few thousand short texts, deterministic training in a fraction of a
// second), so it is written here.

//go:embed testdata/*.jsonl
var examplesFS embed.FS

// modelBits sets the size of the hashed feature space (2^modelBits weights
// per class).
const modelBits = 18

// Features of one tip, from the normalised keys, so Cyrillic, Latin,
// diacritics and typing variants of a word land on the same features:
//   - each word, and its first 5 letters (a crude stem for Azerbaijani and
//     Russian endings);
//   - each pair of neighbouring words in a clause;
//   - each run of 4 letters inside " word ".
const (
	featWord byte = iota + 1
	featStem
	featPair
	featGram
)

// stemLen and gramLen were chosen by leave-one-set-out runs over testdata/*.jsonl
// (model_test.go); other choices (3- and 5-grams, stems of 4 and 6) scored
// within noise of these.
const (
	stemLen = 5
	gramLen = 4
)

// featNegated marks the features of a word that a negation governs ("не
// бьют", "not locked in"), so that "not locked" does not count as "locked".
const featNegated byte = 0x10

// modelNegators are the Russian and English negation words, as keys.
// Azerbaijani negates inside the verb (döymürlər), which the stems and
// 4-grams already tell apart; its "nə" (what) has the key of Russian "не",
// so negation is marked only in Russian and English tips.
var modelNegators = func() map[string]bool {
	s := newScratch()
	m := make(map[string]bool)
	for _, w := range []string{"не", "ни", "нет", "никто", "нигде", "никогда", "not", "no", "dont", "doesnt", "didnt", "never", "nobody", "noone", "isnt", "arent", "wasnt", "werent", "wont", "cant", "cannot", "havent", "hasnt"} {
		s.normalize(w)
		m[string(s.word(0))] = true
	}
	return m
}()

// features appends the hashed features of the tip in s, read as language
// li, to dst.
func features(s *scratch, li int, dst []uint32) []uint32 {
	var gram [maxWord + 2]byte
	negUntil := -1 // tokens up to this index are negated
	for i := range s.toks {
		w := s.word(i)
		if s.toks[i].brk {
			negUntil = -1
		}
		var neg byte
		if i <= negUntil {
			neg = featNegated
		}
		if li != 0 && modelNegators[string(w)] {
			negUntil = i + negWindow[li]
		}
		dst = append(dst, hashFeat(featWord|neg, w, nil))
		if len(w) > stemLen {
			dst = append(dst, hashFeat(featStem|neg, w[:stemLen], nil))
		}
		if i > 0 && !s.toks[i].brk {
			dst = append(dst, hashFeat(featPair|neg, s.word(i-1), w))
		}
		if len(w)+2 > len(gram) || s.toks[i].num >= 0 {
			continue
		}
		g := append(append(append(gram[:0], ' '), w...), ' ')
		for j := 0; j+gramLen <= len(g); j++ {
			dst = append(dst, hashFeat(featGram|neg, g[j:j+gramLen], nil))
		}
	}
	return dst
}

// hashFeat is FNV-1a over kind, a and b, folded to modelBits.
func hashFeat(kind byte, a, b []byte) uint32 {
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	h = (h ^ uint64(kind)) * prime
	for _, c := range a {
		h = (h ^ uint64(c)) * prime
	}
	if b != nil {
		h = (h ^ ' ') * prime
		for _, c := range b {
			h = (h ^ uint64(c)) * prime
		}
	}
	return uint32(h>>(64-modelBits)) ^ uint32(h&(1<<modelBits-1))
}

// linear is a trained multinomial logistic regression. It is read-only after
// training, so one serves any number of goroutines.
type linear struct {
	classes int
	mask    uint32    // folds a feature into this model's 2^bits weights
	w       []float32 // (feature&mask)*classes + class
	bias    []float32
}

type example struct {
	feats []uint32
	class int
}

// trainParams are the training settings. defaultTrain was chosen by
// leave-one-set-out runs (model_test.go): a lower rate than 0.1 and more
// epochs than 25 changed nothing measurable.
type trainParams struct {
	epochs int
	rate   float32
	l2     float32
	// seed fixes the order of the examples, so that the same examples
	// always give the same model.
	seed uint64
}

var defaultTrain = trainParams{epochs: 25, rate: 0.05, l2: 1e-5, seed: 20261127}

// train fits a model with the given number of classes and 2^bits weights
// per class (bits at most modelBits) to the examples.
func train(exs []example, classes, bits int, tp trainParams) *linear {
	m := &linear{classes: classes, mask: 1<<bits - 1, w: make([]float32, classes<<bits), bias: make([]float32, classes)}
	// During training each feature's weights (one per class) and their
	// Adagrad sums of squared gradients lie side by side, so an update
	// touches one cache line instead of two; m.w gets the weights at the end.
	stride := 2 * classes
	st := make([]float32, stride<<bits)
	b2 := make([]float32, classes)
	p := make([]float64, classes)
	grad := make([]float32, classes)
	order := make([]int, len(exs))
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(tp.seed, tp.seed))
	for range tp.epochs {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			ex := &exs[i]
			for c := range classes {
				z := m.bias[c]
				for _, f := range ex.feats {
					z += st[int(f&m.mask)*stride+c]
				}
				p[c] = float64(z)
			}
			softmax(p)
			for c := range classes {
				grad[c] = float32(p[c])
			}
			grad[ex.class]--
			for _, f := range ex.feats {
				base := int(f&m.mask) * stride
				for c, g := range grad {
					w, g2 := &st[base+c], &st[base+classes+c]
					gf := g + tp.l2**w
					*g2 += gf * gf
					*w -= tp.rate * gf / (sqrt32(*g2) + 1e-6)
				}
			}
			for c, g := range grad {
				b2[c] += g * g
				m.bias[c] -= tp.rate * g / (sqrt32(b2[c]) + 1e-6)
			}
		}
	}
	for k := 0; k < 1<<bits; k++ {
		copy(m.w[k*classes:(k+1)*classes], st[k*stride:k*stride+classes])
	}
	return m
}

func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }

// probs fills p (one entry per class) with the model's probabilities for a
// tip with these features.
func (m *linear) probs(feats []uint32, p []float64) {
	for c := range m.classes {
		z := m.bias[c]
		for _, f := range feats {
			z += m.w[int(f&m.mask)*m.classes+c]
		}
		p[c] = float64(z)
	}
	softmax(p)
}

// softmax turns the scores in p into probabilities.
func softmax(p []float64) {
	top := math.Inf(-1)
	for _, z := range p {
		top = max(top, z)
	}
	var sum float64
	for c := range p {
		p[c] = math.Exp(p[c] - top)
		sum += p[c]
	}
	for c := range p {
		p[c] /= sum
	}
}

// secondOpinion is the pair of models trained from testdata/*.jsonl: one
// gives the probabilities of P1, P2 and P3, the other which category a P1 or
// P2 tip belongs to (used when the model raises a tip the rules gave no
// category).
type secondOpinion struct {
	priority *linear // classes: 0 P1, 1 P2, 2 P3
	category *linear
}

// priorityClass numbers the priorities as the priority model's classes.
func priorityClass(p hotline.Priority) int { return 3 - p.Rank() }

// opinion is what the priority model says of one tip.
type opinion struct {
	p1, p2, p3 float64
}

// categoryEpochs is the category model's number of passes: it only names the
// category of a tip the model raised with no rule to name it, and with 7
// classes it cost as much to train as the priority model at 25 passes; 10
// passes keep the start-up time of the hotline near what it was with a
// two-class model (BenchmarkTrainSecondOpinion).
const categoryEpochs = 10

// categoryBits sizes the category model: it only names the category of a
// raised tip, so 2^16 weights per category (1.8 MB in all) are enough.
const categoryBits = 16

// modelCategories are the categories the category model chooses among.
var modelCategories = []hotline.Category{
	hotline.CategoryLabor, hotline.CategorySexual, hotline.CategoryChild,
	hotline.CategoryBegging, hotline.CategoryServitude, hotline.CategoryOrgan,
	hotline.CategoryRecruitment,
}

// labelledTip is one line of an examples file.
type labelledTip struct {
	Text     string           `json:"text"`
	Priority hotline.Priority `json:"priority"`
	Category hotline.Category `json:"category"`
}

// readExamples reads every testdata/*.jsonl file, in name order.
func readExamples(fsys fs.FS) ([]labelledTip, error) {
	names, err := fs.Glob(fsys, "testdata/*.jsonl")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var tips []labelledTip
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for n := 1; sc.Scan(); n++ {
			if len(bytes.TrimSpace(sc.Bytes())) == 0 {
				continue
			}
			var t labelledTip
			if err := json.Unmarshal(sc.Bytes(), &t); err != nil {
				return nil, fmt.Errorf("%s:%d: %w", name, n, err)
			}
			if t.Text == "" || t.Priority.Rank() == 0 {
				return nil, fmt.Errorf("%s:%d: need a text and a priority P1, P2 or P3", name, n)
			}
			tips = append(tips, t)
		}
	}
	return tips, nil
}

// trainSecondOpinion trains both models from the labelled tips.
func trainSecondOpinion(tips []labelledTip, tp trainParams) *secondOpinion {
	s := newScratch()
	var prio, cat []example
	for _, t := range tips {
		f := features(s, langIndex(s.readTip(t.Text)), nil)
		prio = append(prio, example{feats: f, class: priorityClass(t.Priority)})
		if t.Priority != hotline.P3 {
			if c := categoryClass(t.Category); c >= 0 {
				cat = append(cat, example{feats: f, class: c})
			}
		}
	}
	return &secondOpinion{
		priority: train(prio, 3, modelBits, tp),
		category: train(cat, len(modelCategories), categoryBits, trainParams{epochs: categoryEpochs, rate: tp.rate, l2: tp.l2, seed: tp.seed}),
	}
}

func categoryClass(c hotline.Category) int {
	for i, mc := range modelCategories {
		if mc == c {
			return i
		}
	}
	return -1
}

// embeddedModel is the second opinion trained from the embedded examples,
// once per process (about 0.3 s; BenchmarkTrainSecondOpinion).
var embeddedModel = sync.OnceValue(func() *secondOpinion {
	tips, err := readExamples(examplesFS)
	if err != nil {
		panic(fmt.Sprintf("triage: embedded examples are invalid: %v", err))
	}
	return trainSecondOpinion(tips, defaultTrain)
})

// judge returns the probabilities the model gives the tip in s, read as
// language li, of being P1, P2 and P3. It leaves the tip's features in
// s.feats for likelyCategory.
func (so *secondOpinion) judge(s *scratch, li int) opinion {
	s.feats = features(s, li, s.feats[:0])
	var p [3]float64
	so.priority.probs(s.feats, p[:])
	return opinion{p1: p[0], p2: p[1], p3: p[2]}
}

// likelyCategory returns the category the model finds most likely for the
// tip whose features judge left in s.feats.
func (so *secondOpinion) likelyCategory(s *scratch) hotline.Category {
	var pcArr [8]float64
	pc := pcArr[:len(modelCategories)]
	so.category.probs(s.feats, pc)
	best := 0
	for c := range pc {
		if pc[c] > pc[best] {
			best = c
		}
	}
	return modelCategories[best]
}
