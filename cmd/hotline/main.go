// Command hotline runs the confidential hotline service and its admin tools.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Version is set at build time with -ldflags "-X main.Version=...".
var Version = "dev"

const usage = `hotline — confidential hotline and tip intake

Usage:
  hotline <command> [flags]

Commands:
  serve     run the server (Twilio webhooks, health checks)
  stats     print counts of cases and messages as JSON, without decrypting
  triage    show how a text would be triaged (priority, category, language)
  officers  add, list or remove officers (add|list|remove)
  rota      show or change the duty rota (show|set|override|import)
  alerts    list alerts and their deliveries (list)
  check     read the whole data file and name what is damaged (server stopped)
  version   print the version

Run 'hotline <command> --help' for a command's flags.

Try it locally with no Twilio account:
  hotline serve --dev
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
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
	case "check":
		return runCheck(ctx, args[1:], stdout, stderr, getenv)
	case "version", "--version":
		fmt.Fprintf(stdout, "hotline %s\n", Version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "hotline: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}
