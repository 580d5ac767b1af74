package dispatch

import (
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// health is what the dispatcher knows about its own ability to alert:
// whether the worker runs, and since when Twilio has been failing.
type health struct {
	mu           sync.Mutex
	running      bool
	since        time.Time // worker start or stop
	workerErr    string    // why the worker cannot work, while it cannot
	workerErrAt  time.Time
	failingSince time.Time // first failure of the current run of failures
	lastFailure  string    // safe text: status and code, never numbers
	lastAlarmLog time.Time
}

func (h *health) setRunning(on bool, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.running, h.since = on, now
}

func (h *health) workerFailed(now time.Time, why string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.workerErr == "" {
		h.workerErrAt = now
	}
	h.workerErr = why
}

func (h *health) workerOK() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.workerErr = ""
}

func (h *health) twilioFailed(now time.Time, why string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failingSince.IsZero() {
		h.failingSince = now
	}
	h.lastFailure = why
}

func (h *health) twilioOK() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failingSince, h.lastFailure = time.Time{}, ""
}

// HealthReport is the dispatcher's view of whether alerts can go out.
type HealthReport struct {
	// WorkerRunning is false before Run starts and after it ends.
	WorkerRunning bool
	// WorkerError says why the running worker cannot work (a failed
	// recovery at start), empty when it can.
	WorkerError string
	// TwilioFailingFor is how long every send has failed with a
	// retryable error (zero when the last send succeeded).
	TwilioFailingFor time.Duration
	// LastFailure is the last such error (status and code only).
	LastFailure string
}

// Health reports whether alerts can go out. /readyz calls it.
func (d *Dispatcher) Health() HealthReport {
	now := d.st.Now()
	h := &d.health
	h.mu.Lock()
	defer h.mu.Unlock()
	r := HealthReport{WorkerRunning: h.running, WorkerError: h.workerErr, LastFailure: h.lastFailure}
	if !h.failingSince.IsZero() {
		r.TwilioFailingFor = now.Sub(h.failingSince)
	}
	return r
}

// Ready returns an error, safe to show, when alerts cannot be trusted to
// go out: the worker is not running or cannot work, or Twilio has failed
// for longer than escalation.outage_alarm. A readiness probe calls it.
func (d *Dispatcher) Ready() error {
	r := d.Health()
	switch {
	case !r.WorkerRunning:
		return fmt.Errorf("alert worker is not running")
	case r.WorkerError != "":
		return fmt.Errorf("alert worker cannot work: %s", r.WorkerError)
	case r.TwilioFailingFor > d.cfg.Escalation.OutageAlarm.Duration:
		return fmt.Errorf("Twilio has failed every send for %s (last: %s); alerts are queued and retried", r.TwilioFailingFor.Round(time.Second), r.LastFailure)
	}
	return nil
}

// alarm logs an error at most once a minute while Ready fails.
func (d *Dispatcher) alarm(now time.Time) {
	err := d.Ready()
	if err == nil {
		return
	}
	h := &d.health
	h.mu.Lock()
	due := h.lastAlarmLog.IsZero() || now.Sub(h.lastAlarmLog) >= time.Minute
	if due {
		h.lastAlarmLog = now
	}
	h.mu.Unlock()
	if due {
		d.log.Error().Str("problem", err.Error()).Msg("ALERTS ARE NOT GOING OUT")
	}
}

var (
	descReady = prometheus.NewDesc("hotline_alerting_ready",
		"1 when alerts can go out; 0 when the alert worker is stopped or Twilio has failed longer than escalation.outage_alarm.", nil, nil)
	descFailing = prometheus.NewDesc("hotline_twilio_failing_seconds",
		"How long every send to Twilio has failed (0 when the last send succeeded).", nil, nil)
)

// Describe implements prometheus.Collector.
func (d *Dispatcher) Describe(ch chan<- *prometheus.Desc) {
	ch <- descReady
	ch <- descFailing
}

// Collect implements prometheus.Collector: register the Dispatcher to
// export hotline_alerting_ready and hotline_twilio_failing_seconds.
func (d *Dispatcher) Collect(ch chan<- prometheus.Metric) {
	ready := 1.0
	if d.Ready() != nil {
		ready = 0
	}
	ch <- prometheus.MustNewConstMetric(descReady, prometheus.GaugeValue, ready)
	ch <- prometheus.MustNewConstMetric(descFailing, prometheus.GaugeValue, d.Health().TwilioFailingFor.Seconds())
}
