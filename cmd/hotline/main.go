// Command hotline runs the confidential hotline service and its admin tools.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// Version is set at build time with -ldflags "-X main.Version=...";
// empty, 'hotline version' prints what Go recorded (see version.go).
var Version string

const usage = `hotline — confidential hotline and tip intake

Usage:
  hotline <command> [flags]

Commands:
  serve     run the server (Twilio webhooks, health checks)
  stats     print counts of cases and messages as JSON, without decrypting
  triage    show how a text would be triaged (priority, category, language);
            triage corrections --export FILE: officers' corrections as labelled tips
  officers  manage officers and their logins (add|list|update|test|remove|passwd|reset-totp)
  rota      show or change the duty rota (show|set|remove-shift|override|import)
  alerts    list and act on alerts (list|show|ack|close|reopen|escalate)
  cases     list cases, open one, change its priority or write its voicemail
            (list|show|set-priority|audio), audited
  audit     print or verify the audit log (list|verify)
  keys      manage encryption keys (status|rotate|rewrap|min-decrypt|retire|rotate-index|change-master)
  backup    write an age-encrypted hot snapshot of the data file
  restore   restore a backup into an empty data directory, checked
  check     read the whole data file and name what is damaged (server stopped)
  purge     apply the retention rules now (--dry-run|--yes)
  compact   give the space a purge freed back to the file system (server stopped)
  version   print the version

Run 'hotline help <command>' or 'hotline <command> --help' for a
command's flags.

Try it locally with no Twilio account:
  hotline serve --dev
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	getenv := takeSecretEnv()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, getenv))
}

// run dispatches a subcommand and returns the process exit code: 0 ok,
// 1 failure, 2 bad usage or configuration.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], stdout, stderr, getenv)
	case "stats":
		return runStats(args[1:], stdout, stderr, getenv)
	case "triage":
		return runTriage(args[1:], stdin, stdout, stderr, getenv)
	case "officers":
		return runOfficers(ctx, args[1:], stdin, stdout, stderr, getenv)
	case "rota":
		return runRota(ctx, args[1:], stdin, stdout, stderr, getenv)
	case "alerts":
		return runAlerts(ctx, args[1:], stdin, stdout, stderr, getenv)
	case "cases":
		return runCases(ctx, args[1:], stdout, stderr, getenv)
	case "audit":
		return runAudit(ctx, args[1:], stdout, stderr, getenv)
	case "keys":
		return runKeys(ctx, args[1:], stdin, stdout, stderr, getenv)
	case "backup":
		return runBackup(ctx, args[1:], stdout, stderr, getenv)
	case "restore":
		return runRestore(args[1:], stdout, stderr, getenv)
	case "check":
		return runCheck(ctx, args[1:], stdout, stderr, getenv)
	case "purge":
		return runPurge(ctx, args[1:], stdout, stderr, getenv)
	case "compact":
		return runCompact(ctx, args[1:], stdout, stderr, getenv)
	case "version", "--version":
		return runVersion(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		if len(args) > 1 && !strings.HasPrefix(args[1], "-") {
			// "hotline help rota set" is "hotline rota set --help".
			return run(ctx, append(args[1:len(args):len(args)], "--help"), stdin, stdout, stderr, getenv)
		}
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "hotline: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}
