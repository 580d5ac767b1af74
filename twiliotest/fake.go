package twiliotest

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Credentials NewFakeTwilio uses. twilio-go accepts only alphanumeric SIDs and
// tokens, and the account SID has Twilio's shape.
const (
	FakeAccountSID = "AC00000000000000000000000000000001"
	FakeAuthToken  = "faketoken0123456789"
)

// FakeMessage is a message the fake holds: sent through the API, or put there
// with AddMessage (an inbound tip, for redaction tests).
type FakeMessage struct {
	SID                 string
	To                  string
	From                string
	MessagingServiceSID string
	Body                string
	StatusCallback      string
	ValidityPeriod      string // seconds, as sent (empty if not given)
	Status              string // queued for messages sent through the API
	Direction           string // outbound-api or inbound
	Redacted            bool   // Body was blanked through the API
	DateCreated         time.Time
}

// FakeCall is a call created through the API.
type FakeCall struct {
	SID                  string
	To                   string
	From                 string
	URL                  string // TwiML URL (Url)
	Method               string // method for URL, POST if not given
	FallbackURL          string // FallbackUrl, if given
	Timeout              string // ring seconds, as sent (empty if not given)
	MachineDetection     string // Enable or DetectMessageEnd, if given
	Twiml                string // inline TwiML, if given instead of Url
	StatusCallback       string
	StatusCallbackMethod string
	StatusCallbackEvents []string
	Status               string // queued
	DateCreated          time.Time
}

// FakeTwilio is a stateful fake of the parts of Twilio's 2010-04-01 REST API
// the hotline uses, served over real HTTP on 127.0.0.1. Point a client at
// URL() (twilioapi.Config.APIURL). All methods are safe for concurrent use.
//
// It checks HTTP basic auth and answers as Twilio does: JSON resources shaped
// like Twilio's examples and error bodies {"code","message","more_info",
// "status"}. Twilio's test-credential magic numbers are honoured for To:
// +15005550001 is invalid (21211), +15005550009 cannot receive SMS (21614).
type FakeTwilio struct {
	accountSID string
	authToken  string
	srv        *httptest.Server
	done       chan struct{}
	closeOnce  sync.Once

	mu         sync.Mutex
	messages   []*FakeMessage
	calls      []FakeCall
	recordings map[string][]byte
	deleted    []string
	redactions int
	downloads  int
	// failDownloads makes the next media downloads fail; deleteGate, when
	// set, holds every recording delete (see HoldDeletes).
	failDownloads int
	// truncateDownloads: the next downloads end early, cleanly, with no
	// Content-Length (see TruncateNextDownloads).
	truncateDownloads int
	deleteGate        *deleteGate
	requests          int
	failN             int
	failStatus        int
	failCode          int
	down              bool
	delay             time.Duration
	now               func() time.Time
	drops             map[string]dropRule // by resource: Messages, Calls
}

// dropRule makes the next n creations of a resource lose their answer.
type dropRule struct {
	n      int
	create bool
}

// NewFakeTwilio starts a fake with FakeAccountSID and FakeAuthToken; it is
// closed when the test ends.
func NewFakeTwilio(tb testing.TB) *FakeTwilio {
	tb.Helper()
	f := StartFakeTwilio(FakeAccountSID, FakeAuthToken)
	tb.Cleanup(f.Close)
	return f
}

// StartFakeTwilio starts a fake that accepts the given credentials, for use
// outside tests (a dev server with no Twilio account). Call Close when done.
func StartFakeTwilio(accountSID, authToken string) *FakeTwilio {
	f := &FakeTwilio{
		accountSID: accountSID,
		authToken:  authToken,
		done:       make(chan struct{}),
		recordings: make(map[string][]byte),
		now:        time.Now,
		drops:      make(map[string]dropRule),
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve)) // listens on 127.0.0.1
	return f
}

// URL is the fake's base URL, http://127.0.0.1:PORT.
func (f *FakeTwilio) URL() string { return f.srv.URL }

// AccountSID is the account the fake accepts.
func (f *FakeTwilio) AccountSID() string { return f.accountSID }

// AuthToken is the auth token the fake accepts.
func (f *FakeTwilio) AuthToken() string { return f.authToken }

// Close stops the server, ending any delayed request at once.
func (f *FakeTwilio) Close() {
	f.closeOnce.Do(func() {
		close(f.done)
		f.srv.CloseClientConnections()
		f.srv.Close()
	})
}

