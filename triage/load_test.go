package triage_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/triage"
)

// mustLoad builds an engine from TOML text or fails the test.
func mustLoad(tb testing.TB, rules string) *triage.Engine {
	tb.Helper()
	e, err := triage.Load(strings.NewReader(rules), "test.toml")
	if err != nil {
		tb.Fatalf("Load: %v", err)
	}
	return e
}

func TestDefaultIsValid(t *testing.T) {
	data, err := os.ReadFile("rules.toml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := triage.Load(bytes.NewReader(data), "rules.toml"); err != nil {
		t.Fatalf("embedded rules.toml is invalid:\n%v", err)
	}
	if triage.Default() != triage.Default() {
		t.Error("Default returns a new engine on each call")
	}
}

func TestLoadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mine.toml")
	rules := `
[[rule]]
name = "locked"
priority = "P1"
category = "servitude"
en = ["locked in"]
`
	if err := os.WriteFile(path, []byte(rules), 0o600); err != nil {
		t.Fatal(err)
	}
	e, err := triage.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := e.Triage("they locked me in")
	if got.Priority != hotline.P1 || len(got.Matched) != 1 || got.Matched[0] != "locked" {
		t.Errorf("got %+v, want P1 from rule locked", got)
	}
	if _, err := triage.LoadFile(filepath.Join(t.TempDir(), "missing.toml")); err == nil {
		t.Error("LoadFile of a missing file: no error")
	}
}

func TestLoadErrorsNameTheRule(t *testing.T) {
	tests := []struct {
		name  string
		rules string
		want  []string // each must appear in the error
	}{
		{
			name: "second opinion threshold out of range",
			rules: `
[second_opinion]
threshold = 0.2
`,
			want: []string{`test.toml: second_opinion: threshold 0.2 is out of range: use a number between 0.5 and 1`},
		},
		{
			name: "second opinion settings of the wrong kind",
			rules: `
[second_opinion]
enabled = "yes"
treshold = 0.7
`,
			want: []string{
				`test.toml: second_opinion: enabled must be true or false`,
				`test.toml: second_opinion: unknown field "treshold" (want one of enabled, threshold, threshold_p2, confirm)`,
			},
		},
		{
			name: "confirm above threshold",
			rules: `
[second_opinion]
threshold = 0.7
confirm = 0.8
`,
			want: []string{`test.toml: second_opinion: confirm 0.8 is above threshold 0.7`},
		},
		{
			name: "imminent and weak misused",
			rules: `
[[rule]]
name = "wedding"
priority = "P2"
category = "child"
imminent = "P3"
weak = "yes"
en = ["wedding"]

[[rule]]
name = "hint"
category = "child"
imminent = "P1"
en = ["bride"]

[[rule]]
name = "late_pay"
priority = "P2"
category = "labor"
weak = true
en = ["late pay"]

[[rule]]
name = "married_off"
priority = "P2"
imminent = "P1"
category = "child"
en = ["married off"]
`,
			want: []string{
				`test.toml: rule "wedding": imminent "P3" is not P1 or P2`,
				`test.toml: rule "wedding": weak must be true or false`,
				`test.toml: rule "hint": imminent needs a priority too`,
				`test.toml: rule "late_pay": weak applies only to a rule that can give P1`,
				`test.toml: rule "married_off": imminent needs a word list "imminent"`,
			},
		},
		{
			name: "plus on the first word",
			rules: `
[[rule]]
name = "kept"
priority = "P1"
category = "servitude"
en = ["+kept me"]
`,
			want: []string{`test.toml: rule "kept": pattern "+kept me": the first word cannot start with +`},
		},
		{
			name: "plus inside a word",
			rules: `
[[rule]]
name = "kept"
priority = "P1"
category = "servitude"
en = ["kept a+b"]
`,
			want: []string{`test.toml: rule "kept": pattern "kept a+b": * may only start or end a word, and @, # or + only start one`},
		},
		{
			name: "empty pattern",
			rules: `
[[rule]]
name = "confined_az"
priority = "P1"
category = "servitude"
az = ["  "]
`,
			want: []string{`test.toml: rule "confined_az": pattern "  " is empty`},
		},
		{
			name: "pattern without letters",
			rules: `
[[rule]]
name = "confined_az"
priority = "P1"
category = "servitude"
az = ["!!!"]
`,
			want: []string{`test.toml: rule "confined_az": pattern "!!!": word "!!!" has no letters or digits`},
		},
		{
			name: "all problems at once",
			rules: `
[[rule]]
name = "one"
priority = "P0"
category = "slavery"
en = ["ok"]

[[rule]]
name = "two"
priority = "P2"
category = "labor"
en = ["ab*"]
needs = ["nosuchlist"]
prority = "P1"

[[rule]]
name = "two"
category = "labor"
en = ["x"]

[[rule]]
priority = "P3"
category = "none"
en = ["x"]
`,
			want: []string{
				`rule "one": priority "P0" is not P1, P2 or P3`,
				`rule "one": category "slavery" is not one of`,
				`rule "two": pattern "ab*": a word ending in * needs at least 3 letters`,
				`rule "two": no word list "nosuchlist"`,
				`rule "two": unknown field "prority"`,
				`rule "two": name is used by another rule`,
				`rule #4: has no name`,
			},
		},
		{
			name: "word lists",
			rules: `
[words.a]
include = ["b"]
[words.b]
include = ["a"]
[words.pair]
en = ["two words"]
[words.empty]
about = "nothing"

[[rule]]
name = "uses_pair"
priority = "P1"
category = "servitude"
en = ["@pair me", "@ghost me", "#major"]
`,
			want: []string{
				`word list "a": includes itself: a → b → a`,
				`word list "empty": has no words`,
				`rule "uses_pair": pattern "@pair me": list "pair" is used with @, so it must hold single words, not "two words"`,
				`rule "uses_pair": pattern "@ghost me": no word list "ghost"`,
				`rule "uses_pair": pattern "#major": "#major" is not known`,
			},
		},
		{
			name:  "syntax error names the line",
			rules: "[[rule]]\nname = \"x\"\npriority = \"P1\n",
			want:  []string{"test.toml: line 3:"},
		},
		{
			name:  "no rules",
			rules: "category_order = [\"none\"]\n",
			want:  []string{"there are no rules", `category_order: "labor" is missing`},
		},
		{
			name: "rule that would always fire",
			rules: `
[[rule]]
name = "always"
priority = "P1"
category = "none"
`,
			want: []string{`rule "always": has no phrases and needs no word list`},
		},
		{
			name: "bad types",
			rules: `
[[rule]]
name = "typed"
priority = "P1"
category = "none"
en = [1, 2]
max_words = "four"
lang = ["de"]
`,
			want: []string{`rule "typed": en must be a list of strings`, `rule "typed": max_words must be a whole number`, `rule "typed": lang "de" is not az, ru or en`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := triage.Load(strings.NewReader(tt.rules), "test.toml")
			if err == nil {
				t.Fatalf("no error; engine %v", e)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q; got:\n%v", w, err)
				}
			}
		})
	}
}

