package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/console"
)

const auditUsage = `Usage: hotline audit <command> [flags]

The audit log: every case opened, reply, note and state change, every
login and failed login, every admin action, with who, what, which object,
when and from where (a keyed tag of the address, never the address). It
never holds tip content. Entries are chained by keyed hashes.

Commands:
  list     print the log (--since DATE, --json)
  verify   check the chain; exits 1 if an entry was changed, removed or
           reordered

Examples:
  hotline audit list --since 2026-11-24
  hotline audit verify
` + adminCommonHelp

const auditListUsage = `Usage: hotline audit list [--since DATE] [--json]

Prints the audit log, oldest first, times in the rota's time zone with
their UTC offset (as alerts list shows them). DATE is 2026-11-24 (midnight
in the rota's time zone) or RFC 3339.

Example:
  hotline audit list --since 2026-11-24 --json
`

const auditVerifyUsage = `Usage: hotline audit verify [--json]

Walks the whole audit log and checks each entry's keyed hash and its
link to the one before, and that the log ends where it last ended. Exit
status 0: intact; 1: damaged (each problem is named).

Example:
  hotline audit verify
`

func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	sub, args, code, ok := subcommand(args, auditUsage, stdout, stderr)
	if !ok {
		return code
	}
	switch sub {
	case "list":
		c := newAdminCmd(ctx, "audit list", auditListUsage, stdout, stderr, getenv)
		since := c.fs.String("since", "", "only entries from this date or time")
		asJSON := c.fs.Bool("json", false, "print JSON")
		if code, ok := c.parseNoArgs(args); !ok {
			return code
		}
		return c.run(func(ctx context.Context, svc console.AdminService) error {
			var from time.Time
			zone, err := svc.RotaZone(ctx)
			if err != nil {
				return err
			}
			loc, err := time.LoadLocation(zone)
			if err != nil {
				loc = time.UTC
			}
			if *since != "" {
				if from, err = parseSince(*since, loc); err != nil {
					return err
				}
			}
			list, err := svc.AuditList(ctx, from)
			if err != nil {
				return err
			}
			if *asJSON {
				return c.printJSON(list)
			}
			tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "SEQ\tAT\tWHO\tACTION\tOBJECT\tDETAIL\tVIA\tFROM")
			for _, e := range list {
				who := e.ActorName
				if who == "" {
					who = e.Actor
				}
				if who == "" {
					who = "-"
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Seq, formatAuditAt(e.At.In(loc)), who, e.Action, dash(e.Object), dash(e.Detail), e.Via, dash(e.From))
			}
			return tw.Flush()
		})
	case "verify":
		c := newAdminCmd(ctx, "audit verify", auditVerifyUsage, stdout, stderr, getenv)
		asJSON := c.fs.Bool("json", false, "print JSON")
		if code, ok := c.parseNoArgs(args); !ok {
			return code
		}
		damaged := false
		code := c.run(func(ctx context.Context, svc console.AdminService) error {
			rep, err := svc.AuditVerify(ctx)
			if err != nil {
				return err
			}
			damaged = len(rep.Problems) > 0
			if *asJSON {
				return c.printJSON(rep)
			}
			if !damaged {
				fmt.Fprintf(c.stdout, "audit log intact: %d entries, chain and head check out\n", rep.Entries)
				return nil
			}
			fmt.Fprintf(c.stdout, "audit log DAMAGED: %d problems in %d entries\n", len(rep.Problems), rep.Entries)
			for _, p := range rep.Problems {
				fmt.Fprintf(c.stdout, "  entry %d: %s\n", p.Seq, p.Problem)
			}
			return nil
		})
		if code == 0 && damaged {
			return 1
		}
		return code
	}
	fmt.Fprintf(stderr, "hotline audit: unknown command %q\n\n%s", sub, auditUsage)
	return 2
}

// formatAuditAt is an audit entry's time to the second, with its UTC
// offset like formatAt (alerts list): "2026-11-24 21:00:05 +04".
func formatAuditAt(t time.Time) string {
	if _, off := t.Zone(); off%3600 != 0 {
		return t.Format("2006-01-02 15:04:05 -0700")
	}
	return t.Format("2006-01-02 15:04:05 -07")
}

func parseSince(s string, loc *time.Location) (time.Time, error) {
	if loc == nil {
		loc = time.UTC
	}
	if t, err := time.ParseInLocation("2006-01-02", s, loc); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, hotline.Errorf(hotline.EINVALID, "--since: must be a date like 2026-11-24 or a time like 2026-11-24T21:00:00+04:00")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
