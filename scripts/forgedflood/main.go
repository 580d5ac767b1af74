// Command forgedflood measures what a flood of forged webhooks costs the
// hotline: real tips' latency and the server's memory while many clients
// post large unsigned forms.
//
// It builds ./cmd/hotline (or runs --hotline BIN), starts "hotline serve
// --dev" on a free 127.0.0.1 port with a fresh data directory, and runs a
// paced stream of real, validly signed tips through three phases: alone
// (the baseline), then next to --clients clients posting forged forms of
// 9,900 empty fields (about 55 KB) as fast as the server answers them,
// then next to the same clients posting forged forms of 100 fields of the
// same size (as many fields as the hotline lets through to the signature
// check). It prints each phase's tip latency, the flood's answers, and the
// server's resident memory, and checks the targets. Everything happens on
// 127.0.0.1; the server is stopped when the run ends, fails or is
// interrupted.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

const usage = `forgedflood measures real tips' latency and the hotline's memory under a
flood of forged webhooks.

Usage:
  go run ./scripts/forgedflood [flags]

Phases (each --phase long, tips paced at --tip-rate per second throughout):
  baseline         real tips only
  decoy-9900       plus the 9,900-field flood sent to a decoy server in the
                   flood's own process, not to the hotline: what the flood
                   costs this machine (a control; an attacker's clients
                   would not share the server's CPU)
  flood-9900       plus --clients clients posting forged 9,900-field, ~55 KB forms
  flood-100        plus --clients clients posting forged 100-field, ~55 KB forms
Targets: tip p99 under 50 ms in every phase, server RSS under 256 MB,
every real tip answered 200. A missed target prints FAIL and exits 1.

Flags (-flag and --flag are the same):
`

const examples = `
Examples:
  go run ./scripts/forgedflood
  go run ./scripts/forgedflood --phase 30s --clients 32 --tip-rate 50
  # An older build, for a before/after comparison:
  go run ./scripts/forgedflood --hotline /tmp/hotline-main
`

// Targets of issue 8.
const (
	targetP99 = 50 * time.Millisecond
	targetRSS = 256 << 20
)

type options struct {
	phase      time.Duration
	clients    int
	tipRate    int
	floodProcs int
	rounds     int
	bin        string
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("forgedflood", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.DurationVar(&o.phase, "phase", 15*time.Second, "length of each phase")
	fs.IntVar(&o.clients, "clients", 32, "forging clients during the flood phases")
	fs.IntVar(&o.tipRate, "tip-rate", 50, "real tips per second, in every phase")
	fs.IntVar(&o.rounds, "rounds", 1, "times to run the three phases in turn; each phase's figures pool\nits rounds, so a busy machine's drift falls on every phase alike")
	fs.IntVar(&o.floodProcs, "flood-procs", 1, "GOMAXPROCS of the forging clients' process: 1 leaves the server\nthe rest of a small machine, as an attacker elsewhere would; 0 = every core")
	fs.StringVar(&o.bin, "hotline", "", "hotline binary to run (default: build ./cmd/hotline)")
	var floodChild string
	var fields int
	fs.StringVar(&floodChild, "flood-child", "", "internal: run as the forging clients' process against this URL")
	fs.IntVar(&fields, "fields", 0, "internal: fields of the forged form (with --flood-child)")
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
		fmt.Fprint(stderr, examples)
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if floodChild != "" {
		return runFloodChild(floodChild, o.clients, fields, o.phase)
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "forgedflood: unexpected argument %q (flags only)\n", fs.Arg(0))
		return 2
	case o.phase < time.Second || o.phase > 10*time.Minute:
		fmt.Fprintf(stderr, "forgedflood: --phase must be between 1s and 10m, got %s\n", o.phase)
		return 2
	case o.clients < 1 || o.clients > 1024:
		fmt.Fprintf(stderr, "forgedflood: --clients must be between 1 and 1024, got %d\n", o.clients)
		return 2
	case o.tipRate < 1 || o.tipRate > 1000:
		fmt.Fprintf(stderr, "forgedflood: --tip-rate must be between 1 and 1000, got %d\n", o.tipRate)
		return 2
	case o.rounds < 1 || o.rounds > 20:
		fmt.Fprintf(stderr, "forgedflood: --rounds must be between 1 and 20, got %d\n", o.rounds)
		return 2
	case o.floodProcs < 0:
		fmt.Fprintf(stderr, "forgedflood: --flood-procs must be 0 or more, got %d\n", o.floodProcs)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir, err := os.MkdirTemp("", "forgedflood-")
	if err != nil {
		fmt.Fprintf(stderr, "forgedflood: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)

	bin := o.bin
	if bin == "" {
		fmt.Fprintln(stderr, "building ./cmd/hotline ...")
		if bin, err = buildHotline(ctx, dir); err != nil {
			fmt.Fprintf(stderr, "forgedflood: %v\n", err)
			return 1
		}
	}
	srv, err := startHotline(ctx, bin, dir)
	if err != nil {
		fmt.Fprintf(stderr, "forgedflood: %v\n", err)
		return 1
	}
	defer srv.stop()
	procs := fmt.Sprint(o.floodProcs)
	if o.floodProcs == 0 {
		procs = "all"
	}
	fmt.Fprintf(stdout, "%s serving on %s (pid %d); %d forging clients (GOMAXPROCS %s), %d real tips/s, %s per phase, %d round(s); %d cores, load average %s\n",
		bin, srv.baseURL, srv.pid(), o.clients, procs, o.tipRate, o.phase, o.rounds, numCPU(), loadAverage())

	phases := []phase{
		{name: "baseline"},
		{name: "decoy-9900", fields: 9900, clients: o.clients, decoy: true},
		{name: "flood-9900", fields: 9900, clients: o.clients},
		{name: "flood-100", fields: 100, clients: o.clients},
	}
	results := make([]result, len(phases))
	for round := 1; round <= o.rounds; round++ {
		for i, p := range phases {
			if ctx.Err() != nil {
				break
			}
			fmt.Fprintf(stderr, "round %d of %d, phase %s ...\n", round, o.rounds, p.name)
			results[i].add(runPhase(ctx, srv, p, o))
		}
	}
	peak := srv.peakRSS()
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "forgedflood: interrupted")
		return 1
	}
	return report(stdout, results, peak)
}
