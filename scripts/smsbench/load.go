package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hotline-az/hotline/twiliotest"
)

// target is a server under test.
type target struct {
	name    string // "baseline" or "hotline"
	url     string // where to POST
	signURL string // the public URL it validates signatures against
	token   string
	pid     int // the server's process, when it has one of its own (0: unknown)
}

// reporter is a fake sender. Numbers are in fictional or unallocated ranges
// (Ofcom's 07700 900xxx drama range for the UK ones).
type reporter struct {
	from string
	lang string
}

var reporters = []reporter{
	{"+994501234567", "az"},
	{"+994551112233", "az"},
	{"+994707654321", "az"},
	{"+79990001122", "ru"},
	{"+79990003344", "ru"},
	{"+447700900123", "en"},
	{"+447700900456", "en"},
}

// texts are tips as a reporter might write them, by language. Each is cut or
// padded to exactly bodyRunes runes.
var texts = map[string][]string{
	"az": {
		"Salam, bacım Dubayda işləyir, pasportunu əlindən alıblar, maaş vermirlər və evə zəng etməyə qoymurlar. Xahiş edirəm kömək edin, onun nömrəsini göndərə bilərəm, təcili.",
		"Qonşumuzun evində 3 qadın saxlanılır, heç vaxt bayıra çıxmırlar. Dünən gecə qışqırıq eşitdim. Ünvan Sumqayıt, 9-cu mikrorayon. Polisə getməyə qorxuram, nə etməliyəm?",
		"Mənə Türkiyədə otelde iş təklif etdilər, bilet pulsuzdur dedilər, amma müqavilə vermirlər və pasportu əvvəlcədən istəyirlər. Bu normaldırmı? Sabah getməliyəm, cavab verin.",
	},
	"ru": {
		"Здравствуйте, мой брат работает на стройке в Москве, у него забрали паспорт, не платят уже три месяца и не выпускают с объекта. Он боится звонить. Помогите, что делать?",
		"Девушке из нашего села обещали работу официанткой в Стамбуле, теперь она пишет что её заперли и заставляют работать. Она прислала адрес. Пожалуйста, ответьте срочно.",
		"Мне предлагают работу за границей через агентство, просят оплатить визу и отдать паспорт на месяц. Договор не показывают. Это законно? Не хочу попасть в беду.",
	},
	"en": {
		"Hello, I am a domestic worker in Baku. My employer took my passport when I arrived and I have not been paid for four months. I am not allowed to leave the house alone.",
		"There are children begging at the metro every day, the same man drops them off in the morning and takes the money in the evening. Station 28 May. Please someone check it.",
		"A recruiter on Instagram offered my cousin a modelling job in Dubai, flights paid, but wants her passport scan and says not to tell her family. Is this trafficking? Help.",
	},
}

const bodyRunes = 160

// messages makes the webhook forms the benchmark sends: distinct
// MessageSids, a handful of reporters so cases thread, 160-character bodies.
type messages struct {
	prefix string // random per run, so two runs never collide
	n      atomic.Uint64
	bodies map[string][]string
}

func newMessages() *messages {
	var b [8]byte
	rand.Read(b[:])
	m := &messages{prefix: hex.EncodeToString(b[:]), bodies: map[string][]string{}}
	for lang, ts := range texts {
		for _, t := range ts {
			m.bodies[lang] = append(m.bodies[lang], fitRunes(t, bodyRunes))
		}
	}
	return m
}

// next returns the next form: SM + 16 random hex digits + 16-digit counter.
func (m *messages) next() url.Values {
	i := m.n.Add(1)
	sid := fmt.Sprintf("SM%s%016x", m.prefix, i)
	r := reporters[i%uint64(len(reporters))]
	bodies := m.bodies[r.lang]
	body := bodies[(i/uint64(len(reporters)))%uint64(len(bodies))]
	return url.Values{
		"MessageSid":    {sid},
		"SmsSid":        {sid},
		"SmsMessageSid": {sid},
		"AccountSid":    {"AC00000000000000000000000000000000"},
		"From":          {r.from},
		"To":            {"+15017122661"},
		"Body":          {body},
		"NumMedia":      {"0"},
		"NumSegments":   {strconv.Itoa(segments(body))},
		"SmsStatus":     {"received"},
		"ApiVersion":    {"2010-04-01"},
	}
}

// fitRunes cuts s to n runes, or pads it with " ." to n.
func fitRunes(s string, n int) string {
	r := []rune(s)
	for len(r) < n {
		r = append(r, []rune(" .")...)
	}
	return string(r[:n])
}

