package main

import (
	"context"
	"fmt"
	"io"

	"github.com/hotline-az/hotline/console"
)

const officersUpdateUsage = `Usage: hotline officers update NAME [--name NEW] [--phone NUMBER [--no-verify]] [--role officer|supervisor|admin] [--lang az|ru|en]

Changes an officer; the rota follows the officer, not the number. A new
number gets a six-digit code by SMS and receives alerts only once the
officer texts the code back from it (within 24 hours); until then alerts
go to the old number. --no-verify makes the new number take alerts at
once, without the code; the audit log records it. --lang is the language
of the officer's alert call (English until set).

Examples:
  hotline officers update "Leyla Aliyeva" --phone +994501110009
  hotline officers update "Leyla Aliyeva" --phone +994501110009 --no-verify
  hotline officers update "Leyla Aliyeva" --role supervisor --name "Leyla Mammadova"
  hotline officers update "Leyla Aliyeva" --lang az
`

func runOfficersUpdate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	c := newAdminCmd(ctx, "officers update", officersUpdateUsage, stdout, stderr, getenv)
	var u console.OfficerUpdate
	c.fs.StringVar(&u.NewName, "name", "", "the officer's new name")
	c.fs.StringVar(&u.Phone, "phone", "", "new mobile number, E.164 like +994501110001")
	c.fs.StringVar(&u.Role, "role", "", "officer, supervisor or admin")
	c.fs.StringVar(&u.Lang, "lang", "", "language of the alert call: az, ru or en")
	c.fs.BoolVar(&u.NoVerify, "no-verify", false, "use the new number at once, without the SMS code (audited)")
	pos, code, ok := c.parse(args)
	switch {
	case !ok:
		return code
	case len(pos) == 0:
		return c.usageErr("give the officer's NAME (see hotline officers list)")
	case len(pos) > 1:
		return c.usageErr("unexpected argument %q (quote a name with spaces)", pos[1])
	}
	u.Name = pos[0]
	return c.run(func(ctx context.Context, svc console.AdminService) error {
		o, err := svc.UpdateOfficer(ctx, u)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "Updated %s (%s, %s), id %s.\n", o.Name, o.Role, o.Phone, o.ID)
		if o.PendingPhone != "" {
			fmt.Fprintf(c.stdout, "A code goes by SMS to %s (now if the server runs, else when it starts): alerts go there once %s texts it back (by %s); until then they go to %s.\n",
				o.PendingPhone, o.Name, formatAt(*o.VerifyExpires), o.Phone)
		}
		return nil
	})
}
