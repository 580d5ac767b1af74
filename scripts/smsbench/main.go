// Command smsbench measures how fast the hotline takes in SMS webhooks, next
// to a baseline that does the least any durable server must: write the raw
// body to bbolt with group commit and answer after the fsync.
//
// It builds ./cmd/hotline, starts it on a free loopback port with a fresh
// data directory, starts the baseline in a process of its own (this program
// again, see baselineServerEnv), sends each the same signed
// webhooks at each concurrency level, prints a table and checks the targets.
// Everything happens on 127.0.0.1; every server it started is stopped when it
// ends, is interrupted or fails. Run it with -h for the flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	benchToken  = "benchtoken123"
	webhookPath = "/twilio/sms"
	maxLevel    = 1024
	maxCount    = 1_000_000
)

const usage = `smsbench benchmarks the hotline's SMS webhook against a bbolt baseline.

Usage:
  go run ./scripts/smsbench [flags]

By default it builds ./cmd/hotline, starts "hotline serve --dev" on a free
127.0.0.1 port with a fresh data directory, runs --count signed webhooks per
concurrency level against the baseline and the hotline (in --rounds blocks,
taking turns, so both meet the same disk), prints a table and
checks the targets:
  - at concurrency 64, hotline throughput >= 0.6x the baseline's
  - at concurrency 1, hotline p50 <= 1.5x the baseline's
  - hotline p99 < 50ms at every level
  - no hotline errors (non-200 answers)
A missed target prints FAIL; the exit status is 0 anyway unless --strict.

Flags (-flag and --flag are the same):
`

const examples = `
Examples:
  go run ./scripts/smsbench
  go run ./scripts/smsbench --baseline-only --concurrency 1,8,64 --count 5000
  go run ./scripts/smsbench --json --strict > bench.json
  # Then a 20 s CPU profile of the hotline under load at the highest level:
  go run ./scripts/smsbench --cpuprofile hotline.prof && go tool pprof -top hotline.prof
  # A hotline you started yourself (loopback only; it gets --count fake cases per level):
  go run ./scripts/smsbench --addr 127.0.0.1:8080 --token devtoken123
`

