package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hotline-az/hotline/config"
	"github.com/hotline-az/hotline/twiliotest"
)

// phase is one stretch of the run: the tip stream, and maybe a flood.
type phase struct {
	name    string
	fields  int // fields of the forged form; 0: no flood
	clients int
	// decoy sends the flood to a server of the flood's own process
	// instead of the hotline: what the flood costs the machine, not the
	// hotline, as a control.
	decoy bool
}

// result is what one phase measured.
type result struct {
	name          string
	fields        int
	tips          []time.Duration // latency of each tip answered 200
	tipErrors     int             // tips not answered 200 (or not at all)
	forgedSent    int64
	forgedAnswers map[int]int64 // by HTTP status; 0 for transport errors
	floodErr      error
	elapsed       time.Duration
	serverCPU     time.Duration // CPU time the server used in the phase
	maxRSS        int64
}

// add pools another round of the same phase into r.
func (r *result) add(o result) {
	r.name, r.fields = o.name, o.fields
	r.tips = append(r.tips, o.tips...)
	r.tipErrors += o.tipErrors
	r.forgedSent += o.forgedSent
	if r.forgedAnswers == nil {
		r.forgedAnswers = map[int]int64{}
	}
	for s, n := range o.forgedAnswers {
		r.forgedAnswers[s] += n
	}
	if o.floodErr != nil {
		r.floodErr = o.floodErr
	}
	r.elapsed += o.elapsed
	r.serverCPU += o.serverCPU
	r.maxRSS = max(r.maxRSS, o.maxRSS)
}

// forgedForm is a body of n empty fields padded to about size bytes, as
// an attacker without the auth token would post.
func forgedForm(n, size int) []byte {
	var b bytes.Buffer
	pad := max(0, size/n-len("ffff=&"))
	for i := range n {
		if i > 0 {
			b.WriteByte('&')
		}
		fmt.Fprintf(&b, "%x=%s", i, strings.Repeat("x", pad))
	}
	return b.Bytes()
}

// runPhase runs the tip stream for o.phase, with p's flood if it has one,
// sampling the server's memory as it goes.
func runPhase(ctx context.Context, srv *server, p phase, o options) result {
	ctx, cancel := context.WithTimeout(ctx, o.phase)
	defer cancel()
	res := result{name: p.name, fields: p.fields, forgedAnswers: map[int]int64{}}
	start := time.Now()

	var wg sync.WaitGroup
	var rssMax atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			if r := srv.rss(); r > rssMax.Load() {
				rssMax.Store(r)
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()

	var flood *exec.Cmd
	var floodOut bytes.Buffer
	if p.fields > 0 {
		// The forging clients run in their own process, so that they do not
		// share a Go scheduler with the tip stream whose latency is measured.
		self, err := os.Executable()
		if err != nil {
			res.floodErr = err
		} else {
			target := srv.baseURL + "/twilio/sms"
			if p.decoy {
				target = "decoy"
			}
			flood = exec.Command(self, "--flood-child", target,
				"--clients", strconv.Itoa(p.clients), "--fields", strconv.Itoa(res.fields), "--phase", o.phase.String())
			flood.Env = append(os.Environ(), "GOMAXPROCS="+strconv.Itoa(o.floodProcs))
			if o.floodProcs == 0 {
				flood.Env = os.Environ()
			}
			flood.Stdout = &floodOut
			flood.Stderr = os.Stderr
			flood.SysProcAttr = childProcAttr()
			if err := flood.Start(); err != nil {
				res.floodErr = err
				flood = nil
			}
		}
	}
	cpuStart := srv.cpu()
	res.tips, res.tipErrors = tipStream(ctx, srv.baseURL, o.tipRate)
	res.serverCPU = srv.cpu() - cpuStart
	wg.Wait()
	res.elapsed = time.Since(start)
	res.maxRSS = rssMax.Load()
	if flood != nil {
		if err := flood.Wait(); err != nil {
			res.floodErr = err
		} else if err := json.Unmarshal(floodOut.Bytes(), &res.forgedAnswers); err != nil {
			res.floodErr = fmt.Errorf("reading the flood's counts: %w", err)
		}
		for _, n := range res.forgedAnswers {
			res.forgedSent += n
		}
	}
	return res
}

// runFloodChild is the forging clients' process: clients post the forged
// form to target until the phase ends, then the counts of answers by
// status go to stdout as JSON.
func runFloodChild(target string, clients, fields int, phase time.Duration) int {
	ctx, cancel := context.WithTimeout(context.Background(), phase)
	defer cancel()
	body := forgedForm(fields, 55_000)
	if target == "decoy" {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 1
		}
		decoy := &http.Server{Handler: http.HandlerFunc(refuseLikeHotline)}
		go decoy.Serve(l)
		defer decoy.Close()
		target = "http://" + l.Addr().String() + "/twilio/sms"
	}
	transport := &http.Transport{MaxIdleConnsPerHost: clients + 1}
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second}
	var mu sync.Mutex
	answers := map[int]int64{}
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := map[int]int64{}
			for ctx.Err() == nil {
				status := postForged(ctx, client, target, body)
				if ctx.Err() != nil && status == 0 {
					break // cut off by the end of the phase, not refused
				}
				local[status]++
			}
			mu.Lock()
			for s, n := range local {
				answers[s] += n
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if err := json.NewEncoder(os.Stdout).Encode(answers); err != nil {
		return 1
	}
	return 0
}