func TestRuleFeatures(t *testing.T) {
	e := mustLoad(t, `
category_order = ["child", "begging", "organ", "recruitment", "sexual", "labor", "servitude", "info", "none"]

# These cases test the rules; the learned second opinion is tested apart.
[second_opinion]
enabled = false

[words.not]
en = ["not"]
ru = ["не"]

[words.person]
en = ["me", "us"]

[words.child]
en = ["#minor year* old", "kid*"]

[words.begging]
en = ["beg", "begging"]

[[rule]]
name = "held"
priority = "P1"
category = "servitude"
en = ["hold* @person"]

[[rule]]
name = "kept_right_after"
priority = "P1"
category = "servitude"
en = ["kept +@person +inside", "buy* +a +kid*"]

[[rule]]
name = "child_begging"
priority = "P2"
category = "begging"
needs = ["begging", "child"]

[[rule]]
name = "child_hint"
category = "child"
needs = ["child"]

[[rule]]
name = "short_plea"
priority = "P2"
category = "none"
en = ["help"]
max_words = 3

[[rule]]
name = "if_then"
priority = "P1"
category = "labor"
az = ["*səm öldür*"]

[[rule]]
name = "russian_only"
priority = "P3"
category = "info"
ru = ["вопрос"]
lang = "ru"
`)
	tests := []struct {
		text     string
		priority hotline.Priority
		category hotline.Category
		matched  string
	}{
		{"they are holding us", hotline.P1, hotline.CategoryServitude, "held"},
		{"they are holding, not us", hotline.P3, hotline.CategoryNone, ""},         // clause break
		{"they are not holding me", hotline.P3, hotline.CategoryNone, ""},          // negation
		{"holding you and then me", hotline.P1, hotline.CategoryServitude, "held"}, // three words between
		{"holding you and then also me", hotline.P3, hotline.CategoryNone, ""},     // four words between
		{"a 9 year old girl is begging", hotline.P2, hotline.CategoryChild, "child_begging child_hint"},
		{"a 19 year old is begging", hotline.P3, hotline.CategoryNone, ""},
		{"help", hotline.P2, hotline.CategoryNone, "short_plea"},
		{"help me with this please", hotline.P3, hotline.CategoryNone, ""},
		{"they kept us inside", hotline.P1, hotline.CategoryServitude, "kept_right_after"},
		{"he kept calling us inside", hotline.P3, hotline.CategoryNone, ""}, // + allows no word between
		{"they kept us all inside", hotline.P3, hotline.CategoryNone, ""},
		{"he wants to buy a kid", hotline.P1, hotline.CategoryChild, "kept_right_after child_hint"},
		{"buy a toy for the kid", hotline.P3, hotline.CategoryNone, "child_hint"},
		{"getsəm öldürəcəklər", hotline.P1, hotline.CategoryLabor, "if_then"},
		{"desem oldurerler", hotline.P1, hotline.CategoryLabor, "if_then"}, // suffix after normalisation
		{"səm öldürəcəklər", hotline.P3, hotline.CategoryNone, ""},         // the ending alone is not a word ending
		{"вопрос", hotline.P3, hotline.CategoryInfo, "russian_only"},
		{"this is a vopros", hotline.P3, hotline.CategoryNone, ""}, // English: the rule is for Russian
	}
	for _, tt := range tests {
		got := e.Triage(tt.text)
		if got.Priority != tt.priority || got.Category != tt.category || strings.Join(got.Matched, " ") != tt.matched {
			t.Errorf("Triage(%q) = %s %s %v, want %s %s [%s]", tt.text, got.Priority, got.Category, got.Matched, tt.priority, tt.category, tt.matched)
		}
	}
}