func main() {
	if path := os.Getenv(baselineServerEnv); path != "" {
		os.Exit(serveBaseline(path))
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type config struct {
	levels       []int
	count        int
	rounds       int
	warmup       int
	timeout      time.Duration
	strict       bool
	json         bool
	baselineOnly bool
	addr         string
	publicURL    string
	token        string
	bin          string
	dir          string
	keep         bool
	cpuprofile   string
	profileSecs  int
	inProcess    bool
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	var c config
	var levels string
	fs := flag.NewFlagSet("smsbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), examples)
	}
	fs.StringVar(&levels, "concurrency", "1,16,64", "comma-separated concurrency levels")
	fs.IntVar(&c.count, "count", 2000, "timed requests per level and server")
	fs.IntVar(&c.rounds, "rounds", 4, "split each level's --count into this many blocks, alternating the servers block by\nblock (ABBA), so that a slow minute of a shared disk falls on both; 1 runs each\nserver's requests in one go")
	fs.IntVar(&c.warmup, "warmup", 100, "untimed requests per level and server before the timed ones")
	fs.DurationVar(&c.timeout, "timeout", 5*time.Minute, "give up after this long, build and start-up included")
	fs.BoolVar(&c.strict, "strict", false, "exit 1 when a target is missed")
	fs.BoolVar(&c.json, "json", false, "print the figures as JSON on stdout (the table goes to stderr)")
	fs.BoolVar(&c.baselineOnly, "baseline-only", false, "bench the baseline alone; do not build or start the hotline")
	fs.StringVar(&c.addr, "addr", "", "bench an already-running hotline at this loopback host:port instead of starting one\n(needs --token)")
	fs.StringVar(&c.publicURL, "public-url", "", "with --addr: the hotline's HOTLINE_PUBLIC_URL, which signatures are made for\n(default: http://ADDR)")
	fs.StringVar(&c.token, "token", "", "with --addr: the hotline's TWILIO_AUTH_TOKEN (default: $TWILIO_AUTH_TOKEN)")
	fs.StringVar(&c.bin, "bin", "", "start this hotline binary instead of building ./cmd/hotline")
	fs.StringVar(&c.dir, "dir", "", "parent of the temporary directory for data files and the log;\nput it on the disk you want to measure (default: the system temp dir)")
	fs.BoolVar(&c.keep, "keep", false, "keep the temporary directory (data files, hotline.log) and print its path")
	fs.BoolVar(&c.inProcess, "baseline-in-process", false, "serve the baseline from smsbench's own process, sharing its Go runtime with the\nload generator (the default is a process of its own, like the hotline)")
	fs.StringVar(&c.cpuprofile, "cpuprofile", "", "after the timed runs, write a CPU profile of the hotline under untimed load at the\nhighest --concurrency level to this file (from its internal /debug/pprof/)")
	fs.IntVar(&c.profileSecs, "profile-seconds", 20, "length of the --cpuprofile profile")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	fail := func(format string, args ...any) (*config, error) {
		err := fmt.Errorf(format, args...)
		fmt.Fprintf(stderr, "smsbench: %v\n", err)
		return nil, err
	}
	if fs.NArg() > 0 {
		return fail("unexpected argument %q (smsbench takes flags only)", fs.Arg(0))
	}
	for f := range strings.SplitSeq(levels, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > maxLevel {
			return fail("--concurrency: %q is not a level from 1 to %d", f, maxLevel)
		}
		c.levels = append(c.levels, n)
	}
	if c.count < 1 || c.count > maxCount {
		return fail("--count: %d is not from 1 to %d", c.count, maxCount)
	}
	if c.rounds < 1 || c.rounds > c.count {
		return fail("--rounds: %d is not from 1 to --count (%d)", c.rounds, c.count)
	}
	if c.warmup < 0 || c.warmup > maxCount {
		return fail("--warmup: %d is not from 0 to %d", c.warmup, maxCount)
	}
	if c.timeout <= 0 {
		return fail("--timeout: must be positive")
	}
	if c.cpuprofile != "" && (c.addr != "" || c.baselineOnly) {
		return fail("--cpuprofile profiles a hotline smsbench starts: it does not go with --addr or --baseline-only")
	}
	if c.profileSecs < 1 || c.profileSecs > 600 {
		return fail("--profile-seconds: %d is not from 1 to 600", c.profileSecs)
	}
	if c.bin != "" && (c.addr != "" || c.baselineOnly) {
		return fail("--bin starts a hotline: it does not go with --addr or --baseline-only")
	}
	if c.addr != "" {
		if c.baselineOnly {
			return fail("--addr and --baseline-only: choose one")
		}
		if err := checkLoopback(c.addr); err != nil {
			return fail("--addr: %v", err)
		}
		if c.token == "" {
			c.token = os.Getenv("TWILIO_AUTH_TOKEN")
		}
		if c.token == "" {
			return fail("--token: required with --addr (the running hotline's TWILIO_AUTH_TOKEN; or set TWILIO_AUTH_TOKEN)")
		}
		if c.publicURL == "" {
			c.publicURL = "http://" + c.addr
		}
		u, err := parseBaseURL(c.publicURL)
		if err != nil {
			return fail("--public-url: %v", err)
		}
		c.publicURL = u
	} else if c.publicURL != "" || c.token != "" {
		return fail("--public-url and --token go with --addr")
	}
	return &c, nil
}

// parseBaseURL checks a base URL such as https://hotline.example.az and
// returns it without a trailing slash.
func parseBaseURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return "", fmt.Errorf("%q is not an http or https base URL", raw)
	}
	return strings.TrimRight(raw, "/"), nil
}

// run is the whole command; it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeoutCause(ctx, cfg.timeout, fmt.Errorf("--timeout %s reached", cfg.timeout))
	defer cancel()

	b := &bench{cfg: cfg, stdout: stdout, stderr: stderr}
	code := b.run(ctx)
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(stderr, "smsbench: stopped: %v\n", err)
	} else if ctx.Err() != nil {
		fmt.Fprintln(stderr, "smsbench: interrupted")
	}
	return code
}

type bench struct {
	cfg            *config
	stdout, stderr io.Writer
	table          io.Writer // stdout, or stderr under --json
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.stderr, "smsbench: "+format+"\n", args...)
}

