package intake

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// Reasons a webhook is refused. They are the values of the "reason" label
// of hotline_webhooks_rejected_total: a fixed set, never request content.
const (
	ReasonSignatureMissing = "signature_missing" // 403: X-Twilio-Signature absent or not 28 base64 characters
	ReasonSignatureInvalid = "signature_invalid" // 403: not Twilio's signature for the public URL
	ReasonTooLarge         = "too_large"         // 413: body over MaxBodyBytes
	ReasonTooManyFields    = "too_many_fields"   // 400: more than MaxFormFields parameters
	ReasonMalformed        = "malformed"         // 400: not a form, or a repeated parameter
	ReasonWrongAccount     = "wrong_account"     // 403: AccountSid is not the configured account
	ReasonWrongNumber      = "wrong_number"      // 403: To is not one of the hotline's numbers
	ReasonBadSID           = "bad_sid"           // 400: MessageSid or CallSid not shaped like Twilio's
	ReasonBadField         = "bad_field"         // 400: a required field missing, too long or unknown
	ReasonGone             = "gone"              // 503: the client left or timed out while a large body waited its turn
)

var allReasons = []string{
	ReasonSignatureMissing, ReasonSignatureInvalid, ReasonTooLarge, ReasonTooManyFields,
	ReasonMalformed, ReasonWrongAccount, ReasonWrongNumber, ReasonBadSID, ReasonBadField, ReasonGone,
}

// rejection is why a webhook was refused: an HTTP status, a reason from
// the fixed set, and a problem that names a field but never its value, so
// it is safe in the answer and in the log.
type rejection struct {
	status  int
	reason  string
	problem string
}

var (
	errSignatureMissing = &rejection{http.StatusForbidden, ReasonSignatureMissing, "missing or malformed X-Twilio-Signature"}
	errSignatureInvalid = &rejection{http.StatusForbidden, ReasonSignatureInvalid, "invalid X-Twilio-Signature"}
	errTooLarge         = &rejection{http.StatusRequestEntityTooLarge, ReasonTooLarge, "request body too large"}
	errTooManyFields    = &rejection{http.StatusBadRequest, ReasonTooManyFields, "more form fields than Twilio sends"}
	errMalformed        = &rejection{http.StatusBadRequest, ReasonMalformed, "malformed form body"}
	errRepeated         = &rejection{http.StatusBadRequest, ReasonMalformed, "a form field is repeated"}
	errWrongAccount     = &rejection{http.StatusForbidden, ReasonWrongAccount, "AccountSid is not this hotline's Twilio account"}
	errWrongNumber      = &rejection{http.StatusForbidden, ReasonWrongNumber, "To is not one of this hotline's numbers"}
	errGone             = &rejection{http.StatusServiceUnavailable, ReasonGone, "the request ended while its large body waited its turn"}
)

// badField is a 400 naming a missing or bad field (never its value).
func badField(field, problem string) *rejection {
	return &rejection{http.StatusBadRequest, ReasonBadField, field + " " + problem}
}

// badSID is a 400 for a SID field that is not shaped like Twilio's.
func badSID(field, want string) *rejection {
	return &rejection{http.StatusBadRequest, ReasonBadSID, field + " is not " + want}
}

// Rejections counts refused webhooks by reason and keeps their log to one
// line per reason per second, each carrying how many like it were not
// logged since the last, so a flood of forged requests cannot fill the
// disk through the log. Every rejection is counted in the metric.
type Rejections struct {
	counter *prometheus.CounterVec
	now     func() time.Time

	mu      sync.Mutex
	windows map[string]*logWindow
}

// logWindow is the log state of one reason.
type logWindow struct {
	logged     time.Time // when the last line was written
	suppressed int       // rejections since then that were not logged
}

// rejectionLogInterval is the least time between two log lines of one reason.
const rejectionLogInterval = time.Second

// NewRejections returns an empty count; now is the clock (nil: time.Now).
func NewRejections(now func() time.Time) *Rejections {
	if now == nil {
		now = time.Now
	}
	r := &Rejections{
		counter: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hotline_webhooks_rejected_total",
			Help: "Webhooks refused before anything was stored, by reason (signature_missing, signature_invalid, too_large, too_many_fields, malformed, wrong_account, wrong_number, bad_sid, bad_field, gone).",
		}, []string{"reason"}),
		now:     now,
		windows: map[string]*logWindow{},
	}
	for _, reason := range allReasons {
		r.counter.WithLabelValues(reason) // shown as 0 before the first
	}
	return r
}

// Describe implements prometheus.Collector.
func (r *Rejections) Describe(ch chan<- *prometheus.Desc) { r.counter.Describe(ch) }

// Collect implements prometheus.Collector.
func (r *Rejections) Collect(ch chan<- prometheus.Metric) { r.counter.Collect(ch) }

// record counts one rejection and writes its log line unless one of the
// same reason was written less than a second ago.
func (r *Rejections) record(log *zerolog.Logger, rej *rejection, checkedURL string) {
	r.counter.WithLabelValues(rej.reason).Inc()
	now := r.now()
	r.mu.Lock()
	w := r.windows[rej.reason]
	if w == nil {
		w = &logWindow{}
		r.windows[rej.reason] = w
	}
	if !w.logged.IsZero() && now.Sub(w.logged) < rejectionLogInterval {
		w.suppressed++
		r.mu.Unlock()
		return
	}
	suppressed := w.suppressed
	w.logged, w.suppressed = now, 0
	r.mu.Unlock()

	ev := log.Warn().Int("status", rej.status).Str("reason", rej.reason).Str("problem", rej.problem)
	if checkedURL != "" {
		ev = ev.Str("checked_url", checkedURL)
	}
	ev.Int("suppressed", suppressed).Msg("webhook rejected")
}
