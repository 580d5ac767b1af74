// Package triage reads the text of a tip and says how urgent it is (P1, P2,
// P3), what kind of exploitation it suggests, which language it is written in
// and which rules fired.
//
// The rules live in a TOML file that officers can read and extend; the
// default set is embedded (rules.toml) and another file can replace it
// (LoadFile). README.md explains the file.
//
// The Engine never logs and keeps no state between tips, so one Engine serves
// any number of goroutines.
package triage

import (
	"bytes"
	_ "embed"
	"fmt"
	"sync"

	"github.com/hotline-az/hotline"
)

//go:embed rules.toml
var defaultRules []byte

var defaultEngine = sync.OnceValue(func() *Engine {
	e, err := Load(bytes.NewReader(defaultRules), "rules.toml")
	if err != nil {
		panic(fmt.Sprintf("triage: embedded rules are invalid: %v", err))
	}
	return e
})

// Default returns the engine built from the embedded rules.toml. It panics
// only if the embedded file is invalid, which the package tests rule out.
// Every call returns the same Engine.
func Default() *Engine { return defaultEngine() }

// Engine triages tips with a fixed set of rules. It is safe for concurrent
// use. Make one with Default, Load or LoadFile.
type Engine struct {
	lists   []list
	phrases []phrase
	gates   []phraseGate // of every index entry, entry by entry
	rules   []rule

	exact       map[string]indexEntry // words matched whole
	prefix      map[string]indexEntry // stems (words ending in *)
	prefixLens  uint64                // lengths of the stems in prefix
	suffix      map[string]indexEntry // word endings (words starting with *)
	suffixLens  uint64                // lengths of the endings in suffix
	minor       indexEntry            // #minor
	negators    [3]map[string]bool    // by language index
	opinion     *secondOpinion        // nil when [second_opinion] is off
	threshold   float64               // the model alone raises to P1 at this probability
	thresholdP2 float64               // the model alone raises a P3 tip to P2 at this probability
	confirm     float64               // a weak rule's P1 stands at this probability
	imminent    int32                 // the list imminentList, or -1
	reassured   int32                 // the list reassuredList, or -1
	retracted   int32                 // the list retractedList, or -1
	practical   int32                 // the list practicalList, or -1
	ordinary    int32                 // the list ordinaryList, or -1
	routine     int32                 // the list routineList, or -1
	catRank     [9]int                // by category index; higher wins
	words       int                   // uint64 words in a list bitset

	pool sync.Pool // *scratch
}

var _ hotline.Triager = (*Engine)(nil)

type list struct {
	name     string
	include  []int32
	sentence bool // scope = "sentence": see reread
}

// indexEntry says what a word (or stem) starts and belongs to.
type indexEntry struct {
	phrases []int32 // phrases whose first word it is
	refs    uint64  // bits of the @lists that hold it
	// gateAt is where those phrases' gates start in the Engine's gates,
	// in the same order, kept together so that the candidates of a word
	// are read in one sweep.
	gateAt int32
}

type wordPat struct {
	lit      string
	prefix   bool
	suffix   bool // "*ending": the word ends with lit and is longer
	minor    bool
	adjacent bool      // "+word": right after the previous word, no gap
	ref      uint64    // for @list: the list's bit
	alts     []wordPat // for @list: its words (used to index a first word)
}

// cand is a phrase that may start at a token: its gate is gates[gate].
type cand struct{ tok, gate int32 }

type phrase struct {
	words    []wordPat
	list     int32 // the list it belongs to
	negFirst bool  // it starts with a negation word, so is not cancelled by one
}

// phraseGate is the part of a phrase try needs first, copied into the
// index entries of its first word: a tip has hundreds of candidate
// phrases and most fail at their second word, so reading them in one
// sweep keeps that failure from costing cache misses on phrase, word and
// literal (on a busy server a tip took 6x its benchmark time in them). For a phrase of
// several words, next says what its second word can match: a word whose
// first bytes give a tokSig bit in sig, or a token of an @list in ref;
// both 0 when no quick test exists (an ending, #minor, a short stem).
type phraseGate struct {
	sig, ref uint64
	phrase   int32
	list     int32
	multi    bool // more than one word
	adjacent bool // the second word must come right after the first
	negFirst bool
	scoped   bool // its list is sentence-scoped
}

