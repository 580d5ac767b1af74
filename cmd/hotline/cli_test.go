package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/hotline-az/hotline/crypto"
)

// commandsIn returns the command names a help text lists under
// "Commands:" (lines indented by two spaces, up to the first blank line).
func commandsIn(help string) []string {
	var names []string
	in := false
	sc := bufio.NewScanner(strings.NewReader(help))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.TrimSpace(line) == "Commands:":
			in = true
		case in && strings.TrimSpace(line) == "":
			return names
		case in && strings.HasPrefix(line, "  ") && !strings.HasPrefix(line, "   "):
			names = append(names, strings.Fields(line)[0])
		}
	}
	return names
}

// usagePath returns the command words of a help text's first line:
// "Usage: hotline alerts list [--json]" gives [alerts list].
func usagePath(help string) []string {
	first, _, _ := strings.Cut(help, "\n")
	if len(first) < len("usage: hotline ") || !strings.EqualFold(first[:len("usage: hotline ")], "usage: hotline ") {
		return nil
	}
	rest := first[len("usage: hotline "):]
	var words []string
	for _, w := range strings.Fields(rest) {
		if !regexp.MustCompile(`^[a-z]+$`).MatchString(w) {
			break
		}
		words = append(words, w)
	}
	return words
}

// leafCommands walks the help texts from the top-level usage down and
// returns every command that does something (not a group of commands),
// with its help text.
func leafCommands(t *testing.T) map[string]string {
	t.Helper()
	leaves := map[string]string{}
	var walk func(path []string)
	walk = func(path []string) {
		if len(path) > 4 {
			t.Errorf("hotline %s: help texts nest deeper than any command does (a command's help lists commands?)", strings.Join(path, " "))
			return
		}
		code, stdout, stderr := runCLI(t, append(append([]string{}, path...), "--help")...)
		name := strings.Join(path, " ")
		if code != 0 || stderr != "" || !strings.Contains(strings.ToLower(stdout), "usage") {
			t.Errorf("hotline %s --help: exit %d, stderr %q, stdout %.60q; want exit 0 and the usage on stdout only", name, code, stderr, stdout)
			return
		}
		if subs := commandsIn(stdout); len(subs) > 0 {
			for _, sub := range subs {
				walk(append(path[:len(path):len(path)], sub))
			}
			return
		}
		if up := usagePath(stdout); len(up) > len(path) {
			// A group with one command ("alerts list") shows that
			// command's usage as its own.
			walk(up)
			return
		}
		leaves[name] = stdout
	}
	for _, cmd := range commandsIn(usage) {
		walk([]string{cmd})
	}
	return leaves
}

func TestEveryCommandsHelpGoesToStdout(t *testing.T) {
	leaves := leafCommands(t)
	// A walk that found nothing would pass every check below.
	for _, want := range []string{"serve", "stats", "triage", "version", "officers add", "officers list", "officers remove",
		"rota show", "rota set", "rota override", "rota import", "alerts list", "purge", "compact", "keys rotate-index"} {
		if _, ok := leaves[want]; !ok {
			t.Errorf("the help texts do not lead to %q (found %d commands)", want, len(leaves))
		}
	}
	for name, help := range leaves {
		path := strings.Fields(name)
		t.Run(name, func(t *testing.T) {
			if code, stdout, stderr := runCLI(t, append(path, "-h")...); code != 0 || stderr != "" || stdout != help {
				t.Errorf("-h: exit %d, stderr %q; stdout the same as --help: %v", code, stderr, stdout == help)
			}
			if code, stdout, stderr := runCLI(t, append([]string{"help"}, path...)...); code != 0 || stderr != "" || stdout != help {
				t.Errorf("hotline help %s: exit %d, stderr %q; stdout the same as --help: %v", name, code, stderr, stdout == help)
			}
			code, stdout, stderr := runCLI(t, append(path, "--no-such-flag")...)
			if code != 2 || stdout != "" || !strings.Contains(stderr, "no-such-flag") {
				t.Errorf("a bad flag: exit %d, stdout %q, stderr %q; want exit 2 and the problem on stderr only", code, stdout, stderr)
			}
		})
	}
	if code, stdout, _ := runCLI(t, "help"); code != 0 || stdout != usage {
		t.Errorf("hotline help: exit %d, want 0 and the usage", code)
	}
	if code, _, stderr := runCLI(t, "help", "frobnicate"); code != 2 || !strings.Contains(stderr, `unknown command "frobnicate"`) {
		t.Errorf("hotline help frobnicate: exit %d, stderr %q; want 2 naming the command", code, stderr)
	}
	if code, _, stderr := runCLI(t, "help", "officers", "frobnicate"); code != 2 || !strings.Contains(stderr, `unknown command "frobnicate"`) {
		t.Errorf("hotline help officers frobnicate: exit %d, stderr %q; want 2 naming the command", code, stderr)
	}
}

