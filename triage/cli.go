package triage

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/hotline-az/hotline"
)

const cliUsage = `usage: hotline triage "text of a tip"
       hotline triage --jsonl < tips.jsonl

Triage one tip and print the result as one JSON object, e.g.
  {"priority":"P1","category":"servitude","lang":"en","matched":["confined"]}

  --jsonl     read JSON lines with a "text" field from standard input and
              write one JSON object per line: priority, category, lang and
              matched, followed by the other fields of the input line
  -h, --help  show this help

Several words without quotes are joined with spaces. Use -- before a text
that starts with "-". The rules are the built-in ones unless the
configuration names a rules file. The last names in matched say how the
priority was reached (see "The decision table" in the README):
  imminent, not_imminent   a sign of danger now or within days was or was
                           not found for a rule that needs one for P1
  reassured, retracted     the tip says nobody is hurt, or takes the alarm
                           back, so its P1 rules were in doubt
  second_opinion           the learned model, not a rule, raised the tip
  second_opinion_agrees    the model confirmed a weak or doubted rule's P1
  second_opinion_disagrees the model did not, so the tip is P2 or P3
`

// RunCLI implements "hotline triage". args are the arguments after the
// subcommand name; rulesPath names a rules file, or "" for the built-in
// rules. It returns the exit code: 0 on success, 1 when the rules cannot be
// loaded, output fails or an input line was bad (the other lines are still
// processed), 2 for bad usage. It never writes the text of a tip to stderr.
func RunCLI(args []string, stdin io.Reader, stdout, stderr io.Writer, rulesPath string) int {
	var (
		jsonl bool
		words []string
	)
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			words = append(words, args[i+1:]...)
			i = len(args)
		case a == "-h" || a == "-help" || a == "--help":
			fmt.Fprint(stdout, cliUsage)
			return 0
		case a == "--jsonl" || a == "-jsonl":
			jsonl = true
		case len(a) > 1 && strings.HasPrefix(a, "-") && len(words) == 0:
			fmt.Fprintf(stderr, "hotline triage: unknown flag %s\n\n%s", a, cliUsage)
			return 2
		default:
			words = append(words, a)
		}
	}
	switch {
	case jsonl && len(words) > 0:
		fmt.Fprintf(stderr, "hotline triage: give either a text or --jsonl, not both\n\n%s", cliUsage)
		return 2
	case !jsonl && len(words) == 0:
		fmt.Fprint(stderr, cliUsage)
		return 2
	}

	e := Default()
	if rulesPath != "" {
		var err error
		if e, err = LoadFile(rulesPath); err != nil {
			fmt.Fprintf(stderr, "hotline triage: %v\n", err)
			return 1
		}
	}

	out := bufio.NewWriter(stdout)
	code := 0
	if jsonl {
		code = triageLines(e, stdin, out, stderr)
	} else {
		writeResult(out, e.Triage(strings.Join(words, " ")), nil)
	}
	if err := out.Flush(); err != nil {
		fmt.Fprintf(stderr, "hotline triage: writing output: %v\n", err)
		return 1
	}
	return code
}

// triageLines handles --jsonl. A bad line is reported on stderr by number
// and skipped; the exit code is then 1.
func triageLines(e *Engine, stdin io.Reader, out *bufio.Writer, stderr io.Writer) int {
	code := 0
	in := bufio.NewReader(stdin)
	for n := 1; ; n++ {
		line, err := in.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			fields, text, perr := parseLine(line)
			if perr != nil {
				fmt.Fprintf(stderr, "hotline triage: line %d: %v\n", n, perr)
				code = 1
			} else {
				writeResult(out, e.Triage(text), fields)
			}
		}
		if err == io.EOF {
			return code
		}
		if err != nil {
			fmt.Fprintf(stderr, "hotline triage: reading input: %v\n", err)
			return 1
		}
	}
}

type field struct {
	key string
	val json.RawMessage
}

// parseLine reads one JSON object, keeping its fields in order, and returns
// its "text". Errors say what is wrong without quoting the input.
func parseLine(line []byte) ([]field, string, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, "", jsonError(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, "", errors.New("not a JSON object")
	}
	var fields []field
	index := make(map[string]int)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, "", jsonError(err)
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, "", jsonError(err)
		}
		if i, ok := index[key]; ok {
			fields[i].val = raw
			continue
		}
		index[key] = len(fields)
		fields = append(fields, field{key, raw})
	}
	if _, err := dec.Token(); err != nil {
		return nil, "", jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, "", errors.New("not valid JSON: more data after the object")
	}
	i, ok := index["text"]
	if !ok {
		return nil, "", errors.New(`no "text" field`)
	}
	var text string
	if err := json.Unmarshal(fields[i].val, &text); err != nil {
		return nil, "", errors.New(`"text" is not a string`)
	}
	return fields, text, nil
}

func jsonError(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("not valid JSON (at byte %d)", se.Offset)
	}
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("not valid JSON: the line ends too early")
	}
	return errors.New("not valid JSON")
}

// writeResult writes t and then the input fields other than those t sets.
func writeResult(w *bufio.Writer, t hotline.Triage, fields []field) {
	w.WriteString(`{"priority":`)
	writeString(w, string(t.Priority))
	w.WriteString(`,"category":`)
	writeString(w, string(t.Category))
	w.WriteString(`,"lang":`)
	writeString(w, string(t.Lang))
	w.WriteString(`,"matched":[`)
	for i, m := range t.Matched {
		if i > 0 {
			w.WriteByte(',')
		}
		writeString(w, m)
	}
	w.WriteByte(']')
	var buf bytes.Buffer
	for _, f := range fields {
		switch f.key {
		case "priority", "category", "lang", "matched":
			continue
		}
		w.WriteByte(',')
		writeString(w, f.key)
		w.WriteByte(':')
		buf.Reset()
		if json.Compact(&buf, f.val) == nil {
			w.Write(buf.Bytes())
		} else {
			w.Write(f.val)
		}
	}
	w.WriteString("}\n")
}

func writeString(w *bufio.Writer, s string) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}