// segments is NumSegments for the bench's bodies: 160 ASCII characters fit
// one GSM-7 part; anything else goes as UCS-2, 67 characters a part.
// (scripts/twilio-sim has the full GSM-7 rule.)
func segments(body string) int {
	n, ascii := 0, true
	for _, r := range body {
		n++
		if r > 0x7e {
			ascii = false
		}
	}
	if ascii && n <= 160 || !ascii && n <= 70 {
		return 1
	}
	return (n + 66) / 67
}

// newClient returns the one HTTP client all requests share: keep-alive
// connections enough for every worker, and a dialer that refuses anything
// but loopback, so the benchmark cannot flood a real server.
func newClient(maxConcurrency int) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := dialer.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			if ap, ok := conn.RemoteAddr().(*net.TCPAddr); !ok || !ap.IP.IsLoopback() {
				conn.Close()
				return nil, fmt.Errorf("refusing to connect to %s: smsbench talks to loopback only", addr)
			}
			return conn, nil
		},
		MaxIdleConns:        2 * maxConcurrency,
		MaxIdleConnsPerHost: maxConcurrency,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// result is what one run of requests against one server measured.
type result struct {
	Concurrency int
	Server      string
	Requests    int // answered, whatever the status
	Wanted      int
	Errors      int // non-200 answers and failed requests
	FirstError  string
	Elapsed     time.Duration
	Latencies   []time.Duration // sorted
	Commits     int64           // baseline only: bbolt transactions
	CPU         time.Duration   // the server process's CPU time meanwhile (0: unknown)
}

func (r *result) Throughput() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// Percentile is the nearest-rank percentile p (0 < p <= 100) of the
// latencies.
func (r *result) Percentile(p float64) time.Duration {
	n := len(r.Latencies)
	if n == 0 {
		return 0
	}
	rank := int(p/100*float64(n) + 0.999999)
	return r.Latencies[min(max(rank, 1), n)-1]
}

// add merges the block o into r (nil starts a new result): the blocks of
// one level and server, run at different times, count as one run.
func (r *result) add(o *result) *result {
	if r == nil {
		return o
	}
	r.Requests += o.Requests
	r.Wanted += o.Wanted
	r.Errors += o.Errors
	if r.FirstError == "" {
		r.FirstError = o.FirstError
	}
	r.Elapsed += o.Elapsed
	r.Latencies = append(r.Latencies, o.Latencies...)
	slices.Sort(r.Latencies)
	r.Commits += o.Commits
	if r.CPU == 0 || o.CPU == 0 {
		r.CPU = 0 // one block unknown: the whole is unknown, not too low
	} else {
		r.CPU += o.CPU
	}
	return r
}

// Complete reports whether every wanted request was answered.
func (r *result) Complete() bool { return r.Requests == r.Wanted }

// load sends n signed webhooks to t from c workers and measures them. It
// stops early when ctx is done.
func load(ctx context.Context, client *http.Client, msgs *messages, t target, c, n int) *result {
	res := &result{Concurrency: c, Server: t.name, Wanted: n}
	var (
		next      atomic.Int64
		mu        sync.Mutex
		wg        sync.WaitGroup
		perWorker = make([][]time.Duration, c)
	)
	start := time.Now()
	for w := range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, n/c+1)
			defer func() { perWorker[w] = lat }()
			for next.Add(1) <= int64(n) && ctx.Err() == nil {
				req, err := twiliotest.NewSignedRequest(t.token, t.url, t.signURL, msgs.next())
				if err != nil {
					panic(err) // the URL was checked at start
				}
				t0 := time.Now()
				status, body, err := send(ctx, client, req)
				d := time.Since(t0)
				if err != nil && ctx.Err() != nil {
					return // cut short by the deadline or an interrupt: not an answer
				}
				lat = append(lat, d)
				if err != nil || status != http.StatusOK {
					mu.Lock()
					res.Errors++
					if res.FirstError == "" {
						if err != nil {
							res.FirstError = err.Error()
						} else {
							res.FirstError = fmt.Sprintf("HTTP %d: %s", status, strings.TrimSpace(body))
						}
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	for _, l := range perWorker {
		res.Latencies = append(res.Latencies, l...)
	}
	slices.Sort(res.Latencies)
	res.Requests = len(res.Latencies)
	return res
}

// send posts req and returns the status, and the start of the body when the
// status is not 200.
func send(ctx context.Context, client *http.Client, req *http.Request) (int, string, error) {
	resp, err := client.Do(req.WithContext(ctx))
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		_, err = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, "", err
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(b), nil
}

// errLoopbackOnly is returned for an --addr that is not on this machine.
var errLoopbackOnly = errors.New("smsbench benchmarks servers on loopback only (127.0.0.1, ::1, localhost)")

// checkLoopback accepts host:port whose host is a loopback address or
// "localhost".
func checkLoopback(hostport string) error {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return err
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("bad port %q", port)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return errLoopbackOnly
}
