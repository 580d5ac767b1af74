package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/hotline-az/hotline/console"
)

const rotaRemoveShiftUsage = `Usage: hotline rota remove-shift --day DAY --start HH:MM

Removes the weekly shift that starts on DAY at HH:MM, and warns about the
hours nobody covers afterwards. Overrides are not touched.

Example:
  hotline rota remove-shift --day tue --start 20:00
`

const rotaOverrideListUsage = `Usage: hotline rota override list [--json]

Lists the overrides with their IDs, who is on duty, their backup, when
they run, and whether they are on now, to come, or over.

Example:
  hotline rota override list
`

const rotaOverrideCancelUsage = `Usage: hotline rota override cancel ID

Cancels an override (ID from 'hotline rota override list'): the shifts
decide who is on duty again at once.

Example:
  hotline rota override cancel 3fa9c1
`

func runRotaRemoveShift(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	c := newAdminCmd(ctx, "rota remove-shift", rotaRemoveShiftUsage, stdout, stderr, getenv)
	day := c.fs.String("day", "", "day of the week: mon, tue, wed, thu, fri, sat or sun")
	start := c.fs.String("start", "", "the shift's start time HH:MM")
	if code, ok := c.parseNoArgs(args); !ok {
		return code
	}
	if code, ok := c.require("--day", *day, "--start", *start); !ok {
		return code
	}
	return c.run(func(ctx context.Context, svc console.AdminService) error {
		v, err := svc.RotaRemoveShift(ctx, *day, *start)
		if err != nil {
			return err
		}
		fmt.Fprint(c.stdout, v.Text)
		c.warnGaps(c.stderr, v.Gaps)
		return nil
	})
}

func runRotaOverrideOp(ctx context.Context, op string, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if op == "cancel" {
		c := newAdminCmd(ctx, "rota override cancel", rotaOverrideCancelUsage, stdout, stderr, getenv)
		pos, code, ok := c.parse(args)
		switch {
		case !ok:
			return code
		case len(pos) == 0:
			return c.usageErr("give the override's ID (see hotline rota override list)")
		case len(pos) > 1:
			return c.usageErr("unexpected argument %q", pos[1])
		}
		return c.run(func(ctx context.Context, svc console.AdminService) error {
			o, err := svc.RotaCancelOverride(ctx, pos[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "Cancelled override %s (%s, %s to %s).\n", o.ID, o.Officer, formatAt(o.From), formatAt(o.To))
			return nil
		})
	}
	c := newAdminCmd(ctx, "rota override list", rotaOverrideListUsage, stdout, stderr, getenv)
	asJSON := c.fs.Bool("json", false, "print JSON")
	if code, ok := c.parseNoArgs(args); !ok {
		return code
	}
	return c.run(func(ctx context.Context, svc console.AdminService) error {
		v, err := svc.RotaShow(ctx, time.Time{})
		if err != nil {
			return err
		}
		if *asJSON {
			return c.printJSON(v.Overrides)
		}
		if len(v.Overrides) == 0 {
			fmt.Fprintln(c.stdout, "No overrides.")
			return nil
		}
		tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tOFFICER\tBACKUP\tFROM\tTO\tNOW")
		for _, o := range v.Overrides {
			state := "on"
			switch {
			case !o.To.After(v.At):
				state = "over"
			case o.From.After(v.At):
				state = "to come"
			}
			backup := o.Backup
			if backup == "" {
				backup = "the shift's"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", o.ID, orUnknown(o.Officer), backup, formatAt(o.From), formatAt(o.To), state)
		}
		return tw.Flush()
	})
}
