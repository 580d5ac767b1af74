package triage_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotline-az/hotline/triage"
)

func runCLI(t *testing.T, stdin string, rulesPath string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = triage.RunCLI(args, strings.NewReader(stdin), &out, &errb, rulesPath)
	return code, out.String(), errb.String()
}

func TestCLISingleText(t *testing.T) {
	code, out, errs := runCLI(t, "", "", "Помогите,", "нас", "держат", "на", "складе")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	if strings.Count(out, "\n") != 1 {
		t.Errorf("want one line of output, got %q", out)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output is not JSON: %v: %q", err, out)
	}
	if got["priority"] != "P1" || got["category"] != "labor" || got["lang"] != "ru" {
		t.Errorf("got %v, want P1 labor ru", got)
	}
	if !strings.HasPrefix(out, `{"priority":"P1","category":"labor","lang":"ru","matched":["confined"`) {
		t.Errorf("output keys not in order priority, category, lang, matched: %s", out)
	}
	if len(got) != 4 {
		t.Errorf("want exactly 4 keys, got %v", got)
	}

	// Nothing fired: matched is an empty list, not null.
	_, out, _ = runCLI(t, "", "", "qwerty")
	if !strings.Contains(out, `"matched":[]`) {
		t.Errorf("want an empty matched list, got %s", out)
	}
	// A text that starts with a dash, after --.
	code, out, _ = runCLI(t, "", "", "--", "-they", "locked", "me", "in")
	if code != 0 || !strings.Contains(out, `"P1"`) {
		t.Errorf("after --: exit %d, %s", code, out)
	}
}

func TestCLIJSONLines(t *testing.T) {
	in := strings.Join([]string{
		`{"id": 7, "text": "help they locked me in", "source": {"channel": "sms"}, "priority": "P3", "matched": ["old"]}`,
		`{"text": "Спасибо, всё хорошо", "lang": "en"}`,
		``,
		`{"text": "broken json`,
		`{"id": 9}`,
		`{"text": 12}`,
		`["text"]`,
		`{"text": "Müdir pasportumu saxlayıb və maaşımı vermir", "note": "<b>&</b>"}`,
	}, "\n")
	code, out, errs := runCLI(t, in, "", "--jsonl")
	if code != 1 {
		t.Errorf("exit %d, want 1 after bad lines", code)
	}
	for _, want := range []string{"line 4: not valid JSON", `line 5: no "text" field`, `line 6: "text" is not a string`, "line 7: not a JSON object"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr %q does not contain %q", errs, want)
		}
	}
	if strings.Contains(errs, "broken") {
		t.Errorf("stderr quotes the input: %q", errs)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	want := []string{
		`{"priority":"P1","category":"servitude","lang":"en","matched":["confined","distress"],"id":7,"text":"help they locked me in","source":{"channel":"sms"}}`,
		`{"priority":"P3","category":"none","lang":"ru","matched":["thanks"],"text":"Спасибо, всё хорошо"}`,
		`{"priority":"P2","category":"labor","lang":"az","matched":["documents_held","unpaid","employer"],"text":"Müdir pasportumu saxlayıb və maaşımı vermir","note":"<b>&</b>"}`,
	}
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(want), out)
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("line %d:\ngot  %s\nwant %s", i+1, lines[i], want[i])
		}
		if !json.Valid([]byte(lines[i])) {
			t.Errorf("line %d is not valid JSON: %s", i+1, lines[i])
		}
	}

	// All good lines: exit 0.
	code, _, errs = runCLI(t, `{"text":"hello"}`+"\n"+`{"text":"hi"}`, "", "--jsonl")
	if code != 0 || errs != "" {
		t.Errorf("exit %d, stderr %q; want 0 and nothing", code, errs)
	}
}

func TestCLIUsage(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}} {
		code, out, _ := runCLI(t, "", "", args...)
		if code != 0 || !strings.Contains(out, "usage: hotline triage") {
			t.Errorf("%v: exit %d, stdout %q", args, code, out)
		}
	}
	for _, args := range [][]string{{}, {"--bogus"}, {"--jsonl", "some text"}} {
		code, _, errs := runCLI(t, "", "", args...)
		if code != 2 || !strings.Contains(errs, "usage:") {
			t.Errorf("%v: exit %d, stderr %q; want 2 and usage", args, code, errs)
		}
	}
}

func TestCLIRulesFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.toml")
	os.WriteFile(good, []byte(`
[[rule]]
name = "custom"
priority = "P2"
category = "info"
en = ["pineapple"]
`), 0o600)
	code, out, _ := runCLI(t, "", good, "a pineapple")
	if code != 0 || !strings.Contains(out, `"matched":["custom"]`) {
		t.Errorf("custom rules: exit %d, %s", code, out)
	}

	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte("[[rule]]\nname = \"broken\"\npriority = \"P1\"\ncategory = \"none\"\nen = [\"*\"]\n"), 0o600)
	code, out, errs := runCLI(t, "", bad, "text")
	if code != 1 || out != "" || !strings.Contains(errs, `bad.toml: rule "broken"`) {
		t.Errorf("bad rules: exit %d, stdout %q, stderr %q", code, out, errs)
	}
}