// Messages returns a copy of every message, oldest first.
func (f *FakeTwilio) Messages() []FakeMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]FakeMessage, len(f.messages))
	for i, m := range f.messages {
		out[i] = *m
	}
	return out
}

// Calls returns a copy of every call created, oldest first.
func (f *FakeTwilio) Calls() []FakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]FakeCall, len(f.calls))
	for i, c := range f.calls {
		c.StatusCallbackEvents = append([]string(nil), c.StatusCallbackEvents...)
		out[i] = c
	}
	return out
}

// DeletedRecordings returns the SIDs of recordings deleted, in order.
func (f *FakeTwilio) DeletedRecordings() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.deleted...)
}

// Requests counts every HTTP request received, failed ones included.
func (f *FakeTwilio) Requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests
}

// AddMessage stores m as if Twilio held it (an inbound SMS, or an alert sent
// before a crash) and returns its SID, generated when m.SID is empty.
// Direction defaults to inbound, Status to received, DateCreated to now.
func (f *FakeTwilio) AddMessage(m FakeMessage) string {
	if m.SID == "" {
		m.SID = NewSID("SM")
	}
	if m.Direction == "" {
		m.Direction = "inbound"
	}
	if m.Status == "" {
		m.Status = "received"
	}
	if m.DateCreated.IsZero() {
		m.DateCreated = f.clock()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.messages = append(f.messages, &m)
	return m.SID
}

// AddRecording stores media for recording sid, served as .wav and .mp3 until
// the recording is deleted.
func (f *FakeTwilio) AddRecording(sid string, data []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.recordings[sid] = append([]byte(nil), data...)
}

// FailNext makes the next n requests fail with status and Twilio error code
// (code 0 picks a generic one for the status).
func (f *FakeTwilio) FailNext(n, status, code int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failN, f.failStatus, f.failCode = n, status, code
}

// SetDown makes every request fail with 503 while down is true.
func (f *FakeTwilio) SetDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

// SetDelay holds every request for d before answering (to trigger client
// timeouts). A request whose client gives up is dropped.
func (f *FakeTwilio) SetDelay(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delay = d
}

// SetNow sets the fake's clock (date_created of what it creates), so a test
// with a fake clock sees Twilio's dates on the same time line.
func (f *FakeTwilio) SetNow(now func() time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = now
}

func (f *FakeTwilio) clock() time.Time {
	f.mu.Lock()
	now := f.now
	f.mu.Unlock()
	return now().UTC()
}

// DropNextCreate makes the next n POSTs that create a resource ("Messages"
// or "Calls") lose their answer: the connection is closed without a
// response. With create the resource is created first (Twilio acted, the
// answer was lost on the way back); without it the request is lost before
// Twilio sees it.
func (f *FakeTwilio) DropNextCreate(resource string, n int, create bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.drops[resource] = dropRule{n: n, create: create}
}

// takeDrop reports whether this creation of resource loses its answer, and
// whether it is created anyway.
func (f *FakeTwilio) takeDrop(resource string) (drop, create bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rule := f.drops[resource]
	if rule.n <= 0 {
		return false, false
	}
	rule.n--
	f.drops[resource] = rule
	return true, rule.create
}

// dropAnswer closes the client's connection without writing a response.
func dropAnswer(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// NewSID returns a random Twilio-shaped SID: prefix and 32 hex digits.
func NewSID(prefix string) string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return prefix + hex.EncodeToString(b[:])
}

// twilioTime is the date format of Twilio's JSON (RFC 2822).
const twilioTime = "Mon, 02 Jan 2006 15:04:05 -0700"

// maxForm bounds request bodies, as Twilio bounds parameters.
const maxForm = 64 << 10

var (
	e164Re     = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	pathRe     = regexp.MustCompile(`^/2010-04-01/Accounts/([^/]+)/(Messages|Calls|Recordings)(?:/([^/]+?))?\.(json|wav|mp3)$`)
	callEvents = map[string]bool{"initiated": true, "ringing": true, "answered": true, "completed": true}
)

func (f *FakeTwilio) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests++
	delay, down := f.delay, f.down
	failStatus, failCode := 0, 0
	if !down && f.failN > 0 {
		f.failN--
		failStatus, failCode = f.failStatus, f.failCode
	}
	f.mu.Unlock()

	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		case <-f.done:
			return
		}
	}
	switch {
	case down:
		writeError(w, http.StatusServiceUnavailable, 20503, "Service Unavailable")
		return
	case failStatus != 0:
		if failCode == 0 {
			failCode = defaultCode(failStatus)
		}
		writeError(w, failStatus, failCode, http.StatusText(failStatus))
		return
	}

	user, pass, ok := r.BasicAuth()
	if !ok || subtle.ConstantTimeCompare([]byte(user), []byte(f.accountSID)) != 1 ||
		subtle.ConstantTimeCompare([]byte(pass), []byte(f.authToken)) != 1 {
		w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
		writeError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}

	m := pathRe.FindStringSubmatch(r.URL.Path)
	if m == nil || m[1] != f.accountSID {
		notFound(w, r)
		return
	}
	resource, sid, ext := m[2], m[3], m[4]
	switch {
	case resource == "Messages" && sid == "" && ext == "json":
		if allow(w, r, http.MethodPost, http.MethodGet) {
			if r.Method == http.MethodGet {
				f.listMessages(w, r)
			} else if drop, create := f.takeDrop("Messages"); drop {
				if create {
					f.createMessage(httptest.NewRecorder(), r)
				}
				dropAnswer(w)
			} else {
				f.createMessage(w, r)
			}
		}
	case resource == "Messages" && sid != "" && ext == "json":
		if allow(w, r, http.MethodPost) {
			f.updateMessage(w, r, sid)
		}
	case resource == "Calls" && sid == "" && ext == "json":
		if allow(w, r, http.MethodPost, http.MethodGet) {
			if r.Method == http.MethodGet {
				f.listCalls(w, r)
			} else if drop, create := f.takeDrop("Calls"); drop {
				if create {
					f.createCall(httptest.NewRecorder(), r)
				}
				dropAnswer(w)
			} else {
				f.createCall(w, r)
			}
		}
	case resource == "Recordings" && sid != "" && ext == "json":
		if allow(w, r, http.MethodDelete, http.MethodGet) {
			if r.Method == http.MethodGet {
				f.fetchRecording(w, r, sid)
			} else {
				f.deleteRecording(w, r, sid)
			}
		}
	case resource == "Recordings" && sid != "" && (ext == "wav" || ext == "mp3"):
		if allow(w, r, http.MethodGet, http.MethodHead) {
			f.serveMedia(w, r, sid, ext)
		}
	default:
		notFound(w, r)
	}
}