// newGate describes p for try.
func newGate(pid int32, p *phrase, scoped bool) phraseGate {
	g := phraseGate{phrase: pid, list: p.list, multi: len(p.words) > 1, negFirst: p.negFirst, scoped: scoped}
	if !g.multi {
		return g
	}
	w := p.words[1]
	g.adjacent = w.adjacent
	switch {
	case w.minor || w.suffix:
	case w.ref != 0:
		g.ref = w.ref
	case w.prefix && len(w.lit) < sigBytes:
	default:
		g.sig = tokSig(w.lit)
	}
	return g
}

// sigBytes is how many leading bytes of a word tokSig reads.
const sigBytes = 3

// tokSig is a one-bit signature of a word's first sigBytes bytes (of the
// whole word when it is shorter), so that a word and every word it is a
// stem of share the bit.
func tokSig[T string | []byte](w T) uint64 {
	h := uint32(len(w)) << 24
	if len(w) >= sigBytes {
		h = uint32(w[0]) | uint32(w[1])<<8 | uint32(w[2])<<16
	} else {
		for i := 0; i < len(w); i++ {
			h |= uint32(w[i]) << (8 * i)
		}
	}
	return 1 << ((h * 0x9E3779B1) >> 26)
}

type rule struct {
	name     string
	priority hotline.Priority // "" for a category hint
	category hotline.Category
	langs    uint8 // bit per language index; 0 for all
	own      int32 // list of the rule's own phrases, or -1
	needs    []int32
	unless   [][]int32        // each group stops the rule when all its lists are found
	maxWords int              // 0 for any length
	imminent hotline.Priority // the priority with a sign of imminence; "" for none
	weak     bool             // its P1 needs the second opinion to agree
}

// firing is a rule that fired for a tip, with the priority it gives there.
type firing struct {
	rule int32
	prio hotline.Priority // the rule's priority, or its imminent one
	weak bool             // a P1 that needs the second opinion to agree
	note uint8            // noteImminent, noteNotImminent or noteReassured
}

const (
	noteImminent    uint8 = 1 << iota // imminence raised the rule
	noteNotImminent                   // the rule has an imminent form, but no sign of imminence was found
	noteReassured                     // the tip says nobody is hurt or held, which puts its P1 in doubt
	noteRetracted                     // the tip takes the alarm back, which puts its P1 in doubt
)

// Triage reads one tip. The result always has a valid priority, category and
// language, and a non-nil Matched (empty when no rule fired).
//
// The rules and the second opinion are combined by the decision table of
// decide (README.md, "The decision table").
func (e *Engine) Triage(text string) hotline.Triage {
	s := e.pool.Get().(*scratch)
	defer e.pool.Put(s)
	lang := s.readTip(text)
	li := langIndex(lang)
	s.tipWords = len(s.toks)
	s.retracted, s.practical, s.routine = false, false, false

	top := e.evaluate(s, li)
	s.joked = s.scopedSents != 0
	if top != hotline.P1 && s.scopedSents != 0 && len(s.toks) > 0 && s.toks[len(s.toks)-1].sent > 0 {
		top = e.reread(s, li, top)
	}
	out := hotline.Triage{Priority: hotline.P3, Category: hotline.CategoryNone, Lang: lang, Matched: []string{}}
	d := e.decide(s, li)
	if len(s.fired) == 0 && d.says == "" {
		return out
	}
	out.Priority = d.priority
	best := -1
	out.Matched = make([]string, 0, len(s.fired)+3)
	var notes uint8
	for _, f := range s.fired {
		r := &e.rules[f.rule]
		out.Matched = append(out.Matched, r.name)
		notes |= f.note
		prio := f.prio
		if (f.weak || f.note&(noteReassured|noteRetracted) != 0) && prio == hotline.P1 && d.priority != hotline.P1 {
			prio = d.priority // a P1 the model did not confirm
		}
		// The category comes from the rules that set the priority and, for
		// P1 and P2, from category hints; the higher in category_order wins.
		// A tip the model raised also takes the category of its P2 rules.
		if prio == d.priority || (prio == "" && d.priority != hotline.P3) || (d.says == SecondOpinion && prio != "") {
			if rank := e.catRank[catIndex(r.category)]; rank > best {
				best = rank
				out.Category = r.category
			}
		}
	}
	if notes&noteImminent != 0 {
		out.Matched = append(out.Matched, Imminent)
	}
	if notes&noteNotImminent != 0 {
		out.Matched = append(out.Matched, NotImminent)
	}
	if notes&noteReassured != 0 {
		out.Matched = append(out.Matched, Reassured)
	}
	if notes&noteRetracted != 0 {
		out.Matched = append(out.Matched, Retracted)
	}
	if d.says != "" {
		out.Matched = append(out.Matched, d.says)
		// A raised tip keeps the category its rules or hints found; the
		// model's own choice fills in when they found none.
		if best < 0 && (d.says == SecondOpinion || d.says == Routine) {
			out.Category = e.opinion.likelyCategory(s)
		}
	}
	return out
}

