package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/console"
)

const casesUsage = `Usage: hotline cases <command> [flags]

Cases for an admin on the server itself (the console is the usual way).

Commands:
  list     list cases, P1 first then oldest: metadata only, no text
  show     open one case: its messages, notes and workflow (audited)
  set-priority  change a case's priority, with a reason (audited)

Examples:
  hotline cases list --open
  hotline cases show K7QA3M
` + adminCommonHelp

const casesListUsage = `Usage: hotline cases list [--open] [--json]

Lists cases, P1 first then oldest: code, priority, category, language,
channel, workflow state, messages, age. Never any text.

Example:
  hotline cases list --open --json
`

const casesShowUsage = `Usage: hotline cases show CODE [--json]

Opens a case: its messages in the original language, triage matches,
notes, workflow and alerts. The reporter's number is never shown. Every
opening is written to the audit log.

Example:
  hotline cases show K7QA3M
`

func runCases(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	sub, args, code, ok := subcommand(args, casesUsage, stdout, stderr)
	if !ok {
		return code
	}
	switch sub {
	case "list":
		c := newAdminCmd(ctx, "cases list", casesListUsage, stdout, stderr, getenv)
		open := c.fs.Bool("open", false, "only open cases")
		asJSON := c.fs.Bool("json", false, "print JSON")
		if code, ok := c.parseNoArgs(args); !ok {
			return code
		}
		return c.run(func(ctx context.Context, svc console.AdminService) error {
			list, err := svc.Cases(ctx, *open)
			if err != nil {
				return err
			}
			if *asJSON {
				return c.printJSON(list)
			}
			if len(list) == 0 {
				fmt.Fprintln(c.stdout, "No cases.")
				return nil
			}
			tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "CODE\tPRIORITY\tCATEGORY\tLANG\tCHANNEL\tSTATUS\tSTATE\tMESSAGES\tOPENED")
			for _, cv := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", cv.Code, cv.Priority, cv.Category, cv.Lang, cv.Channel,
					cv.Status, cv.State, cv.Messages, cv.OpenedAt.Format("2006-01-02 15:04"))
			}
			return tw.Flush()
		})
	case "show":
		c := newAdminCmd(ctx, "cases show", casesShowUsage, stdout, stderr, getenv)
		asJSON := c.fs.Bool("json", false, "print JSON")
		pos, code, ok := c.parse(args)
		if !ok {
			return code
		}
		if len(pos) != 1 {
			return c.usageErr("give one case CODE")
		}
		return c.run(func(ctx context.Context, svc console.AdminService) error {
			d, err := svc.ShowCase(ctx, pos[0])
			if err != nil {
				return err
			}
			if *asJSON {
				return c.printJSON(d)
			}
			printCase(c.stdout, d)
			return nil
		})
	case "set-priority":
		return runSetPriority(ctx, args, stdout, stderr, getenv)
	}
	fmt.Fprintf(stderr, "hotline cases: unknown command %q\n\n%s", sub, casesUsage)
	return 2
}

func printCase(w io.Writer, d console.CaseDetail) {
	fmt.Fprintf(w, "Case %s  %s %s  %s, %s  opened %s  status %s, %s\n", d.Code, d.Priority, d.Category, d.Lang, d.Channel,
		d.OpenedAt.Format("2006-01-02 15:04"), d.Status, d.State)
	if d.Reason != "" {
		fmt.Fprintf(w, "Closed because: %s\n", d.Reason)
	}
	fmt.Fprintln(w, "\nMessages:")
	for _, m := range d.Messages {
		who := "reporter"
		if m.Direction == hotline.Outbound {
			who = "reply"
		}
		fmt.Fprintf(w, "  %s  %s", m.At.Format("2006-01-02 15:04"), who)
		if m.Priority != "" {
			fmt.Fprintf(w, " (%s)", m.Priority)
		}
		fmt.Fprintf(w, ":\n    %s\n", strings.ReplaceAll(m.Body, "\n", "\n    "))
		if len(m.Matched) > 0 {
			fmt.Fprintf(w, "    triage: %s\n", strings.Join(m.Matched, ", "))
		}
	}
	if len(d.Notes) > 0 {
		fmt.Fprintln(w, "\nNotes:")
		for _, n := range d.Notes {
			fmt.Fprintf(w, "  %s  %s:\n    %s\n", n.At.Format("2006-01-02 15:04"), n.By, strings.ReplaceAll(n.Text, "\n", "\n    "))
		}
	}
	if len(d.History) > 0 {
		fmt.Fprintln(w, "\nWorkflow:")
		for _, h := range d.History {
			fmt.Fprintf(w, "  %s  %s by %s\n", h.At.Format("2006-01-02 15:04"), h.State, h.By)
		}
	}
	printCorrections(w, d.Corrections)
	if len(d.Alerts) > 0 {
		fmt.Fprintln(w, "\nAlerts:")
		for _, a := range d.Alerts {
			fmt.Fprintf(w, "  #%d %s %s", a.Number, a.Priority, a.State)
			if a.AckedBy != "" {
				fmt.Fprintf(w, ", acknowledged by %s via %s", a.AckedBy, a.AckedVia)
			}
			fmt.Fprintln(w)
		}
	}
}