func (f *FakeTwilio) createMessage(w http.ResponseWriter, r *http.Request) {
	form, ok := parseForm(w, r)
	if !ok {
		return
	}
	msg := FakeMessage{
		To:                  form.Get("To"),
		From:                form.Get("From"),
		MessagingServiceSID: form.Get("MessagingServiceSid"),
		Body:                form.Get("Body"),
		StatusCallback:      form.Get("StatusCallback"),
		ValidityPeriod:      form.Get("ValidityPeriod"),
		Status:              "queued",
		Direction:           "outbound-api",
	}
	switch {
	case msg.To == "":
		writeError(w, http.StatusBadRequest, 21604, "A 'To' phone number is required.")
		return
	case msg.From == "" && msg.MessagingServiceSID == "":
		writeError(w, http.StatusBadRequest, 21603, "A 'From' phone number is required.")
		return
	case msg.Body == "":
		writeError(w, http.StatusBadRequest, 21602, "Message body is required.")
		return
	case len([]rune(msg.Body)) > 1600:
		writeError(w, http.StatusBadRequest, 21617, "The concatenated message body exceeds the 1600 character limit.")
		return
	case !validNumber(msg.To):
		// Twilio quotes the number back, which is why clients must not
		// log error messages as they come.
		writeError(w, http.StatusBadRequest, 21211, fmt.Sprintf("The 'To' number %s is not a valid phone number.", msg.To))
		return
	case msg.To == "+15005550009":
		writeError(w, http.StatusBadRequest, 21614, fmt.Sprintf("'To' number %s is not a valid mobile number", msg.To))
		return
	case msg.From != "" && !e164Re.MatchString(msg.From):
		writeError(w, http.StatusBadRequest, 21212, fmt.Sprintf("The 'From' number %s is not a valid phone number, shortcode, or alphanumeric sender ID.", msg.From))
		return
	case msg.StatusCallback != "" && !absoluteURL(msg.StatusCallback):
		writeError(w, http.StatusBadRequest, 21609, "The StatusCallback URL is not a valid URL.")
		return
	case msg.ValidityPeriod != "" && !intIn(msg.ValidityPeriod, 1, 36000):
		writeError(w, http.StatusBadRequest, 20001, "ValidityPeriod must be between 1 and 36000 seconds.")
		return
	}
	msg.SID = NewSID("SM")
	now := f.clock()
	msg.DateCreated = now
	f.mu.Lock()
	f.messages = append(f.messages, &msg)
	f.mu.Unlock()
	writeJSON(w, http.StatusCreated, f.messageJSON(msg, now))
}