// decision is the outcome of the decision table for one tip.
type decision struct {
	priority hotline.Priority
	// says is what the second opinion did, for Matched: SecondOpinion,
	// SecondOpinionAgrees, SecondOpinionDisagrees, Routine, or "" when it
	// changed nothing.
	says string
}

// decide combines the rules that fired (s.fired) with the second opinion's
// probabilities of P1, P2 and P3 (README.md, "The decision table"):
//
//	rules give                      second opinion                priority, Matched ends with
//	P1, by a strong rule            not asked                     P1
//	P1, by weak rules only          P(P1) at least confirm        P1, second_opinion_agrees
//	P1, by weak rules only          P(P1) below confirm           P2 if P(P2) >= P(P3), else P3 (never below
//	                                                              another rule's); second_opinion_disagrees
//	the same, and not_imminent      threshold instead of confirm  as the two rows above
//	P1, in a tip that says nobody   P(P1) at least threshold      P1, second_opinion_agrees
//	is hurt (reassured) or takes    P(P1) below threshold         P2 (reassured) or the other rules' (retracted),
//	the alarm back (retracted)                                    as below; second_opinion_disagrees
//	P2, P3 or nothing               P(P1) at least threshold      P1, second_opinion (not when retracted, joking,
//	                                                              a practical request, ordinary trouble,
//	                                                              not_imminent or routine)
//	the same, with routine          P(P1) at least threshold      P2 at least; routine
//	P3 or nothing                   P(P2) at least threshold_p2   P2, second_opinion
//	anything else                                                 the rules' priority (P3 for nothing)
//
// A weak rule is one marked weak = true: an ambiguous word, a safety net.
// Where the rules saw a negation cancel one of their phrases ("они меня не
// бьют"), the threshold is at least negatedThreshold. A rule that found its
// situation but no sign of imminence (not_imminent: a minor's wedding next
// summer) has judged the time, so the model alone does not overrule it, and
// a weak rule beside it needs threshold; nor does the model alone raise a
// situation seen again and again ("every day", the list routine) when
// nothing says soon. Without a second opinion the rules alone decide: every
// P1 rule counts.
func (e *Engine) decide(s *scratch, li int) decision {
	var (
		strong  hotline.Priority // the highest priority of the rules that are sure of it
		weakP1  bool             // a weak rule gave P1
		doubted bool             // a P1 rule in a reassured or retracted tip
		later   bool             // a rule found its situation, but not soon (not_imminent)
	)
	for _, f := range s.fired {
		if f.note&noteNotImminent != 0 {
			later = true
		}
		switch {
		case f.note&noteRetracted != 0:
			doubted = true
		case f.note&noteReassured != 0:
			// A rule whose P1 the tip doubts still says P2.
			doubted, strong = true, strong.Max(hotline.P2)
		case f.weak:
			weakP1 = true
		default:
			strong = strong.Max(f.prio)
		}
	}
	switch {
	case strong == hotline.P1:
		return decision{priority: hotline.P1}
	case e.opinion == nil && (weakP1 || doubted):
		return decision{priority: hotline.P1}
	case e.opinion == nil && strong == "":
		return decision{priority: hotline.P3}
	case e.opinion == nil:
		return decision{priority: strong}
	}
	o := e.opinion.judge(s, li)
	th := e.threshold
	if s.negated {
		// The rules read negation better than the model's bag of words.
		th = max(th, negatedThreshold)
	}
	if doubted {
		if o.p1 >= th {
			return decision{priority: hotline.P1, says: SecondOpinionAgrees}
		}
		if !weakP1 {
			if strong == "" {
				strong = hotline.P3
			}
			if strong == hotline.P3 && o.p2 >= e.thresholdP2 {
				strong = hotline.P2
			}
			return decision{priority: strong, says: SecondOpinionDisagrees}
		}
		// A weak rule fired too: it needs threshold, like the doubted ones.
		return e.lowered(strong, o)
	}
	if weakP1 {
		need := e.confirm
		if later {
			// The rules judged the time and found it not soon: a safety
			// net ("if" next to a wedding next year) needs the model as
			// sure as it must be to raise a tip alone.
			need = th
		}
		if o.p1 >= need {
			return decision{priority: hotline.P1, says: SecondOpinionAgrees}
		}
		return e.lowered(strong, o)
	}
	if strong == "" {
		strong = hotline.P3
	}
	mayRaise := o.p1 >= th && !s.retracted && !s.joked && !s.practical && !later
	switch {
	case mayRaise && !s.routine:
		return decision{priority: hotline.P1, says: SecondOpinion}
	case mayRaise:
		// A routine the model finds alarming is still worth a look.
		return decision{priority: strong.Max(hotline.P2), says: Routine}
	case strong == hotline.P3 && o.p2 >= e.thresholdP2:
		return decision{priority: hotline.P2, says: SecondOpinion}
	}
	return decision{priority: strong}
}

