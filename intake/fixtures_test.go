package intake_test

import (
	"encoding/json"
	"net/url"
	"os"
	"sort"
	"testing"
)

// fixtures are the Twilio-shaped webhook forms in testdata/webhooks.json.
func fixtures(tb testing.TB) map[string]url.Values {
	tb.Helper()
	raw, err := os.ReadFile("testdata/webhooks.json")
	if err != nil {
		tb.Fatalf("read fixtures: %v", err)
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(raw, &all); err != nil {
		tb.Fatal(err)
	}
	out := map[string]url.Values{}
	for name, msg := range all {
		if name[0] == '_' {
			continue
		}
		var fields map[string]string
		if err := json.Unmarshal(msg, &fields); err != nil {
			tb.Fatalf("fixture %s: %v", name, err)
		}
		form := url.Values{}
		for k, v := range fields {
			form.Set(k, v)
		}
		out[name] = form
	}
	return out
}

// fixture returns one fixture by name (a fresh copy the caller may change).
func fixture(tb testing.TB, name string) url.Values {
	tb.Helper()
	f, ok := fixtures(tb)[name]
	if !ok {
		tb.Fatalf("no fixture %q", name)
	}
	return f
}

// formNames lists the fixtures in a stable order.
func formNames(all map[string]url.Values) []string {
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