// postForged posts one forged form with a well-formed but made-up
// signature, and returns the status (0 if there was no answer).
func postForged(ctx context.Context, client *http.Client, target string, body []byte) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0
	}
	var sig [20]byte
	rand.Read(sig[:])
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", base64.StdEncoding.EncodeToString(sig[:]))
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	return resp.StatusCode
}

// refuseLikeHotline is the decoy's answer: it reads what the hotline
// reads of a forged many-field form (its first chunk) and refuses it the
// same way, so the control phase costs the machine what the flood does.
func refuseLikeHotline(w http.ResponseWriter, r *http.Request) {
	var chunk [4 << 10]byte
	io.ReadFull(r.Body, chunk[:])
	w.Header().Set("Connection", "close")
	http.Error(w, "Bad Request: more form fields than Twilio sends", http.StatusBadRequest)
}

// tipBodies are real-looking tips in the hotline's three languages.
var tipBodies = []string{
	"Salam, müdir pasportumu saxlayıb və maaşımı vermir, nə edək?",
	"Kömək edin, bizi zirzəmidə saxlayırlar",
	"Помогите, у меня забрали паспорт и не отпускают домой",
	"Здравствуйте, мне предложили работу за границей, как проверить?",
	"My employer took my passport and I cannot leave",
	"Is this hotline free to call from abroad?",
}

// tipStream sends rate validly signed tips a second until ctx ends, each
// from its scheduled moment (so a stalled server is charged for the wait,
// not hidden by it), and returns the latency of each 200 and the count of
// the rest.
func tipStream(ctx context.Context, baseURL string, rate int) ([]time.Duration, int) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	var mu sync.Mutex
	var lat []time.Duration
	errs := 0
	var wg sync.WaitGroup
	interval := time.Second / time.Duration(rate)
	next := time.Now()
	for i := 0; ; i++ {
		if d := time.Until(next); d > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(d):
			}
		}
		if ctx.Err() != nil {
			break
		}
		scheduled := next
		next = next.Add(interval)
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok := sendTip(client, baseURL, i)
			d := time.Since(scheduled)
			mu.Lock()
			defer mu.Unlock()
			if ok {
				lat = append(lat, d)
			} else {
				errs++
			}
		}()
	}
	wg.Wait()
	return lat, errs
}

// sendTip posts one validly signed tip and reports whether it got a 200.
// The tip's own context is not the phase's: a tip in flight when the
// phase ends is still waited for and counted.
func sendTip(client *http.Client, baseURL string, i int) bool {
	var raw [16]byte
	rand.Read(raw[:])
	sid := "SM" + hex.EncodeToString(raw[:])
	form := url.Values{
		"MessageSid": {sid}, "SmsSid": {sid}, "SmsMessageSid": {sid},
		"AccountSid": {config.DevAccountSID}, "To": {config.DevPhoneNumber},
		"From": {fmt.Sprintf("+99450%07d", i%40)}, "Body": {tipBodies[i%len(tipBodies)]},
		"NumMedia": {"0"}, "NumSegments": {"1"}, "SmsStatus": {"received"}, "ApiVersion": {"2010-04-01"},
	}
	req, err := twiliotest.NewSignedRequest(devToken, baseURL+"/twilio/sms", baseURL+"/twilio/sms", form)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// percentile is the p-th percentile (0-100) of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p / 100)
	return sorted[i]
}