// lowered is the decision for a tip whose P1 the second opinion did not
// confirm: P2 or P3 as the model leans, but not below strong.
func (e *Engine) lowered(strong hotline.Priority, o opinion) decision {
	lower := hotline.P3
	if o.p2 >= o.p3 {
		lower = hotline.P2
	}
	return decision{priority: strong.Max(lower), says: SecondOpinionDisagrees}
}

// negatedThreshold is the second opinion's threshold in tips where a
// negation word cancelled a phrase.
const negatedThreshold = 0.9

// Names in Matched that are not rules: they say how the rules and the second
// opinion reached the priority.
const (
	// SecondOpinion: the learned second opinion, not a rule, raised the tip
	// to P1, or a tip the rules found harmless to P2.
	SecondOpinion = "second_opinion"
	// SecondOpinionAgrees: only weak rules gave P1, and the second opinion
	// agreed, so the tip is P1.
	SecondOpinionAgrees = "second_opinion_agrees"
	// SecondOpinionDisagrees: only weak rules gave P1, and the second
	// opinion did not agree, so the tip is P2 or P3.
	SecondOpinionDisagrees = "second_opinion_disagrees"
	// Imminent: a sign of danger now or within days (the word list
	// imminent) raised a rule to its imminent priority.
	Imminent = "imminent"
	// NotImminent: a rule would give P1 with a sign of danger now or within
	// days, and the tip has none.
	NotImminent = "not_imminent"
	// Reassured: the tip says nobody is hurt or held (the word list
	// reassured), so its P1 rules needed the second opinion to be sure.
	Reassured = "reassured"
	// Routine: the second opinion would have raised the tip to P1, but it
	// tells of a situation seen again and again (the word list routine)
	// with no sign of imminence, so it is P2.
	Routine = "routine"
	// Retracted: the tip takes an alarm back (the word list retracted), so
	// its P1 rules needed the second opinion to be sure.
	Retracted = "retracted"
)

