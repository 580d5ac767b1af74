package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"
)

// Targets.
const (
	targetThroughputLevel = 64
	targetThroughputRatio = 0.6 // hotline/baseline at least
	targetP50Level        = 1
	targetP50Ratio        = 1.5 // hotline/baseline at most
	targetP99             = 50 * time.Millisecond
)

// figures are one server's numbers at one level, as printed and as JSON.
type figures struct {
	RequestsPerSec float64 `json:"requests_per_sec"`
	P50ms          float64 `json:"p50_ms"`
	P99ms          float64 `json:"p99_ms"`
	MaxMs          float64 `json:"max_ms"`
	Requests       int     `json:"requests"`
	Wanted         int     `json:"wanted"`
	Errors         int     `json:"errors"`
	FirstError     string  `json:"first_error,omitempty"`
	Commits        int64   `json:"commits,omitempty"` // baseline only: bbolt transactions
	// CPUPerReqUs is the server process's CPU time (user and system, from
	// /proc, 10 ms resolution) per answered request, when it was measured.
	CPUPerReqUs float64 `json:"cpu_us_per_request,omitempty"`

	res *result
}

type level struct {
	Concurrency int      `json:"concurrency"`
	Baseline    *figures `json:"baseline,omitempty"`
	Hotline     *figures `json:"hotline,omitempty"`
	// Hotline over baseline, when both ran.
	ThroughputRatio *float64 `json:"throughput_ratio,omitempty"`
	P50Ratio        *float64 `json:"p50_ratio,omitempty"`
	CPURatio        *float64 `json:"cpu_per_request_ratio,omitempty"`
}

// check is one target: PASS, FAIL or SKIP (could not be measured).
type check struct {
	Name   string `json:"name"`
	Result string `json:"result"`
	Detail string `json:"detail"`
}

type report struct {
	Count   int     `json:"count"`
	Warmup  int     `json:"warmup"`
	Levels  []level `json:"levels"`
	Targets []check `json:"targets"`
}

func newReport(cfg *config, results []*result, withHotline bool) *report {
	rep := &report{Count: cfg.count, Warmup: cfg.warmup}
	for _, c := range cfg.levels {
		l := level{Concurrency: c}
		for _, r := range results {
			if r.Concurrency != c {
				continue
			}
			f := newFigures(r)
			switch r.Server {
			case "baseline":
				l.Baseline = f
			case "hotline":
				l.Hotline = f
			}
		}
		if l.Baseline == nil && l.Hotline == nil {
			continue // not reached before the timeout
		}
		if l.Baseline != nil && l.Hotline != nil {
			if l.Baseline.RequestsPerSec > 0 {
				v := l.Hotline.RequestsPerSec / l.Baseline.RequestsPerSec
				l.ThroughputRatio = &v
			}
			if l.Baseline.P50ms > 0 {
				v := l.Hotline.P50ms / l.Baseline.P50ms
				l.P50Ratio = &v
			}
			if l.Baseline.CPUPerReqUs > 0 && l.Hotline.CPUPerReqUs > 0 {
				v := l.Hotline.CPUPerReqUs / l.Baseline.CPUPerReqUs
				l.CPURatio = &v
			}
		}
		rep.Levels = append(rep.Levels, l)
	}
	rep.Targets = rep.checks(cfg, withHotline)
	return rep
}

