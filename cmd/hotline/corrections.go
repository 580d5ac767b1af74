package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/console"
)

const casesSetPriorityUsage = `Usage: hotline cases set-priority CODE P1|P2|P3 --reason TEXT [--as NAME] [--json]

Changes a case's priority where triage got it wrong. The reason is
required; it is stored sealed with the case and never logged. The change,
with triage's own priority and matched rules, is audited, counted in
'hotline stats' (corrections) and exported by 'hotline triage corrections'.

Lowering a case whose alert is open acknowledges the alert as the officer
named by --as (required then): its escalation stops and everyone paged is
told who took it. Raising an open case to P1 or P2 opens an alert at the
new priority, which pages the duty officer. A later text that triages
higher raises the case again.

Example:
  hotline cases set-priority K7QA3M P2 --reason "asks for the embassy's number; nobody is held" --as "Leyla Aliyeva"
`

const triageCorrectionsUsage = `Usage: hotline triage corrections --export FILE [--recipient AGE_PUBLIC_KEY ...]

Writes every case whose priority an officer changed as one labelled tip
per line, in the shape of triage/testdata:
  {"text":"...","lang":"az","priority":"P2","category":"labor"}
text is the reporter's texts up to the case's last correction, one a
line; priority is the officer's; category is triage's ("none" for a tip
made P3 or "info"). Review the lines, then add them to a testdata file to
teach the rules and the model.

The file holds tip text, so it is encrypted with age, like 'hotline
backup', to backup_recipients (config) or HOTLINE_BACKUP_RECIPIENTS, or
to --recipient (repeatable), which overrides them. The export is written
to the audit log. FILE must not exist. Decrypt it offline:
  age -d -i backup-identity.txt corrections.jsonl.age > corrections.jsonl

Example:
  hotline triage corrections --export /var/backups/corrections-$(date +%F).jsonl.age
` + adminCommonHelp

func runSetPriority(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	c := newAdminCmd(ctx, "cases set-priority", casesSetPriorityUsage, stdout, stderr, getenv)
	reason := c.fs.String("reason", "", "why the priority is wrong (required; stored sealed)")
	as := c.fs.String("as", "", "the officer who makes the change (required to lower a case whose alert is open)")
	asJSON := c.fs.Bool("json", false, "print JSON")
	pos, code, ok := c.parse(args)
	if !ok {
		return code
	}
	if len(pos) != 2 {
		return c.usageErr("give a case CODE and a priority P1, P2 or P3")
	}
	to := hotline.Priority(strings.ToUpper(pos[1]))
	if to.Rank() == 0 {
		return c.usageErr("PRIORITY: must be P1, P2 or P3, not %q", pos[1])
	}
	if code, ok := c.require("--reason", *reason); !ok {
		return code
	}
	return c.run(func(ctx context.Context, svc console.AdminService) error {
		cs, ok := svc.(console.CorrectionService)
		if !ok {
			return fmt.Errorf("this admin service cannot change priorities")
		}
		v, err := cs.SetPriority(ctx, console.PriorityRequest{Code: pos[0], Priority: to, Reason: *reason, As: *as})
		if err != nil {
			return err
		}
		if *asJSON {
			return c.printJSON(v)
		}
		fmt.Fprintf(c.stdout, "Case %s is now %s (was %s; triage said %s).\n", v.Code, v.To, v.From, v.Triage)
		if v.AcknowledgedAlert != 0 {
			fmt.Fprintf(c.stdout, "Alert %d is acknowledged as %s: its escalation stopped.\n", v.AcknowledgedAlert, *as)
		}
		if v.OpenedAlert != 0 {
			fmt.Fprintf(c.stdout, "Alert %d is open at %s: the duty officer is being paged.\n", v.OpenedAlert, v.To)
		}
		return nil
	})
}

// runTriageCorrections implements 'hotline triage corrections'.
func runTriageCorrections(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	c := newAdminCmd(ctx, "triage corrections", triageCorrectionsUsage, stdout, stderr, getenv)
	out := c.fs.String("export", "", "the encrypted file to write (must not exist)")
	var flagRecipients recipientsFlag
	c.fs.Var(&flagRecipients, "recipient", "age public key to encrypt to (repeatable; overrides the config)")
	if code, ok := c.parseNoArgs(args); !ok {
		return code
	}
	recipients, code, ok := c.encryptedOut("--export", *out, flagRecipients)
	if !ok {
		return code
	}
	return c.run(func(ctx context.Context, svc console.AdminService) error {
		cs, ok := svc.(console.CorrectionService)
		if !ok {
			return fmt.Errorf("this admin service cannot export corrections")
		}
		exp, err := cs.ExportCorrections(ctx)
		if err != nil {
			return err
		}
		if err := writeEncrypted(*out, recipients, func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetEscapeHTML(false)
			for _, t := range exp.Tips {
				if err := enc.Encode(t); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "Wrote %d labelled tips to %s, encrypted to %d recipient(s): %d lowered and %d raised from what triage said",
			len(exp.Tips), *out, len(recipients), exp.Lowered, exp.Raised)
		if exp.Skipped > 0 {
			fmt.Fprintf(c.stdout, "; %d corrected cases without text left out", exp.Skipped)
		}
		fmt.Fprintln(c.stdout, ".")
		return nil
	})
}

// writeEncrypted writes what write produces through age into
// out.partial, syncs it and renames it into place, so out only ever
// exists complete and no plaintext touches the disk.
func writeEncrypted(out string, recipients []age.Recipient, write func(io.Writer) error) error {
	partial := out + ".partial"
	f, err := os.OpenFile(partial, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("--export: %w", err)
	}
	done := false
	defer func() {
		if !done {
			f.Close()
			os.Remove(partial)
		}
	}()
	enc, err := age.Encrypt(f, recipients...)
	if err != nil {
		return err
	}
	if err := write(enc); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(partial, out); err != nil {
		return err
	}
	done = true
	if d, err := os.Open(filepath.Dir(out)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// printCorrections lists a case's priority changes for 'cases show'.
func printCorrections(w io.Writer, list []console.CorrectionView) {
	if len(list) == 0 {
		return
	}
	fmt.Fprintln(w, "\nPriority changes:")
	for _, c := range list {
		by := c.By
		if by == "" {
			by = "an admin (" + c.Via + ")"
		}
		fmt.Fprintf(w, "  %s  %s -> %s by %s (triage said %s", c.At.Format("2006-01-02 15:04"), c.From, c.To, by, c.Triage)
		if len(c.Matched) > 0 {
			fmt.Fprintf(w, ": %s", strings.Join(c.Matched, ", "))
		}
		fmt.Fprintf(w, "):\n    %s\n", strings.ReplaceAll(c.Reason, "\n", "\n    "))
	}
}