func (f *FakeTwilio) updateMessage(w http.ResponseWriter, r *http.Request, sid string) {
	form, ok := parseForm(w, r)
	if !ok {
		return
	}
	body, hasBody := form["Body"]
	if !hasBody || len(body) != 1 || body[0] != "" {
		writeError(w, http.StatusBadRequest, 20001, "Only redaction (an empty Body) is supported by this fake.")
		return
	}
	f.mu.Lock()
	var found *FakeMessage
	for _, m := range f.messages {
		if m.SID == sid {
			found = m
			break
		}
	}
	if found != nil {
		found.Body = ""
		found.Redacted = true
		f.redactions++
	}
	var msg FakeMessage
	if found != nil {
		msg = *found
	}
	f.mu.Unlock()
	if found == nil {
		notFound(w, r)
		return
	}
	writeJSON(w, http.StatusOK, f.messageJSON(msg, f.clock()))
}

func (f *FakeTwilio) createCall(w http.ResponseWriter, r *http.Request) {
	form, ok := parseForm(w, r)
	if !ok {
		return
	}
	c := FakeCall{
		To:                   form.Get("To"),
		From:                 form.Get("From"),
		URL:                  form.Get("Url"),
		Method:               form.Get("Method"),
		FallbackURL:          form.Get("FallbackUrl"),
		Timeout:              form.Get("Timeout"),
		MachineDetection:     form.Get("MachineDetection"),
		Twiml:                form.Get("Twiml"),
		StatusCallback:       form.Get("StatusCallback"),
		StatusCallbackMethod: form.Get("StatusCallbackMethod"),
		StatusCallbackEvents: form["StatusCallbackEvent"],
		Status:               "queued",
	}
	if c.Method == "" {
		c.Method = http.MethodPost
	}
	if c.StatusCallbackMethod == "" {
		c.StatusCallbackMethod = http.MethodPost
	}
	switch {
	case c.To == "":
		writeError(w, http.StatusBadRequest, 21201, "No 'To' number is specified")
		return
	case c.From == "":
		writeError(w, http.StatusBadRequest, 21213, "No 'From' number is specified")
		return
	case c.URL == "" && c.Twiml == "":
		writeError(w, http.StatusBadRequest, 21205, "Url parameter is required.")
		return
	case !validNumber(c.To):
		writeError(w, http.StatusBadRequest, 21211, fmt.Sprintf("The 'To' number %s is not a valid phone number.", c.To))
		return
	case !e164Re.MatchString(c.From):
		writeError(w, http.StatusBadRequest, 21212, fmt.Sprintf("The 'From' number %s is not a valid phone number.", c.From))
		return
	case c.URL != "" && !absoluteURL(c.URL):
		writeError(w, http.StatusBadRequest, 21205, "Url is not a valid URL.")
		return
	case c.StatusCallback != "" && !absoluteURL(c.StatusCallback):
		writeError(w, http.StatusBadRequest, 21609, "The StatusCallback URL is not a valid URL.")
		return
	case c.FallbackURL != "" && !absoluteURL(c.FallbackURL):
		writeError(w, http.StatusBadRequest, 21205, "FallbackUrl is not a valid URL.")
		return
	case c.Timeout != "" && !intIn(c.Timeout, 1, 600):
		writeError(w, http.StatusBadRequest, 20001, "Timeout must be between 1 and 600 seconds.")
		return
	case c.MachineDetection != "" && c.MachineDetection != "Enable" && c.MachineDetection != "DetectMessageEnd":
		writeError(w, http.StatusBadRequest, 20001, "MachineDetection must be Enable or DetectMessageEnd.")
		return
	case c.Method != http.MethodGet && c.Method != http.MethodPost,
		c.StatusCallbackMethod != http.MethodGet && c.StatusCallbackMethod != http.MethodPost:
		writeError(w, http.StatusBadRequest, 21207, "Method must be GET or POST.")
		return
	}
	for _, ev := range c.StatusCallbackEvents {
		if !callEvents[ev] {
			writeError(w, http.StatusBadRequest, 21626, "Invalid StatusCallbackEvent.")
			return
		}
	}
	c.SID = NewSID("CA")
	now := f.clock()
	c.DateCreated = now
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.mu.Unlock()
	writeJSON(w, http.StatusCreated, f.callJSON(c, now))
}