func newFigures(r *result) *figures {
	f := &figures{
		RequestsPerSec: r.Throughput(),
		P50ms:          ms(r.Percentile(50)),
		P99ms:          ms(r.Percentile(99)),
		MaxMs:          ms(r.Percentile(100)),
		Requests:       r.Requests,
		Wanted:         r.Wanted,
		Errors:         r.Errors,
		FirstError:     r.FirstError,
		Commits:        r.Commits,
		res:            r,
	}
	if r.CPU > 0 && r.Requests > 0 {
		f.CPUPerReqUs = float64(r.CPU) / float64(time.Microsecond) / float64(r.Requests)
	}
	return f
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func (rep *report) level(c int) *level {
	for i := range rep.Levels {
		if rep.Levels[i].Concurrency == c {
			return &rep.Levels[i]
		}
	}
	return nil
}

func (rep *report) checks(cfg *config, withHotline bool) []check {
	var out []check
	add := func(name string, pass bool, detail string) {
		res := "FAIL"
		if pass {
			res = "PASS"
		}
		out = append(out, check{Name: name, Result: res, Detail: detail})
	}
	skip := func(name, why string) { out = append(out, check{Name: name, Result: "SKIP", Detail: why}) }

	name := fmt.Sprintf("throughput at concurrency %d: hotline >= %.1fx baseline", targetThroughputLevel, targetThroughputRatio)
	switch l := rep.level(targetThroughputLevel); {
	case !withHotline:
		skip(name, "no hotline")
	case l == nil || l.ThroughputRatio == nil:
		skip(name, fmt.Sprintf("level %d not run (see --concurrency)", targetThroughputLevel))
	default:
		add(name, *l.ThroughputRatio >= targetThroughputRatio, fmt.Sprintf("%.2fx (%.0f vs %.0f req/s)",
			*l.ThroughputRatio, l.Hotline.RequestsPerSec, l.Baseline.RequestsPerSec))
	}

	name = fmt.Sprintf("p50 at concurrency %d: hotline <= %.1fx baseline", targetP50Level, targetP50Ratio)
	switch l := rep.level(targetP50Level); {
	case !withHotline:
		skip(name, "no hotline")
	case l == nil || l.P50Ratio == nil:
		skip(name, fmt.Sprintf("level %d not run (see --concurrency)", targetP50Level))
	default:
		add(name, *l.P50Ratio <= targetP50Ratio, fmt.Sprintf("%.2fx (%s vs %s)",
			*l.P50Ratio, fmtMs(l.Hotline.P50ms), fmtMs(l.Baseline.P50ms)))
	}

	for _, server := range []string{"hotline", "baseline"} {
		if server == "hotline" && !withHotline {
			continue
		}
		var worst *figures
		worstLevel := 0
		for _, l := range rep.Levels {
			f := l.Hotline
			if server == "baseline" {
				f = l.Baseline
			}
			if f != nil && f.Requests > 0 && (worst == nil || f.P99ms > worst.P99ms) {
				worst, worstLevel = f, l.Concurrency
			}
		}
		name := fmt.Sprintf("p99 < %s at every level: %s", fmtDur(targetP99), server)
		if worst == nil {
			skip(name, "not run")
			continue
		}
		add(name, worst.P99ms < ms(targetP99), fmt.Sprintf("worst %s at concurrency %d", fmtMs(worst.P99ms), worstLevel))
	}

	if withHotline {
		errs, firstAt, first, answered := 0, 0, "", 0
		for _, l := range rep.Levels {
			if l.Hotline != nil {
				answered += l.Hotline.Requests
				errs += l.Hotline.Errors
				if first == "" && l.Hotline.FirstError != "" {
					firstAt, first = l.Concurrency, l.Hotline.FirstError
				}
			}
		}
		detail := "0 non-200 answers"
		if errs > 0 {
			detail = fmt.Sprintf("%d non-200 answers; first at concurrency %d: %s", errs, firstAt, first)
		}
		if answered == 0 {
			skip("no hotline errors", "not run")
		} else {
			add("no hotline errors", errs == 0, detail)
		}
	}

	complete, missing := true, ""
	for _, l := range rep.Levels {
		for _, f := range []*figures{l.Baseline, l.Hotline} {
			if f != nil && f.Requests != f.Wanted {
				complete = false
				missing += fmt.Sprintf(" c=%d %s %d/%d;", l.Concurrency, f.res.Server, f.Requests, f.Wanted)
			}
		}
	}
	if n := len(rep.Levels); n < len(cfg.levels) {
		complete = false
		missing += fmt.Sprintf(" %d of %d levels not reached;", len(cfg.levels)-n, len(cfg.levels))
	}
	if !complete {
		add("every run complete", false, "stopped early:"+missing)
	}
	return out
}

func (rep *report) allPass() bool {
	for _, c := range rep.Targets {
		if c.Result == "FAIL" {
			return false
		}
	}
	return true
}

func (rep *report) printTable(w io.Writer) {
	fmt.Fprintf(w, "\n%d timed requests per level and server (after %d warm-up)\n\n", rep.Count, rep.Warmup)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "level\tserver\treq/s\tp50\tp99\terrors\treqs/commit\tcpu/req\t")
	for _, l := range rep.Levels {
		for _, f := range []*figures{l.Baseline, l.Hotline} {
			if f == nil {
				continue
			}
			perCommit, p50, p99, cpu := "-", "-", "-", "-"
			if f.CPUPerReqUs > 0 {
				cpu = fmt.Sprintf("%.0fµs", f.CPUPerReqUs)
			}
			if f.Requests > 0 {
				p50, p99 = fmtMs(f.P50ms), fmtMs(f.P99ms)
			}
			if f.Commits > 0 {
				perCommit = strconv.FormatFloat(float64(f.Requests)/float64(f.Commits), 'f', 1, 64)
			}
			incomplete := ""
			if f.Requests != f.Wanted {
				incomplete = fmt.Sprintf(" (%d/%d)", f.Requests, f.Wanted)
			}
			fmt.Fprintf(tw, "%d\t%s\t%.0f%s\t%s\t%s\t%d\t%s\t%s\t\n", l.Concurrency, f.res.Server, f.RequestsPerSec, incomplete,
				p50, p99, f.Errors, perCommit, cpu)
		}
		if l.ThroughputRatio != nil && l.P50Ratio != nil {
			cpu := ""
			if l.CPURatio != nil {
				cpu = fmt.Sprintf("%.2fx", *l.CPURatio)
			}
			fmt.Fprintf(tw, "%d\thotline/baseline\t%.2fx\t%.2fx\t\t\t\t%s\t\n", l.Concurrency, *l.ThroughputRatio, *l.P50Ratio, cpu)
		}
	}
	tw.Flush()
	fmt.Fprintln(w)
	for _, c := range rep.Targets {
		fmt.Fprintf(w, "%s  %s: %s\n", c.Result, c.Name, c.Detail)
	}
}

func (rep *report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

func fmtMs(v float64) string { return fmtDur(time.Duration(v * float64(time.Millisecond))) }

// fmtDur prints a latency in milliseconds with enough digits to compare.
func fmtDur(d time.Duration) string {
	v := ms(d)
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0fms", v)
	case v >= 10:
		return fmt.Sprintf("%.1fms", v)
	default:
		return fmt.Sprintf("%.2fms", v)
	}
}
