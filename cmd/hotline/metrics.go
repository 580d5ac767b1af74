package main

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hotline-az/hotline/store"
)

// metrics are counts only: requests by route and status, and what the
// store holds by state. No label ever carries a number, a text or an id.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(st *store.Store, now func() time.Time) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hotline_http_requests_total", Help: "HTTP requests by route template and status.",
		}, []string{"route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "hotline_http_request_duration_seconds", Help: "HTTP request latency by route template.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5},
		}, []string{"route"}),
	}
	m.registry.MustRegister(m.requests, m.duration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&storeCollector{st: st, now: now, maxAge: storeCountsMaxAge}, &diskCollector{st: st})
	return m
}

func (m *metrics) observe(route string, status int, d time.Duration) {
	m.count(route, status)
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

// count counts a request without timing it.
func (m *metrics) count(route string, status int) {
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// storeCountsMaxAge is how old the counts read from the data file may be.
// Counting reads every case and message record (about 4 µs of CPU per tip,
// so 0.4 s at 100,000 tips, in one read transaction that also holds up the
// growth of the file; BenchmarkStoreCount), so scrapes within a minute reuse
// the last count instead of repeating it.
const storeCountsMaxAge = time.Minute

// storeCollector reads counts from plaintext metadata, at most once per
// maxAge; the commit counters are always current.
type storeCollector struct {
	st     *store.Store
	now    func() time.Time
	maxAge time.Duration

	mu        sync.Mutex // held while counting: concurrent scrapes share one count
	counted   store.Stats
	countErr  error
	countedAt time.Time
	countTook time.Duration
}

// counts returns the last count of the store's records, counting again
// when it is older than maxAge.
func (c *storeCollector) counts() (store.Stats, time.Duration, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.countedAt.IsZero() || c.now().Sub(c.countedAt) >= c.maxAge {
		start := time.Now()
		c.counted, c.countErr = c.st.Stats()
		c.countTook = time.Since(start)
		c.countedAt = c.now()
	}
	return c.counted, c.countTook, c.countErr
}

var (
	descCases    = prometheus.NewDesc("hotline_cases", "Cases by priority.", []string{"priority"}, nil)
	descOpen     = prometheus.NewDesc("hotline_cases_open", "Cases still open.", nil, nil)
	descMessages = prometheus.NewDesc("hotline_messages", "Messages stored.", nil, nil)
	descAlerts   = prometheus.NewDesc("hotline_alerts", "Alerts by state.", []string{"state"}, nil)
	descOutbox   = prometheus.NewDesc("hotline_outbox_jobs", "Outbox jobs (SMS and calls) by state; watch dead and pending.", []string{"state"}, nil)
	// Media jobs fetch voicemails and blank SMS bodies at Twilio; a
	// recording "queued" is still at Twilio only, "failed" was given up on.
	descMediaJobs  = prometheus.NewDesc("hotline_media_jobs", "Media jobs (voicemail downloads, SMS redactions at Twilio) by state; watch dead and pending.", []string{"state"}, nil)
	descRecordings = prometheus.NewDesc("hotline_recordings", "Voicemail recordings by state: queued (still only at Twilio), stored, verified, failed (given up; the case shows why).", []string{"state"}, nil)
	descCommits    = prometheus.NewDesc("hotline_store_commits_total", "Durable (fsynced) transactions.", nil, nil)
	descWrites     = prometheus.NewDesc("hotline_store_writes_total", "Write requests carried by those transactions (group commit).", nil, nil)
	descCountDur   = prometheus.NewDesc("hotline_store_count_seconds", "How long the last count of cases, messages, alerts and jobs took (it is redone at most once a minute).", nil, nil)
	// A tip whose alert failed to open is stored and answered; the alert
	// worker retries it. Alert on either being above zero.
	descAlertFailures = prometheus.NewDesc("hotline_alert_open_failures_total", "Tips stored whose alert failed to open at once (retried by the alert worker).", nil, nil)
	descAlertsPending = prometheus.NewDesc("hotline_alerts_pending", "Cases whose alert failed to open and is still being retried; should be 0.", nil, nil)
)

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descCases, descOpen, descMessages, descAlerts, descOutbox, descMediaJobs, descRecordings, descCommits, descWrites, descCountDur, descAlertFailures, descAlertsPending} {
		ch <- d
	}
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	commits, writes := c.st.CommitStats()
	ch <- prometheus.MustNewConstMetric(descCommits, prometheus.CounterValue, float64(commits))
	ch <- prometheus.MustNewConstMetric(descWrites, prometheus.CounterValue, float64(writes))
	ch <- prometheus.MustNewConstMetric(descAlertFailures, prometheus.CounterValue, float64(c.st.AlertFailures()))
	if n, err := c.st.AlertsPendingCount(); err == nil {
		ch <- prometheus.MustNewConstMetric(descAlertsPending, prometheus.GaugeValue, float64(n))
	}
	s, took, err := c.counts()
	ch <- prometheus.MustNewConstMetric(descCountDur, prometheus.GaugeValue, took.Seconds())
	if err != nil {
		return
	}
	for p, n := range map[string]int{"P1": s.P1, "P2": s.P2, "P3": s.P3} {
		ch <- prometheus.MustNewConstMetric(descCases, prometheus.GaugeValue, float64(n), p)
	}
	ch <- prometheus.MustNewConstMetric(descOpen, prometheus.GaugeValue, float64(s.OpenCases))
	ch <- prometheus.MustNewConstMetric(descMessages, prometheus.GaugeValue, float64(s.Messages))
	for state, n := range s.Alerts {
		ch <- prometheus.MustNewConstMetric(descAlerts, prometheus.GaugeValue, float64(n), state)
	}
	for state, n := range s.Jobs {
		ch <- prometheus.MustNewConstMetric(descOutbox, prometheus.GaugeValue, float64(n), state)
	}
	for state, n := range s.MediaJobs {
		ch <- prometheus.MustNewConstMetric(descMediaJobs, prometheus.GaugeValue, float64(n), state)
	}
	for state, n := range s.Recordings {
		ch <- prometheus.MustNewConstMetric(descRecordings, prometheus.GaugeValue, float64(n), state)
	}
}