// report prints the table and the targets, and returns the exit status.
func report(w io.Writer, results []result, peakRSS int64) int {
	fmt.Fprintf(w, "\n%-11s %6s %6s %9s %9s %9s %9s %7s %7s %9s  %-22s %10s %10s %8s\n",
		"phase", "fields", "tips", "tip p50", "tip p90", "tip p99", "tip max", "p50 x", "p99 x", "forged/s", "forged answers", "server CPU", "per forged", "max RSS")
	var base result
	failed := false
	for i, r := range results {
		slices.Sort(r.tips)
		if i == 0 {
			base = r
		}
		p50, p99 := percentile(r.tips, 50), percentile(r.tips, 99)
		answers := []string{}
		for _, s := range slices.Sorted(maps.Keys(r.forgedAnswers)) {
			answers = append(answers, fmt.Sprintf("%d:%d", s, r.forgedAnswers[s]))
		}
		fields := "-"
		if r.fields > 0 {
			fields = fmt.Sprint(r.fields)
		}
		// The server's CPU per forged request: what the phase used beyond
		// the baseline's rate for the same tips, over the forged requests.
		perForged := "-"
		if r.forgedSent > 0 {
			extra := r.serverCPU.Seconds() - base.serverCPU.Seconds()*r.elapsed.Seconds()/base.elapsed.Seconds()
			perForged = fmt.Sprintf("%.0fµs", max(0, extra)/float64(r.forgedSent)*1e6)
		}
		fmt.Fprintf(w, "%-11s %6s %6d %9s %9s %9s %9s %7.2f %7.2f %9.0f  %-22s %9.0f%% %10s %5.0f MB\n",
			r.name, fields, len(r.tips), ms(p50), ms(percentile(r.tips, 90)), ms(p99), ms(percentile(r.tips, 100)),
			ratio(p50, percentile(base.tips, 50)), ratio(p99, percentile(base.tips, 99)),
			float64(r.forgedSent)/r.elapsed.Seconds(), strings.Join(answers, " "),
			100*r.serverCPU.Seconds()/r.elapsed.Seconds(), perForged, float64(r.maxRSS)/(1<<20))
		if r.floodErr != nil {
			fmt.Fprintf(w, "  %s: the flood failed: %v\n", r.name, r.floodErr)
			failed = true
		}
		if p99 >= targetP99 || r.tipErrors > 0 || len(r.tips) == 0 {
			failed = true
		}
		if r.tipErrors > 0 {
			fmt.Fprintf(w, "  %s: %d real tips not answered 200\n", r.name, r.tipErrors)
		}
	}
	fmt.Fprintf(w, "\nserver peak RSS (VmHWM) over the run: %.0f MB\n", float64(peakRSS)/(1<<20))
	if n := len(base.tips); n > 0 {
		fmt.Fprintf(w, "server CPU per real tip in the baseline: %.0fµs\n", base.serverCPU.Seconds()/float64(n)*1e6)
	}
	check := func(ok bool, what string) {
		verdict := "ok  "
		if !ok {
			verdict, failed = "FAIL", true
		}
		fmt.Fprintf(w, "%s %s\n", verdict, what)
	}
	worst := time.Duration(0)
	for _, r := range results {
		worst = max(worst, percentile(r.tips, 99))
	}
	check(worst < targetP99, fmt.Sprintf("tip p99 under %s in every phase (worst %s)", targetP99, ms(worst)))
	check(peakRSS > 0 && peakRSS < targetRSS, fmt.Sprintf("server RSS under %d MB (peak %.0f MB)", targetRSS>>20, float64(peakRSS)/(1<<20)))
	if failed {
		return 1
	}
	return 0
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }

func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