// evaluate matches the tip's tokens against the word lists and fires the
// rules, leaving them in s.fired; it returns the highest priority ("" when
// only hints or nothing fired).
func (e *Engine) evaluate(s *scratch, li int) hotline.Priority {
	hit := s.hit
	clear(hit)
	e.match(s, li)
	for i := range e.lists {
		if hit[i/64]&(1<<(i%64)) != 0 {
			continue
		}
		for _, inc := range e.lists[i].include {
			if hit[inc/64]&(1<<(inc%64)) != 0 {
				hit[i/64] |= 1 << (i % 64)
				break
			}
		}
	}

	s.fired = s.fired[:0]
	top := hotline.Priority("")
	imminent := e.imminent >= 0 && has(hit, e.imminent)
	reassured := e.reassured >= 0 && has(hit, e.reassured)
	retracted := e.retracted >= 0 && has(hit, e.retracted)
	s.retracted = s.retracted || retracted
	s.practical = s.practical || e.practical >= 0 && has(hit, e.practical) || e.ordinary >= 0 && has(hit, e.ordinary)
	s.routine = s.routine || e.routine >= 0 && has(hit, e.routine) && !imminent
	for ri := range e.rules {
		r := &e.rules[ri]
		if r.langs != 0 && r.langs&(1<<li) == 0 {
			continue
		}
		// max_words counts the whole tip, also when a re-read leaves out a
		// joking sentence: "help! my cat is stuck lol" is not a bare plea.
		if r.maxWords > 0 && s.tipWords > r.maxWords {
			continue
		}
		if r.own >= 0 && !has(hit, r.own) {
			continue
		}
		if !all(hit, r.needs) || anyGroup(hit, r.unless) {
			continue
		}
		f := firing{rule: int32(ri), prio: r.priority, weak: r.weak}
		if r.imminent != "" {
			if imminent {
				f.prio, f.note = r.imminent, noteImminent
			} else {
				f.note = noteNotImminent
			}
		}
		switch {
		case f.prio != hotline.P1:
			f.weak = false
		case retracted:
			f.note |= noteRetracted
		case reassured:
			f.note |= noteReassured
		}
		s.fired = append(s.fired, f)
		top = top.Max(f.prio)
	}
	return top
}

// reread reads the tip again without the sentences in which a
// sentence-scoped list (scope = "sentence", such as jokes) was found, so that
// "lol my landlord is killing me with rent. The girl next door is being hit"
// is not a joke as a whole. It keeps that reading only if it is P1; otherwise
// it restores the first one, whose priority was top.
func (e *Engine) reread(s *scratch, li int, top hotline.Priority) hotline.Priority {
	s.allToks = s.toks
	kept := s.reToks[:0]
	for i, t := range s.toks {
		if s.scopedSents&(1<<t.sent) == 0 {
			t.brk = t.brk || i > 0 && t.sent != s.toks[i-1].sent
			kept = append(kept, t)
		}
	}
	s.reToks = kept
	if len(kept) == 0 || len(kept) == len(s.toks) {
		return top
	}
	firstFired := append(s.refired[:0], s.fired...)
	s.refired = firstFired
	negated := s.negated
	s.toks = kept
	again := e.evaluate(s, li)
	s.toks = s.allToks
	s.negated = negated || s.negated
	if again == hotline.P1 {
		return again
	}
	s.fired = append(s.fired[:0], firstFired...)
	return top
}

// match marks in s.hit the lists whose phrases occur in the tip. A first
// pass looks every word up once, noting which @lists hold it and which
// phrases may start at it; the second pass checks those phrases.
func (e *Engine) match(s *scratch, li int) {
	s.refs = s.refs[:0]
	s.negs = s.negs[:0]
	s.sigs = s.sigs[:0]
	s.cands = s.cands[:0]
	s.negated = false
	s.scopedSents = 0
	neg := e.negators[li]
	for ti := range s.toks {
		t := s.toks[ti]
		w := s.key[t.s:t.e]
		// Looked up once per token here rather than once per word of
		// every candidate phrase in try (the most common lookup in a
		// tip's profile: 40% of an English tip's time).
		s.negs = append(s.negs, neg[string(w)])
		s.sigs = append(s.sigs, tokSig(w))
		var refs uint64
		if t.num >= 1 && t.num <= 17 {
			refs |= e.minor.refs
			s.addCands(ti, &e.minor)
		}
		if en, ok := e.exact[string(w)]; ok {
			refs |= en.refs
			s.addCands(ti, &en)
		}
		for n := minStem; n <= len(w) && n < 64; n++ {
			if e.prefixLens&(1<<n) == 0 {
				continue
			}
			if en, ok := e.prefix[string(w[:n])]; ok {
				refs |= en.refs
				s.addCands(ti, &en)
			}
		}
		for n := minStem; n < len(w) && n < 64; n++ {
			if e.suffixLens&(1<<n) == 0 {
				continue
			}
			if en, ok := e.suffix[string(w[len(w)-n:])]; ok {
				refs |= en.refs
				s.addCands(ti, &en)
			}
		}
		s.refs = append(s.refs, refs)
	}
	for _, c := range s.cands {
		e.try(s, &e.gates[c.gate], int(c.tok), li)
	}
}

