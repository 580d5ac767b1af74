package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/hotline-az/hotline/config"
	"github.com/hotline-az/hotline/console"
	"github.com/hotline-az/hotline/store"
)

const purgeUsage = `Usage: hotline purge --dry-run | --yes

Applies the retention rules of the configuration ([retention], see the
README): closes open cases untouched for close_untouched_days, deletes
closed cases untouched for delete_closed_days (with their messages,
notes, workflow, code, reporter and dedup entries), and removes the
reporter's sealed number from cases untouched for drop_number_days
(the keyed hash stays, so their next text still threads; nobody can
reply to them any more). A rule set to 0 is off; by default only the
number drop (90 days) is on.

On a running server the server's own configuration decides and the purge
runs in the server (the server also runs it once a day); with the server
stopped, --config and the environment do. --dry-run lists what would go
and changes nothing; --yes does it, in transactions of 200 cases shared
with intake, each audited as retention.purge. Deleted pages stay in the
file until 'hotline compact' (server stopped).

Example:
  hotline purge --dry-run
  hotline purge --yes
`

const compactUsage = `Usage: hotline compact [--data DIR] [--config FILE]

Rewrites the data file without its free pages (bbolt's compaction into
a new file, which is fsynced and renamed over the old one), so the space
a large purge freed goes back to the file system. The server must be
stopped: the file is locked while it is rewritten. Needs the master key
(as serve does) to prove it is the right file and to write the audit
entry store.compact. The file needs as much free space again as its
compacted size.

Example:
  systemctl stop hotline
  hotline compact --config /etc/hotline/hotline.toml
  systemctl start hotline
`

// retentionPolicy turns the configuration's days into the store's policy.
func retentionPolicy(r config.Retention) store.RetentionPolicy {
	days := func(n int) time.Duration { return time.Duration(max(n, 0)) * config.Day }
	return store.RetentionPolicy{
		CloseUntouched: days(r.CloseUntouchedDays),
		DeleteClosed:   days(r.DeleteClosedDays),
		DropNumber:     days(r.DropNumberDays),
	}
}

func runPurge(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	c := newAdminCmd(ctx, "purge", purgeUsage, stdout, stderr, getenv)
	dryRun := c.fs.Bool("dry-run", false, "list what would be removed; change nothing")
	yes := c.fs.Bool("yes", false, "remove it (the retention rules are the confirmation)")
	asJSON := c.fs.Bool("json", false, "print the report as JSON")
	if code, ok := c.parseNoArgs(args); !ok {
		return code
	}
	if *dryRun == *yes {
		return c.usageErr("give exactly one of --dry-run or --yes")
	}
	return c.run(func(ctx context.Context, svc console.AdminService) error {
		rs, ok := svc.(console.RetentionService)
		if !ok {
			return errors.New("this admin service cannot purge")
		}
		rep, err := rs.Purge(ctx, *dryRun)
		if err != nil {
			return err
		}
		if *asJSON {
			return c.printJSON(rep)
		}
		printPurgeReport(c.stdout, rep)
		return nil
	})
}

func printPurgeReport(w io.Writer, rep store.PurgeReport) {
	verb := func(done, would string) string {
		if rep.DryRun {
			return would
		}
		return done
	}
	line := func(what string, codes []string) {
		fmt.Fprintf(w, "%-34s %d", what, len(codes))
		if len(codes) > 0 {
			shown := codes[:min(len(codes), 10)]
			fmt.Fprintf(w, "  %s", strings.Join(shown, " "))
			if len(codes) > len(shown) {
				fmt.Fprintf(w, " and %d more", len(codes)-len(shown))
			}
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "Retention as of %s%s:\n", rep.At.Format(time.RFC3339), verb("", " (dry run: nothing changed)"))
	line(verb("cases closed (untouched):", "cases to close (untouched):"), rep.Closed)
	line(verb("reporter numbers dropped:", "reporter numbers to drop:"), rep.NumbersDropped)
	line(verb("cases deleted:", "cases to delete:"), rep.Deleted)
	fmt.Fprintf(w, "%-34s %d\n", verb("messages deleted with them:", "messages deleted with them:"), rep.Messages)
	if !rep.DryRun && len(rep.Deleted) > 0 {
		fmt.Fprintln(w, "The freed pages stay in the file until 'hotline compact' (server stopped).")
	}
}

func runCompact(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	c := newAdminCmd(ctx, "compact", compactUsage, stdout, stderr, getenv)
	if code, ok := c.parseNoArgs(args); !ok {
		return code
	}
	dir, key, err := c.directKey()
	if err != nil {
		var ue errUsage
		if errors.As(err, &ue) {
			return c.usageErr("%s", ue.msg)
		}
		return c.fail(err)
	}
	start := time.Now()
	rep, err := store.Compact(dir, key, store.Options{LockTimeout: time.Second}, store.AuditEntry{Actor: "cli", Via: "cli"})
	if errors.Is(err, store.ErrLocked) {
		fmt.Fprintf(stderr, "hotline compact: %v: stop it first (compaction rewrites the file)\n", err)
		return 1
	}
	if err != nil {
		return c.fail(err)
	}
	fmt.Fprintf(stdout, "Compacted %s: %s → %s in %s.\n", dir, byteSize(rep.Before), byteSize(rep.After), time.Since(start).Round(time.Millisecond))
	return 0
}