// TestUnlessGroup checks "a+b" in unless: the rule is stopped only when both
// lists are found, and an unknown list in a group is named.
func TestUnlessGroup(t *testing.T) {
	e := mustLoad(t, `
[second_opinion]
enabled = false

[words.weapon]
en = ["knife"]

[words.kitchen]
en = ["kitchen"]

[[rule]]
name = "beaten"
priority = "P1"
category = "servitude"
en = ["beats her"]
unless = ["weapon+kitchen"]
`)
	for text, want := range map[string]hotline.Priority{
		"he beats her":                      hotline.P1,
		"in the kitchen he beats her":       hotline.P1, // a kitchen alone does not hide a beating
		"he beats her with a kitchen knife": hotline.P3,
	} {
		if got := e.Triage(text).Priority; got != want {
			t.Errorf("Triage(%q) = %s, want %s", text, got, want)
		}
	}
	_, err := triage.Load(strings.NewReader(`
[words.weapon]
en = ["knife"]

[[rule]]
name = "beaten"
priority = "P1"
category = "servitude"
en = ["beats her"]
unless = ["weapon+kitchn"]
`), "test.toml")
	if err == nil || !strings.Contains(err.Error(), `rule "beaten": no word list "kitchn"`) {
		t.Fatalf("err = %v, want it to name the unknown list", err)
	}
}

// TestSentenceScope checks scope = "sentence": a joke stops a rule only in
// the sentence it is in, and a bad scope is named.
func TestSentenceScope(t *testing.T) {
	rules := `
[second_opinion]
enabled = false

[words.joke]
en = ["lol"]
scope = "sentence"

[[rule]]
name = "beaten"
priority = "P1"
category = "servitude"
en = ["beats her"]
unless = ["joke"]
`
	e := mustLoad(t, rules)
	for text, want := range map[string]hotline.Priority{
		"he beats her":     hotline.P1,
		"he beats her lol": hotline.P3, // the joke is about this sentence
		"my rent is killing me lol. he beats her": hotline.P1,
		"he beats her.\nlol":                      hotline.P1, // read again without the joke's sentence
	} {
		if got := e.Triage(text); got.Priority != want {
			t.Errorf("Triage(%q) = %s %v, want %s", text, got.Priority, got.Matched, want)
		}
	}
	tipWide := mustLoad(t, strings.Replace(rules, `scope = "sentence"`, `scope = "tip"`, 1))
	if got := tipWide.Triage("my rent is killing me lol. he beats her"); got.Priority != hotline.P3 {
		t.Errorf("with scope = \"tip\" the joke should stop the rule anywhere, got %s", got.Priority)
	}
	_, err := triage.Load(strings.NewReader(strings.Replace(rules, `scope = "sentence"`, `scope = "clause"`, 1)), "test.toml")
	if err == nil || !strings.Contains(err.Error(), `word list "joke": scope "clause" is not "tip" or "sentence"`) {
		t.Fatalf("err = %v", err)
	}
}