func (s *scratch) addCands(ti int, en *indexEntry) {
	for i := range en.phrases {
		s.cands = append(s.cands, cand{int32(ti), en.gateAt + int32(i)})
	}
}

// try checks phrase pid starting at token ti.
func (e *Engine) try(s *scratch, g *phraseGate, ti, li int) {
	scoped := g.scoped
	if has(s.hit, g.list) && !scoped {
		return
	}
	// A negation word up to negWindow words before the phrase, in the same
	// clause, cancels it: "не бьют", "nobody is hurting me".
	win := negWindow[li]
	if !g.negFirst {
		for k := ti - 1; k >= 0 && k >= ti-win && !s.toks[k+1].brk; k-- {
			if s.negs[k] {
				s.negated = true
				return
			}
		}
	}
	if g.multi && !secondMayMatch(s, g, ti) {
		return
	}
	p := &e.phrases[g.phrase]
	pos := ti
	for _, w := range p.words[1:] {
		found := false
		for j := pos + 1; j < len(s.toks) && j <= windowEnd(pos, w.adjacent); j++ {
			if s.toks[j].brk {
				break
			}
			// "меня никто не держит": a negated later word does not count.
			if negated(s, win, j, pos) {
				continue
			}
			if w.match(s, j) {
				pos, found = j, true
				break
			}
		}
		if !found {
			return
		}
	}
	s.hit[p.list/64] |= 1 << (p.list % 64)
	if scoped {
		s.scopedSents |= 1 << s.toks[ti].sent
	}
}

// windowEnd is the last token where the word after the one at pos may
// stand: the next token for "+word", else up to maxGap words later.
func windowEnd(pos int, adjacent bool) int {
	if adjacent {
		return pos + 1
	}
	return pos + 1 + maxGap
}

// secondMayMatch reports whether a token where g's second word may
// stand (the window try searches) could match it; false means it cannot.
func secondMayMatch(s *scratch, g *phraseGate, ti int) bool {
	if g.sig == 0 && g.ref == 0 {
		return true
	}
	for j := ti + 1; j < len(s.toks) && j <= windowEnd(ti, g.adjacent); j++ {
		if s.toks[j].brk {
			break
		}
		if s.sigs[j]&g.sig != 0 || s.refs[j]&g.ref != 0 {
			return true
		}
	}
	return false
}

// negated reports whether a negation word stands among the win words
// before token j, after token pos.
func negated(s *scratch, win, j, pos int) bool {
	for k := j - 1; k > pos && k >= j-win; k-- {
		if s.negs[k] {
			return true
		}
	}
	return false
}

func (w *wordPat) match(s *scratch, j int) bool {
	t := s.toks[j]
	if w.minor {
		return t.num >= 1 && t.num <= 17
	}
	if w.ref != 0 {
		return s.refs[j]&w.ref != 0
	}
	k := s.key[t.s:t.e]
	if w.prefix {
		return len(k) >= len(w.lit) && string(k[:len(w.lit)]) == w.lit
	}
	if w.suffix {
		return len(k) > len(w.lit) && string(k[len(k)-len(w.lit):]) == w.lit
	}
	return string(k) == w.lit
}

func has(bits []uint64, i int32) bool { return bits[i/64]&(1<<(i%64)) != 0 }

func all(bits []uint64, ids []int32) bool {
	for _, i := range ids {
		if !has(bits, i) {
			return false
		}
	}
	return true
}

// anyGroup reports whether every list of some group was found.
func anyGroup(bits []uint64, groups [][]int32) bool {
	for _, g := range groups {
		if all(bits, g) {
			return true
		}
	}
	return false
}