func (f *FakeTwilio) deleteRecording(w http.ResponseWriter, r *http.Request, sid string) {
	f.mu.Lock()
	gate := f.deleteGate
	f.mu.Unlock()
	if gate != nil {
		gate.entered <- struct{}{}
		<-gate.release
		writeError(w, http.StatusServiceUnavailable, 20503, "Service Unavailable")
		return
	}
	f.mu.Lock()
	_, ok := f.recordings[sid]
	if ok {
		delete(f.recordings, sid)
		f.deleted = append(f.deleted, sid)
	}
	f.mu.Unlock()
	if !ok {
		notFound(w, r)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (f *FakeTwilio) serveMedia(w http.ResponseWriter, r *http.Request, sid, ext string) {
	f.mu.Lock()
	data, ok := f.recordings[sid]
	fail := ok && f.failDownloads > 0
	if fail {
		f.failDownloads--
	}
	truncate := ok && !fail && r.Method == http.MethodGet && f.truncateDownloads > 0
	if truncate {
		f.truncateDownloads--
	}
	if ok && r.Method == http.MethodGet {
		f.downloads++
	}
	f.mu.Unlock()
	if fail {
		// Half the audio, then the connection drops: a download cut short.
		w.Header().Set("Content-Type", "audio/x-wav")
		w.Header().Set("Content-Length", fmt.Sprint(len(data)))
		w.WriteHeader(http.StatusOK)
		w.Write(data[:len(data)/2])
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		panic(http.ErrAbortHandler)
	}
	if truncate {
		// Go's server would frame a body of unknown length in chunks,
		// whose end a client can tell from a cut; write the response by
		// hand so only the connection's close ends it.
		hj, isHijacker := w.(http.Hijacker)
		if !isHijacker {
			panic(http.ErrAbortHandler)
		}
		conn, buf, err := hj.Hijack()
		if err != nil {
			panic(http.ErrAbortHandler)
		}
		defer conn.Close()
		buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: audio/x-wav\r\nConnection: close\r\n\r\n")
		buf.Write(data[:len(data)/2])
		buf.Flush()
		return
	}
	if !ok {
		notFound(w, r)
		return
	}
	ct := "audio/x-wav"
	if ext == "mp3" {
		ct = "audio/mpeg"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", fmt.Sprint(len(data)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(data)
	}
}

// listMessages answers GET Messages.json: the newest first, filtered by To
// and From, one page of PageSize (default 50).
func (f *FakeTwilio) listMessages(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	size, ok := pageSize(w, q)
	if !ok {
		return
	}
	now := f.clock()
	f.mu.Lock()
	items := newestMatching(f.messages, size, func(m *FakeMessage) (string, string) { return m.To, m.From }, q,
		func(m *FakeMessage) any { return f.messageJSON(*m, now) })
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, f.page(r, "messages", items, size))
}

// listCalls answers GET Calls.json like listMessages.
func (f *FakeTwilio) listCalls(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	size, ok := pageSize(w, q)
	if !ok {
		return
	}
	now := f.clock()
	f.mu.Lock()
	items := newestMatching(f.calls, size, func(c FakeCall) (string, string) { return c.To, c.From }, q,
		func(c FakeCall) any { return f.callJSON(c, now) })
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, f.page(r, "calls", items, size))
}

// newestMatching walks items newest first and keeps up to size whose To
// and From match the query's filters, rendered by toJSON.
func newestMatching[T any](items []T, size int, parties func(T) (to, from string), q url.Values, toJSON func(T) any) []any {
	var out []any
	for i := len(items) - 1; i >= 0 && len(out) < size; i-- {
		to, from := parties(items[i])
		if match(q, "To", to) && match(q, "From", from) {
			out = append(out, toJSON(items[i]))
		}
	}
	return out
}

func match(q url.Values, key, value string) bool {
	want, ok := q[key]
	return !ok || (len(want) == 1 && want[0] == value)
}

func pageSize(w http.ResponseWriter, q url.Values) (int, bool) {
	size := 50
	if s := q.Get("PageSize"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, http.StatusBadRequest, 20001, "PageSize must be between 1 and 1000")
			return 0, false
		}
		size = n
	}
	return size, true
}

