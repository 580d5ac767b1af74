package dispatch_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"
	"github.com/rs/zerolog/hlog"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/config"
	"github.com/hotline-az/hotline/crypto"
	"github.com/hotline-az/hotline/dispatch"
	"github.com/hotline-az/hotline/dispatch/twilioapi"
	"github.com/hotline-az/hotline/intake"
	"github.com/hotline-az/hotline/internal/leaktest"
	"github.com/hotline-az/hotline/store"
	"github.com/hotline-az/hotline/triage"
	"github.com/hotline-az/hotline/twiliotest"
)

const (
	publicURL    = "https://hotline.example.az"
	webhookToken = "webhooktoken123"
	hotlineFrom  = "+994125550000"
	leylaPhone   = "+994501110001"
	rashadPhone  = "+994501110002"
	ayselPhone   = "+994501110003"
	reporter     = "+994557654321"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// harness is a store, a dispatcher speaking to the fake Twilio through the
// real twilio-go client, and the real webhooks on 127.0.0.1.
type harness struct {
	t        testing.TB
	dir      string
	key      crypto.MasterKey
	esc      config.Escalation
	logs     *leaktest.Buffer
	clock    *fakeClock
	st       *store.Store
	disp     *dispatch.Dispatcher
	twilio   *twiliotest.FakeTwilio
	srv      *httptest.Server
	officers map[string]hotline.Officer // by phone
}

func newHarness(t testing.TB, tune func(*config.Escalation)) *harness {
	t.Helper()
	clock := &fakeClock{t: time.Date(2026, 11, 24, 23, 0, 0, 0, time.UTC)} // a Wednesday, 03:00 in Baku
	key, err := crypto.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	dir, logs := t.TempDir(), &leaktest.Buffer{}
	log := zerolog.New(logs)
	st, err := store.Open(dir, store.MasterKeySource{Key: &key}, store.Options{Now: clock.Now, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	fake := twiliotest.NewFakeTwilio(t)
	fake.SetNow(clock.Now)
	client, err := twilioapi.New(twilioapi.Config{AccountSID: fake.AccountSID(), AuthToken: fake.AuthToken(), From: hotlineFrom, APIURL: fake.URL()})
	if err != nil {
		t.Fatal(err)
	}
	esc := config.DefaultEscalation()
	if tune != nil {
		tune(&esc)
	}
	disp, err := dispatch.New(dispatch.Config{Store: st, Sender: client, Escalation: esc, PublicURL: publicURL, Logger: log, SendTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, dir: dir, key: key, esc: esc, logs: logs, clock: clock, st: st, disp: disp, twilio: fake, officers: map[string]hotline.Officer{}}
	err = st.Update(context.Background(), func(tx *store.Tx) error {
		for _, o := range []hotline.Officer{
			{Name: "Leyla Aliyeva", Phone: leylaPhone, Role: hotline.RoleOfficer},
			{Name: "Rashad Mammadov", Phone: rashadPhone, Role: hotline.RoleOfficer},
			{Name: "Aysel Huseynova", Phone: ayselPhone, Role: hotline.RoleSupervisor},
		} {
			added, err := tx.AddOfficer(o)
			if err != nil {
				return err
			}
			h.officers[o.Phone] = added
		}
		rota := dispatch.Rota{TimeZone: "Asia/Baku"}
		for _, day := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
			rota.Shifts = append(rota.Shifts, dispatch.Shift{Day: day, Start: "00:00", End: "24:00",
				Officer: h.officers[leylaPhone].ID, Backup: h.officers[rashadPhone].ID, Supervisor: h.officers[ayselPhone].ID})
		}
		return dispatch.SaveRota(tx, rota)
	})
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := intake.NewVerifier(intake.VerifierConfig{
		PublicURL: publicURL, AuthTokens: []string{webhookToken},
		AccountSID: fake.AccountSID(), Numbers: []string{hotlineFrom},
	})
	if err != nil {
		t.Fatal(err)
	}
	sms := intake.NewSMSHandler(intake.SMSConfig{
		Verifier: verifier, Store: st, Triager: triage.Default(),
		Officers: disp, OnInbound: disp.OnInbound,
	})
	alerts := &intake.AlertHandlers{Verifier: verifier, Alerts: disp}
	r := mux.NewRouter()
	r.Handle("/twilio/sms", sms)
	r.HandleFunc("/twilio/status", alerts.Status)
	r.HandleFunc("/twilio/alert-call", alerts.AlertCall)
	h.srv = httptest.NewServer(hlog.NewHandler(log)(r))
	t.Cleanup(h.srv.Close)
	return h
}

// post sends a signed webhook to path (with query) and returns status and body.
func (h *harness) post(path string, form url.Values) (int, string) {
	h.t.Helper()
	return h.postAs(h.t, path, form)
}

// postAs is post reporting to tb (a fuzz target's own *testing.T).
func (h *harness) postAs(tb testing.TB, path string, form url.Values) (int, string) {
	tb.Helper()
	if _, ok := form["AccountSid"]; !ok {
		form.Set("AccountSid", h.twilio.AccountSID()) // as Twilio sends on every webhook
	}
	req, err := twiliotest.NewSignedRequest(webhookToken, h.srv.URL+path, publicURL+path, form)
	if err != nil {
		tb.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var smsSeq int

func (h *harness) sms(from, body string) string {
	h.t.Helper()
	smsSeq++
	status, reply := h.post("/twilio/sms", url.Values{
		"MessageSid": {twiliotest.NewSID("SM")}, "From": {from}, "To": {hotlineFrom}, "Body": {body},
	})
	if status != 200 {
		h.t.Fatalf("sms: got %d %q", status, reply)
	}
	return reply
}

func (h *harness) runDue() {
	h.t.Helper()
	if err := h.disp.RunDue(context.Background()); err != nil {
		h.t.Fatal(err)
	}
}

// sent counts messages and calls the fake Twilio received per recipient.
func (h *harness) sent() (sms, calls map[string]int) {
	sms, calls = map[string]int{}, map[string]int{}
	for _, m := range h.twilio.Messages() {
		sms[m.To]++
	}
	for _, c := range h.twilio.Calls() {
		calls[c.To]++
	}
	return sms, calls
}

func (h *harness) wantSent(label string, wantSMS, wantCalls map[string]int) {
	h.t.Helper()
	sms, calls := h.sent()
	if !equalCounts(sms, wantSMS) || !equalCounts(calls, wantCalls) {
		h.t.Fatalf("%s: got SMS %v calls %v, want SMS %v calls %v", label, sms, calls, wantSMS, wantCalls)
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func (h *harness) onlyAlert() hotline.Alert {
	h.t.Helper()
	var alerts []hotline.Alert
	h.st.View(func(tx *store.Tx) error {
		var err error
		alerts, err = tx.Alerts()
		return err
	})
	if len(alerts) != 1 {
		h.t.Fatalf("want one alert, got %d", len(alerts))
	}
	return alerts[0]
}

func jobFrom(t *testing.T, callbackURL string) string {
	t.Helper()
	u, err := url.Parse(callbackURL)
	if err != nil || u.Query().Get("job") == "" {
		t.Fatalf("callback URL %q has no job id", callbackURL)
	}
	if strings.Contains(callbackURL, "Hotline") || strings.Contains(callbackURL, "P1") {
		t.Fatalf("callback URL %q carries alert text", callbackURL)
	}
	return u.Query().Get("job")
}

const p1Tip = "Kömək edin, bizi zirzəmidə saxlayırlar"

func TestP1EscalatesToBackupThenStopsOnSMSAck(t *testing.T) {
	h := newHarness(t, nil)
	reply := h.sms(reporter, p1Tip)
	if !strings.Contains(reply, "Müraciət nömrəsi") {
		t.Fatalf("reporter reply: %q", reply)
	}
	h.runDue()
	h.wantSent("at once", map[string]int{leylaPhone: 1}, map[string]int{leylaPhone: 1})
	msg := h.twilio.Messages()[0]
	a := h.onlyAlert()
	if msg.Body != "Hotline: new P1 case "+a.CaseCode+" (SMS, az). Reply 1a to acknowledge." {
		t.Fatalf("alert text: %q", msg.Body)
	}
	if msg.From != hotlineFrom {
		t.Fatalf("alert sent from %q, want the hotline number", msg.From)
	}
	jobFrom(t, msg.StatusCallback)

	h.clock.Add(4*time.Minute + 59*time.Second)
	h.runDue()
	h.wantSent("before 5 minutes", map[string]int{leylaPhone: 1}, map[string]int{leylaPhone: 1})
	h.clock.Add(time.Second)
	h.runDue()
	h.wantSent("at 5 minutes", map[string]int{leylaPhone: 1, rashadPhone: 1}, map[string]int{leylaPhone: 1, rashadPhone: 1})

	ack := h.sms(rashadPhone, "1A")
	if !strings.Contains(ack, "alert 1 (P1 case "+a.CaseCode+") acknowledged") {
		t.Fatalf("ack reply: %q", ack)
	}
	for _, d := range []time.Duration{5 * time.Minute, 10 * time.Minute, 2 * time.Hour} {
		h.clock.Add(d)
		h.runDue()
	}
	// The on-duty officer is told that the backup took it.
	h.wantSent("after the ack", map[string]int{leylaPhone: 2, rashadPhone: 1}, map[string]int{leylaPhone: 1, rashadPhone: 1})
	a = h.onlyAlert()
	if a.State != hotline.AlertAcknowledged || a.AckedBy != h.officers[rashadPhone].ID || a.AckedVia != "sms" || !a.NextAt.IsZero() {
		t.Fatalf("alert after ack: %+v", a)
	}
	again := h.sms(leylaPhone, "ack 1")
	if !strings.Contains(again, "already acknowledged by Rashad Mammadov") {
		t.Fatalf("second ack: %q", again)
	}
	st, _ := h.st.Stats()
	if st.Messages != 1 || st.Cases != 1 {
		t.Fatalf("officer texts were stored as tips: %+v", st)
	}
}

func TestVoiceAcknowledgementByBackupStopsEscalation(t *testing.T) {
	h := newHarness(t, nil)
	h.sms(reporter, p1Tip)
	h.runDue()
	h.clock.Add(5 * time.Minute)
	h.runDue()
	h.wantSent("at 5 minutes", map[string]int{leylaPhone: 1, rashadPhone: 1}, map[string]int{leylaPhone: 1, rashadPhone: 1})
	var call twiliotest.FakeCall
	for _, c := range h.twilio.Calls() {
		if c.To == rashadPhone {
			call = c
		}
	}
	u, _ := url.Parse(call.URL)
	path := u.Path + "?" + u.RawQuery
	status, twimlDoc := h.post(path, url.Values{"CallSid": {call.SID}, "CallStatus": {"in-progress"}})
	a := h.onlyAlert()
	if status != 200 || !strings.Contains(twimlDoc, "<Gather") || !strings.Contains(twimlDoc, "Press 1 to acknowledge") ||
		!strings.Contains(twimlDoc, strings.Join(strings.Split(a.CaseCode, ""), " ")) {
		t.Fatalf("call TwiML: %d %s", status, twimlDoc)
	}
	if strings.Contains(twimlDoc, "zirzəmi") {
		t.Fatal("the call reads out tip content")
	}
	// A wrong key acknowledges nothing.
	if _, doc := h.post(path, url.Values{"CallSid": {call.SID}, "Digits": {"9"}}); strings.Contains(doc, "acknowledged") {
		t.Fatalf("key 9 acknowledged: %s", doc)
	}
	status, twimlDoc = h.post(path, url.Values{"CallSid": {call.SID}, "Digits": {"1"}})
	if status != 200 || !strings.Contains(twimlDoc, "acknowledged") {
		t.Fatalf("key press: %d %s", status, twimlDoc)
	}
	for _, d := range []time.Duration{5 * time.Minute, 30 * time.Minute} {
		h.clock.Add(d)
		h.runDue()
	}
	// The on-duty officer is told by SMS that the backup took it.
	h.wantSent("after the voice ack", map[string]int{leylaPhone: 2, rashadPhone: 1}, map[string]int{leylaPhone: 1, rashadPhone: 1})
	if a = h.onlyAlert(); a.State != hotline.AlertAcknowledged || a.AckedVia != "call" || a.AckedBy != h.officers[rashadPhone].ID {
		t.Fatalf("alert: %+v", a)
	}
}

func TestUndeliveredSMSEscalatesAtOnce(t *testing.T) {
	h := newHarness(t, nil)
	h.sms(reporter, "Müdir pasportumu saxlayıb və maaşımı vermir") // P2: SMS to on duty, call after 10 min
	h.runDue()
	h.wantSent("P2 at once", map[string]int{leylaPhone: 1}, map[string]int{})
	m := h.twilio.Messages()[0]
	u, _ := url.Parse(m.StatusCallback)
	status, body := h.post(u.Path+"?"+u.RawQuery, url.Values{"MessageSid": {m.SID}, "MessageStatus": {"undelivered"}, "ErrorCode": {"30003"}})
	if status != http.StatusNoContent {
		t.Fatalf("status callback: %d %q", status, body)
	}
	h.runDue() // no clock change
	h.wantSent("after undelivered", map[string]int{leylaPhone: 1}, map[string]int{leylaPhone: 1})

	// A late "sent" for the failed message changes nothing.
	h.post(u.Path+"?"+u.RawQuery, url.Values{"MessageSid": {m.SID}, "MessageStatus": {"sent"}})
	var jobs []hotline.Job
	h.st.View(func(tx *store.Tx) error { jobs, _ = tx.Jobs(""); return nil })
	for _, j := range jobs {
		if j.Kind == hotline.JobAlertSMS && (j.Delivery != "undelivered" || j.ErrorCode != 30003 || j.State != hotline.JobFailed) {
			t.Fatalf("SMS job after out-of-order update: %+v", j)
		}
	}
	// Unknown statuses and another job's SID are refused.
	if status, _ := h.post(u.Path+"?"+u.RawQuery, url.Values{"MessageSid": {m.SID}, "MessageStatus": {"exploded"}}); status != 400 {
		t.Fatalf("unknown status: got %d, want 400", status)
	}
	if status, _ := h.post(u.Path+"?"+u.RawQuery, url.Values{"MessageSid": {twiliotest.NewSID("SM")}, "MessageStatus": {"delivered"}}); status != 403 {
		t.Fatalf("mismatched SID: got %d, want 403", status)
	}
}

// TestTwilioDownThenBackDeliversEachAlertOnce: two P1 tips while Twilio
// answers 503. Every try during the outage reaches the fake and fails;
// once Twilio is back each alert's SMS goes out exactly once and one call
// names both alerts. Which call job places that call and which rides on
// it depends on how the concurrent sends interleave, so the checks are
// about what the officer receives and what each job did, not its order.
func TestTwilioDownThenBackDeliversEachAlertOnce(t *testing.T) {
	h := newHarness(t, nil)
	h.twilio.SetDown(true)
	h.sms(reporter, p1Tip)
	h.sms("+994557654322", "Помогите, нас держат на складе и не отпускают")
	const downRounds = 4
	for range downRounds {
		h.runDue()
		h.clock.Add(20 * time.Second)
	}
	h.wantSent("while down", map[string]int{}, map[string]int{})
	triesDown, sumDown := map[string]int{}, 0
	for _, j := range h.jobs() {
		triesDown[j.ID] = j.Tries
		sumDown += j.Tries
	}
	// Each try was one request the fake refused; a 503 is an answer, so
	// nothing was reconciled (no list requests).
	if got := h.twilio.Requests(); got != sumDown {
		t.Fatalf("fake saw %d requests during the outage, jobs record %d tries", got, sumDown)
	}
	callTriesDown := 0
	for _, j := range h.jobs() {
		switch j.Kind {
		case hotline.JobAlertSMS:
			if j.Tries == 0 || j.State != hotline.JobPending || !strings.Contains(j.LastError, "503") {
				t.Fatalf("SMS job during the outage: %+v", j)
			}
		case hotline.JobAlertCall:
			callTriesDown += j.Tries
		}
	}
	// Each round at least one of the two call jobs rings (the other may
	// ride on it while it is being placed).
	if callTriesDown < downRounds {
		t.Fatalf("%d call tries in %d rounds during the outage", callTriesDown, downRounds)
	}

	h.twilio.SetDown(false)
	for range 6 {
		h.clock.Add(20 * time.Second)
		h.runDue()
	}
	// One SMS per alert; one call names both alerts.
	h.wantSent("once back", map[string]int{leylaPhone: 2}, map[string]int{leylaPhone: 1})
	alerts := h.alerts()
	if len(alerts) != 2 {
		t.Fatalf("want two alerts, got %d", len(alerts))
	}
	bodies := map[string]bool{}
	for _, m := range h.twilio.Messages() {
		bodies[m.Body] = true
	}
	for _, a := range alerts {
		if !bodies[dispatch.AlertText(a)] {
			t.Fatalf("alert %d's SMS was not sent; sent %v", a.Number, bodies)
		}
	}

	jobs := h.jobs()
	sumTries := 0
	var carrier hotline.Job
	for _, j := range jobs {
		sumTries += j.Tries
		if j.Kind == hotline.JobAlertCall && j.HasSID {
			if carrier.ID != "" {
				t.Fatalf("two call jobs hold a call: %+v and %+v", carrier, j)
			}
			carrier = j
		}
	}
	if got := h.twilio.Requests(); got != sumTries {
		t.Fatalf("fake saw %d requests in all, jobs record %d tries", got, sumTries)
	}
	if carrier.ID == "" || carrier.State != hotline.JobSent || carrier.Tries <= triesDown[carrier.ID] {
		t.Fatalf("the call after recovery: %+v (tries during the outage %d)", carrier, triesDown[carrier.ID])
	}
	called := map[string]bool{carrier.AlertID: true}
	for _, j := range jobs {
		if j.Kind != hotline.JobAlertCall || j.ID == carrier.ID {
			continue
		}
		if j.SharedCall != carrier.ID || j.State != hotline.JobPending || !slices.Contains(carrier.Riders, j.ID) {
			t.Fatalf("call job %s neither placed the call nor rides on it: %+v (carrier %+v)", j.ID, j, carrier)
		}
		called[j.AlertID] = true
	}
	for _, a := range alerts {
		if !called[a.ID] {
			t.Fatalf("no call names alert %d", a.Number)
		}
	}
	// Every job tried during the outage was tried again once Twilio was
	// back and got through, unless it is a call riding on the one call.
	for _, j := range jobs {
		if triesDown[j.ID] == 0 || j.SharedCall == carrier.ID {
			continue
		}
		if j.State != hotline.JobSent || !j.HasSID || j.Tries <= triesDown[j.ID] {
			t.Fatalf("job %s after recovery: %+v (tries during the outage %d)", j.ID, j, triesDown[j.ID])
		}
	}
	// The call's prompt names both alerts, and one keypress would
	// acknowledge both.
	p, err := h.disp.CallPrompt(carrier.ID)
	if err != nil || !p.Open || p.Count != 2 {
		t.Fatalf("call prompt: %+v %v, want both alerts named", p, err)
	}
}

func (h *harness) jobs() []hotline.Job {
	h.t.Helper()
	var jobs []hotline.Job
	if err := h.st.View(func(tx *store.Tx) error {
		var err error
		jobs, err = tx.Jobs("")
		return err
	}); err != nil {
		h.t.Fatal(err)
	}
	return jobs
}

func TestTimeoutIsReconciledNotDoubled(t *testing.T) {
	h := newHarness(t, nil)
	h.twilio.SetDelay(5 * time.Second) // longer than the 2 s send timeout
	h.sms(reporter, p1Tip)
	h.runDue()
	h.twilio.SetDelay(0)
	h.clock.Add(30 * time.Second)
	h.runDue()
	h.wantSent("after a timeout", map[string]int{leylaPhone: 1}, map[string]int{leylaPhone: 1})
}

func TestPermanentErrorDeadLettersAtOnce(t *testing.T) {
	h := newHarness(t, nil)
	h.twilio.FailNext(1000, 400, 21211) // permanent: invalid number
	h.sms(reporter, p1Tip)
	h.runDue()
	var jobs []hotline.Job
	h.st.View(func(tx *store.Tx) error { jobs, _ = tx.Jobs(""); return nil })
	onDuty := 0
	for _, j := range jobs {
		if j.Step != 0 {
			continue
		}
		onDuty++
		if j.State != hotline.JobDead || j.ErrorCode != 21211 || j.Tries != 1 || strings.Contains(j.LastError, leylaPhone) {
			t.Fatalf("permanent failure: %+v", j)
		}
	}
	if onDuty != 2 {
		t.Fatalf("want the on-duty SMS and call, got %d jobs", onDuty)
	}
	if a := h.onlyAlert(); a.Step < 2 {
		t.Fatalf("a dead letter should move the alert on at once; step %d", a.Step)
	}

}

func TestOfficerTextsAreCommandsAndReporterCodesAreTips(t *testing.T) {
	h := newHarness(t, nil)
	// A reporter who texts something that looks like an ack is a reporter.
	if reply := h.sms(reporter, "12a"); !strings.Contains(reply, "Reference") && !strings.Contains(reply, "nömrəsi") {
		t.Fatalf("reporter's '12a' got %q, want the tip reply", reply)
	}
	for i := range 3 {
		if reply := h.sms(leylaPhone, "hello there"); !strings.Contains(reply, "Reply with the alert number") && !strings.Contains(reply, "reply with the alert number") {
			t.Fatalf("help reply %d: %q", i, reply)
		}
	}
	if reply := h.sms(leylaPhone, "hello again"); strings.Contains(reply, "<Message>") {
		t.Fatalf("fourth help reply within the hour was sent: %q", reply)
	}
	if reply := h.sms(leylaPhone, "99a"); strings.Contains(reply, "acknowledged") {
		t.Fatalf("unknown alert acknowledged: %q", reply)
	}
	st, _ := h.st.Stats()
	if st.Cases != 1 || st.Messages != 1 {
		t.Fatalf("got %d cases %d messages, want only the reporter's tip", st.Cases, st.Messages)
	}
}

func TestAckForms(t *testing.T) {
	for _, text := range []string{"1a", "1 a", "1A", "ack 1", "ACK 1", "a", " A ", "#1a"} {
		t.Run(text, func(t *testing.T) {
			h := newHarness(t, nil)
			h.sms(reporter, p1Tip)
			h.runDue()
			reply := h.sms(leylaPhone, text)
			if !strings.Contains(reply, "acknowledged") {
				t.Fatalf("%q: got %q", text, reply)
			}
		})
	}
	h := newHarness(t, nil)
	h.sms(reporter, p2Tip)
	if reply := h.sms(leylaPhone, "1c"); !strings.Contains(reply, "closed") {
		t.Fatalf("close: %q", reply)
	}
	if a := h.onlyAlert(); a.State != hotline.AlertClosed {
		t.Fatalf("state %s, want closed", a.State)
	}
}

func TestPriorityRiseOpensNewAlertAndRepeatsThenSupervisors(t *testing.T) {
	h := newHarness(t, func(e *config.Escalation) { e.P1.Repeat = 2 })
	h.sms(reporter, "Müdir pasportumu saxlayıb") // P2
	h.sms(reporter, p1Tip)                       // P1 now
	var alerts []hotline.Alert
	h.st.View(func(tx *store.Tx) error { alerts, _ = tx.Alerts(); return nil })
	if len(alerts) != 2 || alerts[0].Priority != hotline.P1 || !alerts[0].Raised || alerts[1].State != hotline.AlertSuperseded {
		t.Fatalf("alerts after a rise: %+v", alerts)
	}
	// Nobody answers: two rounds (0, 5, 10 min; then 15 + 0, 5, 10), then every supervisor.
	for range 40 {
		h.clock.Add(time.Minute)
		h.runDue()
	}
	sms, _ := h.sent()
	if sms[leylaPhone] != 2 || sms[rashadPhone] != 2 || sms[ayselPhone] != 3 {
		t.Fatalf("SMS after two unanswered rounds: %v (want on-duty 2, backup 2, supervisor 2 + final 1)", sms)
	}
	if a := h.onlyOpen(); !a.Exhausted {
		t.Fatalf("alert not marked exhausted: %+v", a)
	}
}

func (h *harness) onlyOpen() hotline.Alert {
	var open []hotline.Alert
	h.st.View(func(tx *store.Tx) error {
		all, _ := tx.Alerts()
		for _, a := range all {
			if a.State == hotline.AlertOpen {
				open = append(open, a)
			}
		}
		return nil
	})
	if len(open) != 1 {
		h.t.Fatalf("want one open alert, got %d", len(open))
	}
	return open[0]
}

func firstStep(jobs []hotline.Job) hotline.Job {
	for _, j := range jobs {
		if j.Step == 0 && j.Kind == hotline.JobAlertSMS {
			return j
		}
	}
	return hotline.Job{}
}

func TestCoverageNamesGaps(t *testing.T) {
	h := newHarness(t, nil)
	warnings, err := h.disp.Coverage()
	if err != nil || len(warnings) != 0 {
		t.Fatalf("full rota: got %v %v, want no warnings", warnings, err)
	}
	err = h.st.Update(context.Background(), func(tx *store.Tx) error {
		r, err := dispatch.LoadRota(tx)
		if err != nil {
			return err
		}
		r.Shifts = r.Shifts[1:] // nobody on Monday
		return dispatch.SaveRota(tx, r)
	})
	if err != nil {
		t.Fatal(err)
	}
	warnings, _ = h.disp.Coverage()
	if len(warnings) != 1 || !strings.Contains(warnings[0], "from Mon 00:00 to Tue 00:00, 1 day") {
		t.Fatalf("got %v, want one warning about Monday", warnings)
	}
}

// TestAlertPathLeaksNothing runs a whole escalation (failure, retry,
// acknowledgements by SMS and call) and then searches the raw data file
// and the captured log for every number, name, SID and tip fragment.
func TestAlertPathLeaksNothing(t *testing.T) {
	h := newHarness(t, nil)
	h.twilio.FailNext(1, 503, 0)
	h.sms(reporter, p1Tip)
	h.runDue()
	h.clock.Add(time.Minute)
	h.runDue()
	h.clock.Add(5 * time.Minute)
	h.runDue()
	m := h.twilio.Messages()[0]
	u, _ := url.Parse(m.StatusCallback)
	h.post(u.Path+"?"+u.RawQuery, url.Values{"MessageSid": {m.SID}, "MessageStatus": {"delivered"}})
	h.sms(leylaPhone, "what")
	h.sms(rashadPhone, "1a")
	h.st.Close()
	raw, err := os.ReadFile(filepath.Join(h.dir, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	logs := h.logs.String()
	if !strings.Contains(logs, "alert settled") {
		t.Fatalf("log capture incomplete: %s", logs)
	}
	needles := []string{"Leyla", "Aliyeva", "Rashad", "Mammadov", "Aysel", "Huseynova"}
	for _, p := range []string{leylaPhone, rashadPhone, ayselPhone, reporter} {
		needles = append(needles, leaktest.PhoneForms(p)...)
	}
	for _, fm := range h.twilio.Messages() {
		needles = append(needles, fm.SID)
	}
	for _, c := range h.twilio.Calls() {
		needles = append(needles, c.SID)
	}
	needles = append(needles, leaktest.Runs(p1Tip, 8)...)
	leaktest.Check(t, "data file", string(raw), needles...)
	leaktest.Check(t, "log", logs, needles...)
}

// FuzzAlertCallbacks sends arbitrary signed status and alert-call
// callbacks, for real jobs and made-up ones: no panic, only the statuses
// the contract allows, and an alert is only ever acknowledged by key 1.
func FuzzAlertCallbacks(f *testing.F) {
	f.Add(false, "", "MessageStatus=delivered&ErrorCode=0")
	f.Add(false, "", "MessageStatus=undelivered&ErrorCode=30003")
	f.Add(false, "", "CallStatus=no-answer")
	f.Add(true, "", "Digits=1")
	f.Add(true, "", "Digits=%2A")
	f.Add(true, "nosuchjob", "Digits=1")
	f.Add(false, "", "MessageStatus=exploded&ErrorCode=abc")
	h := newHarness(f, nil)
	h.sms(reporter, p1Tip)
	h.runDue()
	smsCB, _ := url.Parse(h.twilio.Messages()[0].StatusCallback)
	callURL, _ := url.Parse(h.twilio.Calls()[0].URL)
	f.Fuzz(func(t *testing.T, call bool, job, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		target := smsCB
		if call {
			target = callURL
		}
		q := target.Query()
		if job != "" {
			q.Set("job", job)
		}
		status, _ := h.postAs(t, target.Path+"?"+q.Encode(), form)
		switch status {
		case 200, 204, 400, 403, 404:
		default:
			t.Fatalf("status %d for %s %q", status, target.Path, body)
		}
		var a hotline.Alert
		h.st.View(func(tx *store.Tx) error {
			all, err := tx.Alerts()
			if err == nil && len(all) > 0 {
				a = all[0]
			}
			return err
		})
		if a.State == hotline.AlertAcknowledged && a.AckedVia != "call" {
			t.Fatalf("acknowledged by %q after %s %q", a.AckedVia, target.Path, body)
		}
	})
}

// FuzzOfficerCommand feeds arbitrary texts from an officer's number to the
// command parser: never a panic, never a stored tip.
func FuzzOfficerCommand(f *testing.F) {
	for _, s := range []string{"1a", "1 A", "ack 1", "a", "1c", "close 1", "#1a", "99999999999a", "", "ａ", "1a 2a", "ok"} {
		f.Add(s)
	}
	h := newHarness(f, nil)
	h.sms(reporter, p1Tip)
	f.Fuzz(func(t *testing.T, body string) {
		if _, handled, err := h.disp.Handle(context.Background(), leylaPhone, body); err != nil || !handled {
			t.Fatalf("officer text %q: handled=%v err=%v", body, handled, err)
		}
		if st, _ := h.st.Stats(); st.Messages != 1 {
			t.Fatalf("an officer's text %q was stored as a tip", body)
		}
	})
}