func TestEveryCommandThatNeedsTheDataAcceptsConfig(t *testing.T) {
	checked := 0
	for name, help := range leafCommands(t) {
		if !strings.Contains(help, "-data") {
			continue
		}
		checked++
		if !strings.Contains(help, "-config") {
			t.Errorf("hotline %s takes --data but its help does not show --config", name)
		}
		// A missing config file must be read (and fail), not refused as an
		// unknown flag. Commands that check their own flags first are
		// given none, so they stop before the file: the help suffices.
		code, _, stderr := runCLI(t, append(strings.Fields(name), "--config", filepath.Join(t.TempDir(), "missing.toml"))...)
		if strings.Contains(stderr, "flag provided but not defined") {
			t.Errorf("hotline %s --config: exit %d, %q", name, code, stderr)
		}
	}
	if checked < 10 {
		t.Errorf("only %d commands take --data; the help texts were not read", checked)
	}
}

func TestStatsAndAdminCommandsFindTheDataThroughConfig(t *testing.T) {
	dir := t.TempDir()
	key, _ := crypto.GenerateMasterKey()
	srv := MustRunMain(t, dir, key, io.Discard)
	srv.sendSMS(t, "SM"+strings.Repeat("4", 32), "+994501234567", "Kömək edin, bizi zirzəmidə saxlayırlar")
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "master.key") // written by MustRunMain

	cfgFile := filepath.Join(t.TempDir(), "hotline.toml")
	if err := os.WriteFile(cfgFile, []byte("data_dir = \""+dir+"\"\nmaster_key_file = \""+keyFile+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "stats", "--config", cfgFile)
	if code != 0 || !strings.Contains(stdout, `"messages": 1`) {
		t.Errorf("stats --config: exit %d, stdout %q, stderr %q; want the one message", code, stdout, stderr)
	}
	code, stdout, stderr = runCLI(t, "officers", "add", "--config", cfgFile, "--name", "Leyla Aliyeva", "--phone", "+994501110001", "--role", "officer")
	if code != 0 || !strings.Contains(stdout, "Added Leyla Aliyeva") {
		t.Errorf("officers add --config: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, stdout, stderr = runCLI(t, "alerts", "list", "--config", cfgFile, "--json")
	if code != 0 || !strings.Contains(stdout, `"priority": "P1"`) {
		t.Errorf("alerts list --config: exit %d, stdout %q, stderr %q; want the P1 alert", code, stdout, stderr)
	}
}

func TestVersionText(t *testing.T) {
	vcs := []debug.BuildSetting{
		{Key: "vcs", Value: "git"},
		{Key: "vcs.revision", Value: "9f47bb4c0a1b2c3d4e5f60718293a4b5c6d7e8f9"},
		{Key: "vcs.time", Value: "2026-12-01T10:00:00Z"},
		{Key: "vcs.modified", Value: "true"},
	}
	tests := []struct {
		name    string
		stamped string
		info    *debug.BuildInfo
		want    string
	}{
		{"stamped wins", "v1.2.3", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.0"}},
			"hotline v1.2.3\nbuilt with go1.26.8\n"},
		{"module version from go install", "", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.0"}},
			"hotline v1.2.0\nbuilt with go1.26.8\n"},
		{"git checkout", "", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261201100000-9f47bb4c0a1b+dirty"}, Settings: vcs},
			"hotline v0.0.0-20261201100000-9f47bb4c0a1b+dirty\nrevision 9f47bb4c0a1b2c3d4e5f60718293a4b5c6d7e8f9 (committed 2026-12-01T10:00:00Z, with uncommitted changes)\nbuilt with go1.26.8\n"},
		{"clean checkout", "", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: vcs[:3]},
			"hotline (devel)\nrevision 9f47bb4c0a1b2c3d4e5f60718293a4b5c6d7e8f9 (committed 2026-12-01T10:00:00Z)\nbuilt with go1.26.8\n"},
	}
	for _, tt := range tests {
		if got := versionText(tt.stamped, tt.info); got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
	if got := versionText("", nil); !strings.HasPrefix(got, "hotline (devel)\nbuilt with go") {
		t.Errorf("no build info: got %q", got)
	}
}

// TestVersionOfABuiltBinary builds hotline and checks that 'hotline
// version' reports what Go recorded in the binary (which 'go version -m'
// reads independently) or what -ldflags stamped. The plain build is the
// one the crash tests make, so the build cache serves both.
func TestVersionOfABuiltBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "hotline")
	build := func(args ...string) {
		t.Helper()
		cmd := exec.Command("go", append(append([]string{"build"}, args...), "-o", bin, ".")...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %v: %v\n%s", args, err, out)
		}
	}
	version := func() string {
		t.Helper()
		out, err := exec.Command(bin, "version").Output()
		if err != nil {
			t.Fatalf("hotline version: %v", err)
		}
		return string(out)
	}

	build()
	got := version()
	meta, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatalf("go version -m: %v", err)
	}
	for _, line := range strings.Split(string(meta), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 3 && f[0] == "mod":
			if !strings.HasPrefix(got, "hotline "+f[2]+"\n") {
				t.Errorf("hotline version = %q, want it to start with the module version %s", got, f[2])
			}
		case len(f) == 2 && strings.HasPrefix(f[1], "vcs.revision="):
			if rev := strings.TrimPrefix(f[1], "vcs.revision="); !strings.Contains(got, "revision "+rev) {
				t.Errorf("hotline version = %q, want it to name revision %s", got, rev)
			}
		}
	}

	build("-ldflags", "-X main.Version=v9.8.7")
	if got := version(); !strings.HasPrefix(got, "hotline v9.8.7\n") {
		t.Errorf("stamped: hotline version = %q, want it to start with hotline v9.8.7", got)
	}
}