// page wraps one page of a list the way Twilio's 2010 API does.
func (f *FakeTwilio) page(r *http.Request, key string, items []any, size int) map[string]any {
	if items == nil {
		items = []any{}
	}
	first := r.URL.Path + "?PageSize=" + strconv.Itoa(size) + "&Page=0"
	return map[string]any{
		key:                 items,
		"end":               max(len(items)-1, 0),
		"first_page_uri":    first,
		"next_page_uri":     nil,
		"page":              0,
		"page_size":         size,
		"previous_page_uri": nil,
		"start":             0,
		"uri":               r.URL.RequestURI(),
	}
}

// messageJSON has the fields of the Message resource in Twilio's example.
func (f *FakeTwilio) messageJSON(m FakeMessage, now time.Time) map[string]any {
	uri := "/2010-04-01/Accounts/" + f.accountSID + "/Messages/" + m.SID
	var dateSent, mss any
	if m.Status != "queued" {
		dateSent = now.Format(twilioTime)
	}
	if m.MessagingServiceSID != "" {
		mss = m.MessagingServiceSID
	}
	return map[string]any{
		"account_sid":           f.accountSID,
		"api_version":           "2010-04-01",
		"body":                  m.Body,
		"date_created":          m.DateCreated.Format(twilioTime),
		"date_sent":             dateSent,
		"date_updated":          now.Format(twilioTime),
		"direction":             m.Direction,
		"error_code":            nil,
		"error_message":         nil,
		"from":                  m.From,
		"messaging_service_sid": mss,
		"num_media":             "0",
		"num_segments":          "1",
		"price":                 nil,
		"price_unit":            "USD",
		"sid":                   m.SID,
		"status":                m.Status,
		"subresource_uris":      map[string]string{"media": uri + "/Media.json"},
		"to":                    m.To,
		"uri":                   uri + ".json",
	}
}

// callJSON has the fields of the Call resource in Twilio's example.
func (f *FakeTwilio) callJSON(c FakeCall, now time.Time) map[string]any {
	uri := "/2010-04-01/Accounts/" + f.accountSID + "/Calls/" + c.SID
	sub := map[string]string{
		"notifications":                      uri + "/Notifications.json",
		"recordings":                         uri + "/Recordings.json",
		"payments":                           uri + "/Payments.json",
		"events":                             uri + "/Events.json",
		"siprec":                             uri + "/Siprec.json",
		"streams":                            uri + "/Streams.json",
		"transcriptions":                     uri + "/Transcriptions.json",
		"user_defined_message_subscriptions": uri + "/UserDefinedMessageSubscriptions.json",
		"user_defined_messages":              uri + "/UserDefinedMessages.json",
	}
	return map[string]any{
		"account_sid":      f.accountSID,
		"answered_by":      nil,
		"api_version":      "2010-04-01",
		"caller_name":      nil,
		"date_created":     c.DateCreated.Format(twilioTime),
		"date_updated":     now.Format(twilioTime),
		"direction":        "outbound-api",
		"duration":         nil,
		"end_time":         nil,
		"forwarded_from":   nil,
		"from":             c.From,
		"from_formatted":   c.From,
		"group_sid":        nil,
		"parent_call_sid":  nil,
		"phone_number_sid": nil,
		"price":            nil,
		"price_unit":       "USD",
		"queue_time":       "0",
		"sid":              c.SID,
		"start_time":       nil,
		"status":           c.Status,
		"subresource_uris": sub,
		"to":               c.To,
		"to_formatted":     c.To,
		"trunk_sid":        nil,
		"uri":              uri + ".json",
	}
}

// intIn reports whether s is a whole number within [lo, hi].
func intIn(s string, lo, hi int) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= lo && n <= hi
}

func validNumber(n string) bool {
	return e164Re.MatchString(n) && n != "+15005550001"
}

func absoluteURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func parseForm(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, 20001, "Could not parse the request parameters.")
		return nil, false
	}
	return r.PostForm, true
}

func allow(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	writeError(w, http.StatusMethodNotAllowed, 20004, "Method not allowed")
	return false
}

func notFound(w http.ResponseWriter, r *http.Request) {
	writeError(w, http.StatusNotFound, 20404, fmt.Sprintf("The requested resource %s was not found", r.URL.Path))
}

func defaultCode(status int) int {
	switch status {
	case http.StatusUnauthorized:
		return 20003
	case http.StatusTooManyRequests:
		return 20429
	default:
		return 20000 + status
	}
}

// writeError answers with Twilio's error body.
func writeError(w http.ResponseWriter, status, code int, message string) {
	writeJSON(w, status, map[string]any{
		"code":      code,
		"message":   message,
		"more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code),
		"status":    status,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
