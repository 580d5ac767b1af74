package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hotline-az/hotline/config"
	"github.com/hotline-az/hotline/store"
)

const checkUsage = `Usage: hotline check [--data DIR] [--config FILE] [--json]

Reads the whole data file, read-only, and says what is damaged:
  - its structure: every page, key and value read, then bbolt's own
    consistency check (free pages, references, key order);
  - every sealed record (cases, messages, officers, outbox jobs): decoded
    and opened with the keyring, which needs the master key as serve does.
It prints how many records opened and the id of each one that did not,
and writes nothing. Stop 'hotline serve' first: the server holds the file.

Exit status: 0 nothing wrong, 1 damage found (or the check could not
run), 2 bad usage. On damage, restore the last backup (see README).

Example:
  hotline check --data /var/lib/hotline --config /etc/hotline/hotline.toml
`

func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	c := newAdminCmd(ctx, "check", checkUsage, stdout, stderr, getenv)
	asJSON := c.fs.Bool("json", false, "print the report as JSON")
	if code, ok := c.parseNoArgs(args); !ok {
		return code
	}
	dir, key, err := c.directKey()
	if err != nil {
		var ue errUsage
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "hotline check: %s\n", ue.msg)
			return 2
		}
		fmt.Fprintf(stderr, "hotline check: %v\n", err)
		return 1
	}
	rep, err := store.Check(dir, key, store.Options{})
	if errors.Is(err, store.ErrLocked) {
		fmt.Fprintf(stderr, "hotline check: %v: stop it first (check reads the file directly)\n", err)
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "hotline check: %v\n", err)
		return 1
	}
	if *asJSON {
		if err := c.printJSON(rep); err != nil {
			fmt.Fprintf(stderr, "hotline check: %v\n", err)
			return 1
		}
	} else {
		printCheckReport(stdout, rep)
	}
	if !rep.OK() {
		fmt.Fprintf(stderr, "hotline check: %s is damaged: restore the last backup\n", rep.Path)
		return 1
	}
	return 0
}

func printCheckReport(w io.Writer, rep store.CheckReport) {
	fmt.Fprintf(w, "%s: %d bytes, %d pages\n", rep.Path, rep.Bytes, rep.Pages)
	if len(rep.Structure) == 0 {
		fmt.Fprintln(w, "structure: ok")
	} else {
		fmt.Fprintf(w, "structure: %d problem(s)\n", len(rep.Structure))
		for _, p := range rep.Structure {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
	if rep.Stopped != "" && rep.OpenedTotal() == 0 && rep.FailedCount == 0 {
		fmt.Fprintf(w, "sealed records: not read (%s)\n", rep.Stopped)
	} else {
		// Every bucket checked, by name, so the parts add up to the total.
		names := make([]string, 0, len(rep.Opened))
		for name := range rep.Opened {
			names = append(names, name)
		}
		sort.Strings(names)
		parts := make([]string, len(names))
		for i, name := range names {
			parts[i] = fmt.Sprintf("%s %d", name, rep.Opened[name])
		}
		fmt.Fprintf(w, "records: %d checked (%s), %d failed\n", rep.OpenedTotal(), strings.Join(parts, ", "), rep.FailedCount)
		for _, f := range rep.Failed {
			fmt.Fprintf(w, "  %s %s: %s\n", f.Bucket, f.ID, f.Problem)
		}
		if len(rep.Failed) < rep.FailedCount {
			fmt.Fprintf(w, "  ... and %d more\n", rep.FailedCount-len(rep.Failed))
		}
		if rep.Stopped != "" {
			fmt.Fprintf(w, "  stopped early, some records were not read: %s\n", rep.Stopped)
		}
	}
	if rep.OK() {
		fmt.Fprintln(w, "ok")
	}
}

// directKey resolves the data directory and the master key for a command
// that always opens the file itself (never through the admin socket), the
// way the admin commands do when the server is stopped.
func (c *adminCmd) directKey() (string, store.MasterKeySource, error) {
	dir := *c.data
	if dir == "" {
		dir = c.getenv("HOTLINE_DATA_DIR")
	}
	cfg, err := config.Load(config.Flags{ConfigFile: *c.config, DataDir: dir}, c.getenv)
	if err != nil {
		return "", store.MasterKeySource{}, errUsage{err.Error()}
	}
	if dir == "" && *c.config != "" {
		dir = cfg.DataDir
	}
	if dir == "" {
		dir = defaultDataDir()
	}
	if dir == "" {
		return "", store.MasterKeySource{}, errUsage{errNoDataDir}
	}
	cfg.DataDir = dir
	if cfg.MasterKey == "" && cfg.MasterKeyFile == "" && cfg.MasterPassphrase == "" && cfg.MasterPassphraseFile == "" {
		if p := filepath.Join(dir, "dev-master.key"); fileExists(p) {
			cfg.MasterKeyFile = p
		}
	}
	key, err := masterKeySource(cfg)
	if err != nil {
		return "", store.MasterKeySource{}, errUsage{fmt.Sprintf("opening sealed records needs the master key: %v; set HOTLINE_MASTER_KEY, HOTLINE_MASTER_KEY_FILE or HOTLINE_MASTER_PASSPHRASE(_FILE), or master_key_file in --config", err)}
	}
	return dir, key, nil
}