func (b *bench) run(ctx context.Context) int {
	cfg := b.cfg
	b.table = b.stdout
	if cfg.json {
		b.table = b.stderr
	}

	dir, err := os.MkdirTemp(cfg.dir, "smsbench-")
	if err != nil {
		b.logf("%v", err)
		return 1
	}
	defer func() {
		if cfg.keep {
			b.logf("kept %s", dir)
			return
		}
		os.RemoveAll(dir)
	}()

	// Baseline: in a process of its own unless asked otherwise.
	var base *baseline
	if cfg.inProcess {
		base, err = startBaselineInProcess(filepath.Join(dir, "baseline.db"))
	} else {
		base, err = startBaselineProcess(ctx, filepath.Join(dir, "baseline.db"))
	}
	if err != nil {
		b.logf("baseline: %v", err)
		return 1
	}
	defer func() {
		if err := base.stop(); err != nil {
			b.logf("baseline: %v", err)
		}
	}()
	baseURL := base.url
	targets := []target{{name: "baseline", url: baseURL + webhookPath, signURL: baseURL + webhookPath, token: benchToken, pid: base.pid}}

	// Hotline: ours, someone else's, or none.
	internalURL := ""
	switch {
	case cfg.baselineOnly:
	case cfg.addr != "":
		base := "http://" + cfg.addr
		if ok, err := getOK(ctx, &http.Client{Timeout: 5 * time.Second}, base+"/healthz"); !ok {
			b.logf("hotline at %s is not ready: %v", cfg.addr, err)
			return 1
		}
		b.logf("benching the running hotline at %s: it will store %d fake messages per level", cfg.addr, cfg.count+cfg.warmup)
		targets = append(targets, target{name: "hotline", url: base + webhookPath, signURL: cfg.publicURL + webhookPath, token: cfg.token})
	default:
		bin := cfg.bin
		if bin == "" {
			b.logf("building ./cmd/hotline")
			if bin, err = buildHotline(ctx, dir); err != nil {
				b.logf("%v\n(use --baseline-only to bench the baseline alone)", err)
				return 1
			}
		} else if bin, err = filepath.Abs(bin); err != nil {
			b.logf("--bin: %v", err)
			return 1
		}
		p, err := startHotline(ctx, bin, dir, benchToken, 30*time.Second)
		if err != nil {
			b.logf("%v", err)
			return 1
		}
		defer func() {
			if err := p.Stop(); err != nil {
				b.logf("%v", err)
			}
		}()
		b.logf("hotline ready at %s, internal %s (log %s)", p.baseURL, p.internalURL, p.logPath)
		internalURL = p.internalURL
		targets = append(targets, target{name: "hotline", url: p.baseURL + webhookPath, signURL: p.baseURL + webhookPath, token: benchToken, pid: p.cmd.Process.Pid})
	}

	client := newClient(slices.Max(cfg.levels))
	msgs := newMessages()
	var results []*result
	for _, c := range cfg.levels {
		for _, t := range targets {
			if cfg.warmup > 0 && ctx.Err() == nil {
				w := load(ctx, client, msgs, t, c, cfg.warmup)
				if w.Errors > 0 {
					b.logf("warm-up c=%d %s: %d errors, first: %s", c, t.name, w.Errors, w.FirstError)
				}
			}
		}
		level := make([]*result, len(targets))
		for round := range cfg.rounds {
			// The block's share of --count; the first blocks take the
			// remainder.
			n := cfg.count / cfg.rounds
			if round < cfg.count%cfg.rounds {
				n++
			}
			for i := range targets {
				if round%2 == 1 {
					i = len(targets) - 1 - i // ABBA: neither server always goes first
				}
				t := targets[i]
				if ctx.Err() != nil {
					break
				}
				commitsBefore, _ := base.commits()
				cpuBefore, cpuKnown := processCPU(t.pid)
				r := load(ctx, client, msgs, t, c, n)
				if cpuAfter, ok := processCPU(t.pid); ok && cpuKnown && t.pid != 0 {
					r.CPU = cpuAfter - cpuBefore
				}
				if t.name == "baseline" {
					if commitsAfter, err := base.commits(); err == nil {
						r.Commits = commitsAfter - commitsBefore
					}
				}
				level[i] = level[i].add(r)
			}
		}
		for _, r := range level {
			if r == nil {
				continue
			}
			// Blocks skipped after an interrupt still count as wanted, so
			// a cut-short level never looks complete.
			r.Wanted = cfg.count
			b.logf("c=%-4d %-8s %8.0f req/s  p50 %-8s p99 %-8s errors %d", c, r.Server, r.Throughput(),
				fmtDur(r.Percentile(50)), fmtDur(r.Percentile(99)), r.Errors)
			if r.FirstError != "" {
				b.logf("c=%d %s: first error: %s", c, r.Server, r.FirstError)
			}
			results = append(results, r)
		}
	}
	if cfg.cpuprofile != "" && ctx.Err() == nil {
		c := slices.Max(cfg.levels)
		b.logf("profiling the hotline for %ds under untimed load at concurrency %d", cfg.profileSecs, c)
		if n, err := profileHotline(ctx, client, msgs, targets[len(targets)-1], c, internalURL, cfg.profileSecs, cfg.cpuprofile); err != nil {
			b.logf("--cpuprofile: %v", err)
		} else {
			b.logf("wrote %s (%d webhooks answered 200 meanwhile): go tool pprof -top %s", cfg.cpuprofile, n, cfg.cpuprofile)
		}
	}
	client.CloseIdleConnections()

	rep := newReport(cfg, results, len(targets) > 1)
	rep.printTable(b.table)
	if cfg.json {
		if err := rep.writeJSON(b.stdout); err != nil {
			b.logf("%v", err)
			return 1
		}
	}
	if ctx.Err() != nil {
		return 1
	}
	if cfg.strict && !rep.allPass() {
		return 1
	}
	return 0
}
