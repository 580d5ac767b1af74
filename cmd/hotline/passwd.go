package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/hotline-az/hotline/console"
)

const officersPasswdUsage = `Usage: hotline officers passwd NAME [--password-stdin]

Sets or resets an officer's password for the console (at least 12
characters). It is asked twice on a terminal; scripts pass it on standard
input with --password-stdin (one line). The password is stored as an
Argon2id hash, sealed; the officer's open sessions end. On first login
the officer enrols TOTP with a QR code.

Examples:
  hotline officers passwd "Leyla Aliyeva"
  printf '%s\n' "$PASSWORD" | hotline officers passwd "Leyla Aliyeva" --password-stdin
`

const officersResetTOTPUsage = `Usage: hotline officers reset-totp NAME

Forgets an officer's TOTP authenticator (a lost or replaced phone) and
ends their sessions: at the next login they enrol a new one with a QR
code, after their password.

Example:
  hotline officers reset-totp "Leyla Aliyeva"
`

// runOfficersPasswd is 'hotline officers passwd'.
func runOfficersPasswd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	c := newAdminCmd(ctx, "officers passwd", officersPasswdUsage, stdout, stderr, getenv)
	fromStdin := c.fs.Bool("password-stdin", false, "read the password from standard input (one line)")
	pos, code, ok := c.parse(args)
	if !ok {
		return code
	}
	if len(pos) != 1 || strings.TrimSpace(pos[0]) == "" {
		return c.usageErr("give the officer's NAME (quoted), and nothing else")
	}
	password, err := readNewPassword(stdin, stderr, *fromStdin)
	if err != nil {
		return c.usageErr("%v", err)
	}
	return c.run(func(ctx context.Context, svc console.AdminService) error {
		if err := svc.SetPassword(ctx, pos[0], password); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "Password set for %s; their sessions ended.\n", strings.Join(strings.Fields(pos[0]), " "))
		return nil
	})
}

// readNewPassword reads a password twice from a terminal, or once from
// stdin with --password-stdin. Nothing is echoed.
func readNewPassword(stdin io.Reader, stderr io.Writer, fromStdin bool) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("--password-stdin: %v", err)
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			return "", errors.New("--password-stdin: standard input was empty")
		}
		return line, nil
	}
	f, ok := stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", errors.New("standard input is not a terminal: pass the password with --password-stdin")
	}
	fmt.Fprint(stderr, "New password: ")
	first, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(stderr)
	if err != nil {
		return "", err
	}
	fmt.Fprint(stderr, "Repeat it: ")
	second, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(stderr)
	if err != nil {
		return "", err
	}
	if string(first) != string(second) {
		return "", errors.New("the two passwords differ; nothing was changed")
	}
	return string(first), nil
}

// runOfficersResetTOTP is 'hotline officers reset-totp'.
func runOfficersResetTOTP(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	c := newAdminCmd(ctx, "officers reset-totp", officersResetTOTPUsage, stdout, stderr, getenv)
	pos, code, ok := c.parse(args)
	if !ok {
		return code
	}
	if len(pos) != 1 || strings.TrimSpace(pos[0]) == "" {
		return c.usageErr("give the officer's NAME (quoted), and nothing else")
	}
	return c.run(func(ctx context.Context, svc console.AdminService) error {
		if err := svc.ResetTOTP(ctx, pos[0]); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "TOTP reset for %s: they enrol a new authenticator at their next login.\n", strings.Join(strings.Fields(pos[0]), " "))
		return nil
	})
}
