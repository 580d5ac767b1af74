package intake_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
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
	caller      = "+994557654321"
	onDutyPhone = "+994501110001"
	backupPhone = "+994501110002"
	p1Text      = "Kömək edin, bizi zirzəmidə saxlayırlar" // triaged P1
)

// voiceEnv is the voice line on a real HTTP server on 127.0.0.1, with a
// real store, a dispatcher that talks to the fake Twilio through
// twilio-go, two officers (on duty, backup) and the SMS webhook beside it.
type voiceEnv struct {
	t        testing.TB
	st       *store.Store
	disp     *dispatch.Dispatcher
	twilio   *twiliotest.FakeTwilio
	srv      *httptest.Server
	logs     *leaktest.Buffer
	officers map[string]hotline.Officer // by phone
	dir      string
}

func newVoiceEnv(t testing.TB, tune func(*config.Voice)) *voiceEnv {
	t.Helper()
	key, err := crypto.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	dir, logs := t.TempDir(), &leaktest.Buffer{}
	log := zerolog.New(logs)
	st, err := store.Open(dir, store.MasterKeySource{Key: &key}, store.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	fake := twiliotest.NewFakeTwilio(t)
	client, err := twilioapi.New(twilioapi.Config{AccountSID: fake.AccountSID(), AuthToken: fake.AuthToken(), From: hotlineNum, APIURL: fake.URL()})
	if err != nil {
		t.Fatal(err)
	}
	disp, err := dispatch.New(dispatch.Config{Store: st, Sender: client, Escalation: config.DefaultEscalation(), PublicURL: publicURL, Logger: log, SendTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	e := &voiceEnv{t: t, st: st, disp: disp, twilio: fake, logs: logs, officers: map[string]hotline.Officer{}, dir: dir}
	err = st.Update(context.Background(), func(tx *store.Tx) error {
		for _, o := range []hotline.Officer{
			{Name: "Leyla Aliyeva", Phone: onDutyPhone, Role: hotline.RoleOfficer},
			{Name: "Rashad Mammadov", Phone: backupPhone, Role: hotline.RoleOfficer},
		} {
			added, err := tx.AddOfficer(o)
			if err != nil {
				return err
			}
			e.officers[o.Phone] = added
		}
		rota := dispatch.Rota{TimeZone: "Asia/Baku"}
		for _, day := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
			rota.Shifts = append(rota.Shifts, dispatch.Shift{Day: day, Start: "00:00", End: "24:00",
				Officer: e.officers[onDutyPhone].ID, Backup: e.officers[backupPhone].ID, Supervisor: e.officers[backupPhone].ID})
		}
		return dispatch.SaveRota(tx, rota)
	})
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := intake.NewVerifier(intake.VerifierConfig{
		PublicURL: publicURL, AuthTokens: []string{token}, AccountSID: accountSID, Numbers: []string{hotlineNum},
	})
	if err != nil {
		t.Fatal(err)
	}
	prompts, err := intake.NewPrompts()
	if err != nil {
		t.Fatal(err)
	}
	vc := config.DefaultVoice()
	if tune != nil {
		tune(&vc)
	}
	voice, err := intake.NewVoiceHandlers(intake.VoiceConfig{
		Verifier: verifier, Store: st, Voice: vc, Officers: disp, Prompts: prompts,
		OnInbound: disp.OnInbound, AfterStore: disp.Wake,
	})
	if err != nil {
		t.Fatal(err)
	}
	sms := intake.NewSMSHandler(intake.SMSConfig{
		Verifier: verifier, Store: st, Triager: triage.Default(), Officers: disp, OnInbound: disp.OnInbound,
	})
	r := mux.NewRouter()
	r.Handle("/twilio/sms", sms)
	r.HandleFunc("/twilio/voice", voice.Incoming)
	r.HandleFunc("/twilio/voice/menu", voice.Menu)
	r.HandleFunc("/twilio/voice/dial", voice.Dial)
	r.HandleFunc("/twilio/voice/whisper", voice.Whisper)
	r.HandleFunc("/twilio/voice/recorded", voice.Recorded)
	r.HandleFunc("/twilio/voice/status", voice.Status)
	r.Handle("/prompts/{lang}/{name}.wav", prompts)
	e.srv = httptest.NewServer(hlog.NewHandler(log)(r))
	t.Cleanup(e.srv.Close)
	return e
}

// post signs form for the public URL of path (with its query), as Twilio
// would, and posts it to the test server.
func (e *voiceEnv) post(path string, form url.Values) (int, string) {
	e.t.Helper()
	if form.Get("AccountSid") == "" {
		form.Set("AccountSid", accountSID)
	}
	req, err := twiliotest.NewSignedRequest(token, e.srv.URL+path, publicURL+path, form)
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// callerForm is the form of a request on the caller's leg.
func callerForm(sid string, kv ...string) url.Values {
	f := url.Values{"CallSid": {sid}, "From": {caller}, "To": {hotlineNum}, "CallStatus": {"in-progress"}, "Direction": {"inbound"}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return f
}

// step posts one caller-leg request and returns its checked TwiML.
func (e *voiceEnv) step(path, sid string, kv ...string) *twimlNode {
	e.t.Helper()
	status, body := e.post(path, callerForm(sid, kv...))
	if status != 200 {
		e.t.Fatalf("POST %s: got %d %q, want 200", path, status, body)
	}
	return parseTwiML(e.t, body)
}

// relative strips the public URL from a TwiML URL, giving a path to post to.
func relative(t testing.TB, u string) string {
	t.Helper()
	rest, ok := strings.CutPrefix(u, publicURL)
	if !ok {
		t.Fatalf("URL %q is not under the public URL", u)
	}
	return rest
}

func (e *voiceEnv) call(sid string) store.VoiceCall {
	e.t.Helper()
	c, err := e.st.CaseForCall(sid)
	if err != nil {
		e.t.Fatalf("call record: %v", err)
	}
	return c
}

func (e *voiceEnv) caseOf(sid string) hotline.Case {
	e.t.Helper()
	c, err := e.st.CaseByCode(e.call(sid).CaseCode)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// walk is a list of caller-leg requests (path and key/value pairs).
type walk [][]string

func menuKey(step, digits string) []string {
	return []string{"/twilio/voice/menu?step=" + step, "Digits", digits}
}
func menuTimeout(step string) []string {
	return []string{"/twilio/voice/menu?step=" + step + "&timeout=1"}
}

var (
	incoming = []string{"/twilio/voice"}
	toMenu   = walk{incoming, menuKey("language", "3")} // English
)

func (e *voiceEnv) walk(sid string, w walk) *twimlNode {
	e.t.Helper()
	var doc *twimlNode
	for _, s := range w {
		doc = e.step(s[0], sid, s[1:]...)
	}
	return doc
}

func plus(w walk, more ...[]string) walk { return append(slices.Clone(w), more...) }

// TestVoiceMenuTransitions walks each state of the menu with every key,
// timeout and hang-up, through signed requests, and checks the TwiML, the
// call's step, its path and its case.
func TestVoiceMenuTransitions(t *testing.T) {
	tests := []struct {
		label     string
		walk      walk
		wantVerbs []string // the document's verbs (nested as Parent/Child)
		wantPlays []string // prompts played, in order (nil: not checked)
		wantGath  string   // the <Gather>'s step, if any
		wantStep  string
		wantPath  string // the last entry of the call's path
		wantPrio  hotline.Priority
		wantLang  hotline.Lang
	}{
		{"greeting and language menu", walk{incoming},
			[]string{"Gather", "Gather/Play", "Gather/Play", "Gather/Play", "Gather/Play", "Gather/Play", "Gather/Play", "Gather/Play", "Gather/Play", "Gather/Play", "Redirect"},
			[]string{"az/hello", "ru/hello", "en/hello", "az/choose", "az/digit_1", "ru/choose", "ru/digit_2", "en/choose", "en/digit_3"},
			"language", "language", "language menu", hotline.P3, hotline.LangAz},
		{"language 1 is Azerbaijani", walk{incoming, menuKey("language", "1")}, nil,
			[]string{"az/menu_danger", "az/menu_connect", "az/menu_record", "az/menu_reference", "az/menu_repeat"},
			"menu", "menu", "main menu", hotline.P3, hotline.LangAz},
		{"language 2 is Russian", walk{incoming, menuKey("language", "2")}, nil,
			[]string{"ru/menu_danger", "ru/menu_connect", "ru/menu_record", "ru/menu_reference", "ru/menu_repeat"},
			"menu", "menu", "main menu", hotline.P3, hotline.LangRu},
		{"language 3 is English", toMenu, []string{"Gather", "Gather/Play", "Gather/Play", "Gather/Play", "Gather/Play", "Gather/Play", "Redirect"},
			nil, "menu", "menu", "main menu", hotline.P3, hotline.LangEn},
		{"language: a key not offered repeats the menu without the greeting", walk{incoming, menuKey("language", "7")}, nil,
			[]string{"az/choose", "az/digit_1", "ru/choose", "ru/digit_2", "en/choose", "en/digit_3"},
			"language", "language", "no choice, language menu repeated", hotline.P3, hotline.LangAz},
		{"language: no answer repeats once", walk{incoming, menuTimeout("language")}, nil,
			[]string{"az/choose", "az/digit_1", "ru/choose", "ru/digit_2", "en/choose", "en/digit_3"},
			"language", "language", "no choice, language menu repeated", hotline.P3, hotline.LangAz},
		{"language: no answer twice takes the default language", walk{incoming, menuTimeout("language"), menuTimeout("language")}, nil,
			[]string{"az/menu_danger", "az/menu_connect", "az/menu_record", "az/menu_reference", "az/menu_repeat"},
			"menu", "menu", "main menu", hotline.P3, hotline.LangAz},
		{"menu 9: danger, P1 and connect", plus(toMenu, menuKey("menu", "9")), []string{"Play", "Play", "Dial", "Dial/Number"},
			[]string{"en/danger", "en/connecting"}, "", "connecting", "pressed 9: in danger now", hotline.P1, hotline.LangEn},
		{"menu 1: connect", plus(toMenu, menuKey("menu", "1")), []string{"Play", "Dial", "Dial/Number"},
			[]string{"en/connecting"}, "", "connecting", "pressed 1: speak to an officer", hotline.P3, hotline.LangEn},
		{"menu 2: record", plus(toMenu, menuKey("menu", "2")), []string{"Play", "Record", "Play", "Hangup"},
			[]string{"en/record", "en/goodbye"}, "", "recording", "pressed 2: leave a message", hotline.P3, hotline.LangEn},
		{"menu 3: reference", plus(toMenu, menuKey("menu", "3")), []string{"Gather", "Gather/Play", "Redirect"},
			[]string{"en/reference_enter"}, "reference", "reference", "pressed 3: reference", hotline.P3, hotline.LangEn},
		{"menu *: repeat", plus(toMenu, menuKey("menu", "*")), nil,
			[]string{"en/menu_danger", "en/menu_connect", "en/menu_record", "en/menu_reference", "en/menu_repeat"},
			"menu", "menu", "pressed *: menu repeated", hotline.P3, hotline.LangEn},
		{"menu: a key not offered", plus(toMenu, menuKey("menu", "5")), nil,
			[]string{"en/no_input", "en/menu_danger", "en/menu_connect", "en/menu_record", "en/menu_reference", "en/menu_repeat"},
			"menu", "menu", "pressed a key the menu does not offer", hotline.P3, hotline.LangEn},
		{"menu: no answer repeats once", plus(toMenu, menuTimeout("menu")), nil,
			[]string{"en/no_input", "en/menu_danger", "en/menu_connect", "en/menu_record", "en/menu_reference", "en/menu_repeat"},
			"menu", "menu", "no choice, main menu repeated", hotline.P3, hotline.LangEn},
		{"menu: no answer twice offers a message", plus(toMenu, menuTimeout("menu"), menuTimeout("menu")), []string{"Play", "Play", "Record", "Play", "Hangup"},
			[]string{"en/no_input", "en/record", "en/goodbye"}, "", "recording", "no choice again: offered a message", hotline.P3, hotline.LangEn},
		{"reference: no keys goes back to the menu", plus(toMenu, menuKey("menu", "3"), menuTimeout("reference")), nil,
			[]string{"en/no_input", "en/menu_danger", "en/menu_connect", "en/menu_record", "en/menu_reference", "en/menu_repeat"},
			"menu", "menu", "no reference keyed", hotline.P3, hotline.LangEn},
		{"reference: a wrong code asks again", plus(toMenu, menuKey("menu", "3"), menuKey("reference", "222222#")), nil,
			[]string{"en/reference_wrong", "en/reference_enter"}, "reference", "reference", "wrong reference (1 of 3)", hotline.P3, hotline.LangEn},
		{"reference: three wrong codes end gently", plus(toMenu, menuKey("menu", "3"), menuKey("reference", "222222#"), menuKey("reference", "333333"), menuKey("reference", "44")), nil,
			[]string{"en/reference_end", "en/menu_danger", "en/menu_connect", "en/menu_record", "en/menu_reference", "en/menu_repeat"},
			"menu", "menu", "wrong reference (3 of 3)", hotline.P3, hotline.LangEn},
		{"reference: after three wrong codes 3 is not offered again", plus(toMenu, menuKey("menu", "3"), menuKey("reference", "222222#"), menuKey("reference", "333333"), menuKey("reference", "44"), menuKey("menu", "3")), nil,
			[]string{"en/reference_end", "en/menu_danger", "en/menu_connect", "en/menu_record", "en/menu_reference", "en/menu_repeat"},
			"menu", "menu", "pressed 3: reference", hotline.P3, hotline.LangEn},
		{"dial: no answer rings the backup", plus(toMenu, menuKey("menu", "1"), []string{"/twilio/voice/dial?n=0&attempt=0", "DialCallStatus", "no-answer"}),
			[]string{"Dial", "Dial/Number"}, nil, "", "connecting", "officer {onduty} (on duty): no-answer", hotline.P3, hotline.LangEn},
		{"dial: answered without the whisper key is not accepted", plus(toMenu, menuKey("menu", "1"), []string{"/twilio/voice/dial?n=0&attempt=0", "DialCallStatus", "completed"}),
			[]string{"Dial", "Dial/Number"}, nil, "", "connecting", "officer {onduty} (on duty): not accepted", hotline.P3, hotline.LangEn},
		{"dial: the caller hung up while it rang: nobody else rings", plus(toMenu, menuKey("menu", "1"), []string{"/twilio/voice/dial?n=0&attempt=0", "DialCallStatus", "no-answer", "CallStatus", "completed"}),
			[]string{"Play", "Hangup"}, []string{"en/goodbye"}, "", "connecting", "officer {onduty} (on duty): no-answer", hotline.P3, hotline.LangEn},
		{"reference: more keys than a code is a wrong code", plus(toMenu, menuKey("menu", "3"), menuKey("reference", "2222222222222222222222#")), nil,
			[]string{"en/reference_wrong", "en/reference_enter"}, "reference", "reference", "wrong reference (1 of 3)", hotline.P3, hotline.LangEn},
		{"dial: nobody left offers a message", plus(toMenu, menuKey("menu", "1"), []string{"/twilio/voice/dial?n=0&attempt=0", "DialCallStatus", "busy"}, []string{"/twilio/voice/dial?n=1&attempt=1", "DialCallStatus", "failed"}),
			[]string{"Play", "Record", "Play", "Hangup"}, []string{"en/no_officer", "en/goodbye"}, "", "recording", "no officer answered: offered a message", hotline.P3, hotline.LangEn},
		{"record: the reference digit by digit and the safety line", plus(toMenu, menuKey("menu", "2"), []string{"/twilio/voice/recorded", "RecordingDuration", "42"}),
			nil, nil, "", "finished", "left a message (42 s)", hotline.P3, hotline.LangEn},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			e := newVoiceEnv(t, nil)
			sid := twiliotest.NewSID("CA")
			doc := e.walk(sid, tt.walk)
			if tt.wantVerbs != nil && !slices.Equal(doc.verbs(), tt.wantVerbs) {
				t.Errorf("verbs %v, want %v", doc.verbs(), tt.wantVerbs)
			}
			if tt.wantPlays != nil && !slices.Equal(doc.plays(), tt.wantPlays) {
				t.Errorf("plays %v, want %v", doc.plays(), tt.wantPlays)
			}
			if tt.wantGath != "" && gatherStep(t, doc) != tt.wantGath {
				t.Errorf("gather step %q, want %q", gatherStep(t, doc), tt.wantGath)
			}
			call := e.call(sid)
			wantPath := strings.ReplaceAll(tt.wantPath, "{onduty}", e.officers[onDutyPhone].ID)
			if call.Step != tt.wantStep || call.Path[len(call.Path)-1] != wantPath {
				t.Errorf("step %q path %q, want step %q path ending %q", call.Step, call.Path, tt.wantStep, wantPath)
			}
			c := e.caseOf(sid)
			if c.Priority != tt.wantPrio || c.Lang != tt.wantLang || c.Channel != hotline.ChannelVoice || c.ReporterPhone != caller {
				t.Errorf("case %s %s %s (phone kept: %v), want %s %s voice", c.Priority, c.Lang, c.Channel, c.ReporterPhone == caller, tt.wantPrio, tt.wantLang)
			}
			if tt.wantStep == "finished" {
				want := []string{"en/saved", "en/reference_is"}
				for _, d := range store.KeypadDigits(c.Code) {
					want = append(want, "en/digit_"+string(d))
				}
				want = append(want, want[1:]...)
				want = append(want, "en/safety")
				if !slices.Equal(doc.plays(), want) {
					t.Errorf("after the message: plays %v, want %v", doc.plays(), want)
				}
			}
			// A hang-up now still leaves the case, with where it ended.
			status, body := e.post("/twilio/voice/status", callerForm(sid, "CallStatus", "completed", "CallDuration", "61"))
			if status != 204 {
				t.Fatalf("status callback: %d %q", status, body)
			}
			call = e.call(sid)
			wantEnd := map[string]string{
				"language": "call ended at the language menu", "menu": "call ended at the main menu",
				"reference": "call ended while keying a reference", "connecting": "call ended while connecting to an officer",
				"recording": "call ended while recording a message", "finished": "call ended after the message",
			}[tt.wantStep]
			if !call.Ended || call.Seconds != 61 || call.Path[len(call.Path)-1] != wantEnd {
				t.Errorf("after hang-up: ended %v, %d s, path %q; want ended, 61 s, ending %q", call.Ended, call.Seconds, call.Path, wantEnd)
			}
			if c := e.caseOf(sid); c.Priority != tt.wantPrio {
				t.Errorf("after hang-up: priority %s, want %s", c.Priority, tt.wantPrio)
			}
			msgs, err := e.st.CaseMessages(e.call(sid).CaseID)
			if err != nil || len(msgs) != 1 || !strings.Contains(msgs[0].Body, "1m1s") || !strings.Contains(msgs[0].Body, wantEnd) {
				t.Errorf("case messages %+v (%v), want one summary with the duration and %q", msgs, err, wantEnd)
			}
			for _, phone := range []string{caller, onDutyPhone, backupPhone} {
				leaktest.Check(t, "log", e.logs.String(), leaktest.PhoneForms(phone)...)
			}
		})
	}
}

// TestVoiceStatusForUnknownCallLeavesACase: a call whose first webhook was
// never stored (the server was down) still leaves a case when it ends;
// statuses before the end change nothing.
func TestVoiceStatusForUnknownCallLeavesACase(t *testing.T) {
	e := newVoiceEnv(t, nil)
	sid := twiliotest.NewSID("CA")
	if status, _ := e.post("/twilio/voice/status", callerForm(sid, "CallStatus", "ringing")); status != 204 {
		t.Fatalf("ringing: %d, want 204", status)
	}
	if _, err := e.st.CaseForCall(sid); !errors.Is(err, store.ErrUnknownCall) {
		t.Fatalf("a ringing status made a call record (%v)", err)
	}
	if status, _ := e.post("/twilio/voice/status", callerForm(sid, "CallStatus", "no-answer")); status != 204 {
		t.Fatalf("no-answer: %d, want 204", status)
	}
	call := e.call(sid)
	if !call.Ended || call.Path[len(call.Path)-1] != "call ended at the language menu" {
		t.Fatalf("call %+v", call)
	}
	// The same callback again adds nothing.
	e.post("/twilio/voice/status", callerForm(sid, "CallStatus", "completed", "CallDuration", "3"))
	if again := e.call(sid); len(again.Path) != len(call.Path) {
		t.Fatalf("a repeated end changed the path: %q", again.Path)
	}
	if c := e.caseOf(sid); c.Priority != hotline.P3 || c.Channel != hotline.ChannelVoice {
		t.Fatalf("case %+v", c)
	}
}

// TestVoiceIncomingIsIdempotent: Twilio asking again for a call's first
// TwiML neither opens a second case nor restarts the menu.
func TestVoiceIncomingIsIdempotent(t *testing.T) {
	e := newVoiceEnv(t, nil)
	sid := twiliotest.NewSID("CA")
	e.walk(sid, toMenu)
	doc := e.step("/twilio/voice", sid)
	if gatherStep(t, doc) != "menu" {
		t.Fatalf("a repeated first webhook restarted the call: %v", doc.plays())
	}
	cases, err := e.st.ListCases()
	if err != nil || len(cases) != 1 {
		t.Fatalf("%d cases (%v), want 1", len(cases), err)
	}
}

// TestVoiceDangerTakesTheP1SMSAlertPath: a caller pressing 9 gets the
// alert a P1 text gets: the same hook opens a P1 alert whose first step
// sends the same jobs to the same officer through Twilio.
func TestVoiceDangerTakesTheP1SMSAlertPath(t *testing.T) {
	type outcome struct {
		priority hotline.Priority
		state    hotline.AlertState
		raised   bool
		jobs     []string // kind → officer
		sms      []string // recipients at the fake Twilio
		calls    []string
	}
	observe := func(e *voiceEnv, caseID string) outcome {
		t.Helper()
		if err := e.disp.RunDue(context.Background()); err != nil {
			t.Fatal(err)
		}
		var o outcome
		err := e.st.View(func(tx *store.Tx) error {
			a, ok, err := tx.OpenAlertForCase(caseID)
			if err != nil || !ok {
				return errors.Join(err, errors.New("no open alert"))
			}
			o.priority, o.state, o.raised = a.Priority, a.State, a.Raised
			jobs, err := tx.Jobs(a.ID)
			for _, j := range jobs {
				o.jobs = append(o.jobs, string(j.Kind)+"→"+j.OfficerID+":"+string(j.State))
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range e.twilio.Messages() {
			o.sms = append(o.sms, m.To)
		}
		for _, c := range e.twilio.Calls() {
			o.calls = append(o.calls, c.To)
		}
		slices.Sort(o.jobs)
		return o
	}

	smsEnv := newVoiceEnv(t, nil)
	status, body := smsEnv.post("/twilio/sms", url.Values{"MessageSid": {twiliotest.NewSID("SM")}, "From": {caller}, "To": {hotlineNum}, "Body": {p1Text}})
	if status != 200 {
		t.Fatalf("sms: %d %q", status, body)
	}
	cases, err := smsEnv.st.ListCases()
	if err != nil || len(cases) != 1 || cases[0].Priority != hotline.P1 {
		t.Fatalf("the P1 text's case: %+v %v", cases, err)
	}
	bySMS := observe(smsEnv, cases[0].ID)

	callEnv := newVoiceEnv(t, nil)
	sid := twiliotest.NewSID("CA")
	dialDoc := callEnv.walk(sid, plus(toMenu, menuKey("menu", "9")))
	byVoice := observe(callEnv, callEnv.call(sid).CaseID)

	// Officer ids differ between the two stores: compare by phone.
	norm := func(e *voiceEnv, jobs []string) []string {
		out := slices.Clone(jobs)
		for phone, o := range e.officers {
			for i := range out {
				out[i] = strings.ReplaceAll(out[i], o.ID, phone)
			}
		}
		return out
	}
	bySMS.jobs, byVoice.jobs = norm(smsEnv, bySMS.jobs), norm(callEnv, byVoice.jobs)
	if bySMS.priority != hotline.P1 || len(bySMS.jobs) == 0 || len(bySMS.sms)+len(bySMS.calls) == 0 {
		t.Fatalf("the P1 text raised no alert that went out: %+v", bySMS)
	}
	if !slices.Equal(bySMS.jobs, byVoice.jobs) || !slices.Equal(bySMS.sms, byVoice.sms) || !slices.Equal(bySMS.calls, byVoice.calls) ||
		bySMS.priority != byVoice.priority || bySMS.state != byVoice.state || bySMS.raised != byVoice.raised {
		t.Fatalf("pressing 9 took another path than a P1 text:\n sms   %+v\n voice %+v", bySMS, byVoice)
	}
	// The officer on duty accepts the caller on the whisper: the alert is
	// theirs (acknowledged by call) and stops escalating.
	status, body = callEnv.post(relative(t, dialDoc.find("Number").Attrs["url"]), url.Values{"CallSid": {twiliotest.NewSID("CA")}, "From": {hotlineNum}, "To": {onDutyPhone}, "Digits": {"1"}})
	if status != 200 {
		t.Fatalf("whisper: %d %q", status, body)
	}
	callEnv.st.View(func(tx *store.Tx) error {
		all, err := tx.Alerts()
		if err != nil || len(all) != 1 {
			t.Fatalf("%d alerts (%v), want 1", len(all), err)
		}
		a := all[0]
		if a.State != hotline.AlertAcknowledged || a.AckedBy != callEnv.officers[onDutyPhone].ID || a.AckedVia != "call" {
			t.Errorf("after the officer accepted the caller: alert %s by %s via %s, want acknowledged by the officer on duty via call", a.State, a.AckedBy, a.AckedVia)
		}
		return nil
	})
	// Pressing 9 again (the menu came back) opens no second alert.
	callEnv.step("/twilio/voice/menu?step=menu", sid, "Digits", "9")
	var alerts []hotline.Alert
	callEnv.st.View(func(tx *store.Tx) error { alerts, err = tx.Alerts(); return err })
	if len(alerts) != 1 {
		t.Fatalf("%d alerts after 9 twice, want 1", len(alerts))
	}
}

// TestWhisperNeedsTheKeypress: the caller is put through only when the
// officer presses 1 on the whisper; a pickup without it (a voicemail box)
// is "not accepted" and the backup rings.
func TestWhisperNeedsTheKeypress(t *testing.T) {
	e := newVoiceEnv(t, nil)
	sid := twiliotest.NewSID("CA")
	doc := e.walk(sid, plus(toMenu, menuKey("menu", "1")))
	dial, number := doc.find("Dial"), doc.find("Number")
	if dial.Attrs["callerId"] != hotlineNum {
		t.Fatalf("callerId %q, want the hotline number %s (the officer must not see the caller's)", dial.Attrs["callerId"], hotlineNum)
	}
	if number.Text != onDutyPhone {
		t.Fatal("the first <Number> is not the officer on duty")
	}
	if strings.Contains(doc.find("Number").Attrs["url"], strings.TrimPrefix(caller, "+")) || strings.Contains(doc.find("Number").Attrs["url"], sid) {
		t.Fatal("the whisper URL carries the caller's number or CallSid")
	}
	whisper := relative(t, number.Attrs["url"])
	officerLeg := func(kv ...string) (int, *twimlNode) {
		f := url.Values{"CallSid": {twiliotest.NewSID("CA")}, "From": {hotlineNum}, "To": {onDutyPhone}, "CallStatus": {"in-progress"}, "Direction": {"outbound-dial"}}
		for i := 0; i+1 < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		status, body := e.post(whisper, f)
		if status != 200 {
			return status, nil
		}
		return status, parseTwiML(t, body)
	}
	// The officer's phone answers: the whisper asks for 1, then hangs up.
	_, w := officerLeg()
	if !slices.Equal(w.verbs(), []string{"Gather", "Gather/Play", "Gather/Play", "Hangup"}) || !slices.Equal(w.plays(), []string{"az/whisper", "az/whisper"}) {
		t.Fatalf("whisper %v %v", w.verbs(), w.plays())
	}
	if relative(t, w.find("Gather").Attrs["action"]) != whisper {
		t.Fatal("the whisper's <Gather> does not come back to the whisper")
	}
	// Another key hangs up the officer's leg; the call is not joined.
	if _, w := officerLeg("Digits", "2"); !slices.Equal(w.verbs(), []string{"Hangup"}) {
		t.Fatalf("key 2 on the whisper: %v", w.verbs())
	}
	if got := e.call(sid).Attempts[0].Outcome; got != "ringing" {
		t.Fatalf("attempt after key 2: %q", got)
	}
	// A whisper request on the caller's side (To our number) is refused:
	// the officer's leg comes From the hotline number.
	if status, _ := e.post(whisper, url.Values{"CallSid": {twiliotest.NewSID("CA")}, "From": {onDutyPhone}, "To": {"+994509999999"}}); status != 403 {
		t.Fatalf("whisper not from the hotline number: %d, want 403", status)
	}
	// The <Dial> ends without the keypress: the backup rings next.
	next := e.step("/twilio/voice/dial?n=0&attempt=0", sid, "DialCallStatus", "completed")
	if next.find("Number") == nil || next.find("Number").Text != backupPhone {
		t.Fatalf("after an unaccepted answer: %v, want the backup rung", next.verbs())
	}
	// The backup presses 1: accepted, and an empty answer bridges the call.
	whisper = relative(t, next.find("Number").Attrs["url"])
	if _, w := officerLeg("Digits", "1"); len(w.Children) != 0 {
		t.Fatalf("accepting: %v, want an empty <Response>", w.verbs())
	}
	call := e.call(sid)
	if call.Attempts[0].Outcome != "not accepted" || call.Attempts[1].Outcome != "accepted" || call.Step != "connected" {
		t.Fatalf("attempts %+v step %q", call.Attempts, call.Step)
	}
	end := e.step("/twilio/voice/dial?n=1&attempt=1", sid, "DialCallStatus", "completed")
	if !slices.Equal(end.verbs(), []string{"Play", "Hangup"}) {
		t.Fatalf("after the conversation: %v", end.verbs())
	}
	if p := e.call(sid).Path; p[len(p)-1] != "officer "+e.officers[backupPhone].ID+" (backup) spoke with the caller" {
		t.Fatalf("path %q", p)
	}
}

// TestRecordVerb: <Record> carries the agreed callback and bounds.
func TestRecordVerb(t *testing.T) {
	e := newVoiceEnv(t, func(v *config.Voice) { v.MaxMessage = config.Duration{Duration: 90 * time.Second} })
	doc := e.walk(twiliotest.NewSID("CA"), plus(toMenu, menuKey("menu", "2")))
	rec := doc.find("Record")
	want := map[string]string{
		"action": publicURL + "/twilio/voice/recorded", "method": "POST", "maxLength": "90", "finishOnKey": "#",
		"playBeep": "true", "timeout": "10", "recordingStatusCallback": publicURL + "/twilio/recording",
		"recordingStatusCallbackEvent": "completed", "recordingStatusCallbackMethod": "POST",
	}
	for k, v := range want {
		if rec.Attrs[k] != v {
			t.Errorf("<Record %s=%q>, want %q", k, rec.Attrs[k], v)
		}
	}
}

// TestVoiceReferenceJoinsTheCase: keying an SMS case's code on the keypad
// (letters as the keys they are printed on) joins the call to that case,
// from another phone, marked "caller gave the reference"; the case the
// call opened is gone.
func TestVoiceReferenceJoinsTheCase(t *testing.T) {
	e := newVoiceEnv(t, nil)
	status, _ := e.post("/twilio/sms", url.Values{"MessageSid": {twiliotest.NewSID("SM")}, "From": {"+994551112233"}, "To": {hotlineNum}, "Body": {"salam"}})
	if status != 200 {
		t.Fatal(status)
	}
	cases, _ := e.st.ListCases()
	earlier := cases[0]
	sid := twiliotest.NewSID("CA")
	doc := e.walk(sid, plus(toMenu, menuKey("menu", "3"), menuKey("reference", store.KeypadDigits(earlier.Code)+"#")))
	if !slices.Equal(doc.plays()[:1], []string{"en/reference_ok"}) || gatherStep(t, doc) != "menu" {
		t.Fatalf("after the reference: %v", doc.plays())
	}
	call := e.call(sid)
	if !call.Joined || call.CaseID != earlier.ID || !slices.Contains(call.Path, "caller gave the reference") {
		t.Fatalf("call %+v, want joined to %s", call, earlier.Code)
	}
	if cases, _ := e.st.ListCases(); len(cases) != 1 {
		t.Fatalf("%d cases, want only the earlier one", len(cases))
	}
	// The message left now lands on the earlier case.
	e.walk(sid, walk{menuKey("menu", "2"), {"/twilio/voice/recorded", "RecordingDuration", "5"}})
	msgs, err := e.st.CaseMessages(earlier.ID)
	if err != nil || len(msgs) != 2 || msgs[1].Channel != hotline.ChannelVoice || !strings.Contains(msgs[1].Body, "caller gave the reference") {
		t.Fatalf("earlier case's messages %+v %v", msgs, err)
	}
	if c, _ := e.st.CaseByCode(earlier.Code); c.ReporterPhone != "+994551112233" || c.Messages != 2 {
		t.Fatalf("the earlier case changed owner or count: %+v", c)
	}
	// Nothing in the file fails its checks after the move.
	n, err := e.st.VerifyRecords(func(bucket, id string, err error) { t.Errorf("%s %s: %v", bucket, id, err) })
	if err != nil || n == 0 {
		t.Fatal(n, err)
	}
}

// TestVoiceReferenceTriesAreLimited: one number may key few references,
// and all numbers together a bounded number an hour.
func TestVoiceReferenceTriesAreLimited(t *testing.T) {
	e := newVoiceEnv(t, func(v *config.Voice) { v.ReferenceTriesPerCaller, v.ReferenceTriesPerHour = 2, 3 })
	try := func(from string) []string {
		sid := twiliotest.NewSID("CA")
		for _, s := range plus(toMenu, menuKey("menu", "3")) {
			e.post(s[0], callerForm(sid, append([]string{"From", from}, s[1:]...)...))
		}
		status, body := e.post("/twilio/voice/menu?step=reference", callerForm(sid, "From", from, "Digits", "999999#"))
		if status != 200 {
			t.Fatal(status, body)
		}
		return parseTwiML(t, body).plays()
	}
	a, b := "+994551110001", "+994551110002"
	for i, want := range []struct {
		from  string
		first string
	}{{a, "en/reference_wrong"}, {a, "en/reference_wrong"}, {a, "en/reference_busy"}, {b, "en/reference_wrong"}, {b, "en/reference_busy"}} {
		if got := try(want.from); got[0] != want.first {
			t.Errorf("try %d from %s: first prompt %s, want %s", i+1, want.from, got[0], want.first)
		}
	}
}

// TestVoiceRejects: voice webhooks get the SMS webhook's checks.
func TestVoiceRejects(t *testing.T) {
	e := newVoiceEnv(t, nil)
	sid := twiliotest.NewSID("CA")
	e.walk(sid, walk{incoming})
	tests := []struct {
		label string
		path  string
		form  url.Values
		sign  func(*http.Request)
		want  int
	}{
		{"unsigned", "/twilio/voice", callerForm(sid), func(r *http.Request) { r.Header.Del("X-Twilio-Signature") }, 403},
		{"wrong signature", "/twilio/voice", callerForm(sid), func(r *http.Request) { r.Header.Set("X-Twilio-Signature", "AAAAAAAAAAAAAAAAAAAAAAAAAAA=") }, 403},
		{"another account", "/twilio/voice", callerForm(sid, "AccountSid", "AC00000000000000000000000000000001"), nil, 403},
		{"another number", "/twilio/voice", callerForm(sid, "To", "+994125559999"), nil, 403},
		{"no CallSid", "/twilio/voice", callerForm(""), nil, 400},
		{"CallSid not Twilio's shape", "/twilio/voice", callerForm("CA123"), nil, 400},
		{"Digits not keypad keys", "/twilio/voice/menu?step=menu", callerForm(sid, "Digits", "9a"), nil, 400},
		{"unknown step", "/twilio/voice/menu?step=admin", callerForm(sid, "Digits", "9"), nil, 400},
		{"unknown CallStatus", "/twilio/voice/status", callerForm(sid, "CallStatus", "exploded"), nil, 400},
		{"CallDuration not a number", "/twilio/voice/status", callerForm(sid, "CallStatus", "completed", "CallDuration", "-4"), nil, 400},
		{"menu for a call never started", "/twilio/voice/menu?step=menu", callerForm(twiliotest.NewSID("CA"), "Digits", "9"), nil, 400},
		{"dial with a bad attempt", "/twilio/voice/dial?n=x&attempt=0", callerForm(sid), nil, 400},
		{"whisper without its call", "/twilio/voice/whisper?attempt=0", url.Values{"CallSid": {twiliotest.NewSID("CA")}, "From": {hotlineNum}, "To": {onDutyPhone}}, nil, 400},
		{"whisper for an unknown call", "/twilio/voice/whisper?attempt=0&call=00", url.Values{"CallSid": {twiliotest.NewSID("CA")}, "From": {hotlineNum}, "To": {onDutyPhone}, "Digits": {"1"}}, nil, 400},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			tt.form.Set("AccountSid", cmpOr(tt.form.Get("AccountSid"), accountSID))
			req, err := twiliotest.NewSignedRequest(token, e.srv.URL+tt.path, publicURL+tt.path, tt.form)
			if err != nil {
				t.Fatal(err)
			}
			if tt.sign != nil {
				tt.sign(req)
			}
			resp, err := e.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
	if c := e.call(sid); len(c.Path) != 1 {
		t.Fatalf("refused requests changed the call: %q", c.Path)
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// TestPromptsServed: every prompt is a cacheable 8 kHz mono WAV; nothing
// else is served under /prompts/.
func TestPromptsServed(t *testing.T) {
	e := newVoiceEnv(t, nil)
	resp, err := e.srv.Client().Get(e.srv.URL + "/prompts/az/menu_danger.wav")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "audio/wav" || !strings.HasPrefix(resp.Header.Get("Cache-Control"), "public, max-age=") || resp.Header.Get("ETag") == "" {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
	if len(data) < 44 || string(data[:4]) != "RIFF" || string(data[8:12]) != "WAVE" {
		t.Fatal("not a WAV file")
	}
	channels, rate, bits := binary.LittleEndian.Uint16(data[22:]), binary.LittleEndian.Uint32(data[24:]), binary.LittleEndian.Uint16(data[34:])
	if channels != 1 || rate != 8000 || bits != 16 {
		t.Fatalf("%d channels, %d Hz, %d bits; want 1, 8000, 16", channels, rate, bits)
	}
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/prompts/az/menu_danger.wav", nil)
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	if resp, err := e.srv.Client().Do(req); err != nil || resp.StatusCode != http.StatusNotModified {
		t.Fatalf("revalidation: %v %v", resp.StatusCode, err)
	}
	for _, p := range []string{"/prompts/az/nope.wav", "/prompts/xx/hello.wav", "/prompts/az/", "/prompts/az/hello.mp3"} {
		resp, err := e.srv.Client().Get(e.srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("GET %s: %d, want 404", p, resp.StatusCode)
		}
	}
}

// TestVoiceReferenceReopensAClosedCase: a caller who keys the reference of
// a closed case brings it back into the queue (open, in progress, audited
// as case.reopen via call), and pressing 9 then makes it P1 with an open
// alert; a closed case would hide both from every officer.
func TestVoiceReferenceReopensAClosedCase(t *testing.T) {
	e := newVoiceEnv(t, nil)
	status, _ := e.post("/twilio/sms", url.Values{"MessageSid": {twiliotest.NewSID("SM")}, "From": {"+994551112233"}, "To": {hotlineNum}, "Body": {"salam"}})
	if status != 200 {
		t.Fatal(status)
	}
	cases, _ := e.st.ListCases()
	earlier := cases[0]
	if err := e.st.Update(context.Background(), func(tx *store.Tx) error {
		return tx.SetCaseState(earlier.ID, hotline.WorkClosed, e.officers[onDutyPhone].ID, "no further contact")
	}); err != nil {
		t.Fatal(err)
	}
	if c, _ := e.st.CaseByCode(earlier.Code); c.Status != hotline.CaseClosed {
		t.Fatalf("the case is %s after closing", c.Status)
	}
	sid := twiliotest.NewSID("CA")
	e.walk(sid, plus(toMenu, menuKey("menu", "3"), menuKey("reference", store.KeypadDigits(earlier.Code)+"#")))
	if call := e.call(sid); !call.Joined || call.CaseID != earlier.ID {
		t.Fatalf("call %+v, want joined to %s", call, earlier.Code)
	}
	if c := e.caseOf(sid); c.Status != hotline.CaseOpen {
		t.Fatalf("after the reference the case is %s, want open (back in the queue)", c.Status)
	}
	var work hotline.CaseWork
	e.st.View(func(tx *store.Tx) (err error) { work, err = tx.CaseWork(earlier.ID); return err })
	if work.State != hotline.WorkInProgress || !work.History[len(work.History)-1].Reopened {
		t.Fatalf("workflow %+v, want in progress, reopened", work)
	}
	audit, err := e.st.Audit(store.AuditFilter{Action: "case.reopen", Object: earlier.Code})
	if err != nil || len(audit) != 1 || audit[0].Via != "call" {
		t.Fatalf("case.reopen audit %+v %v", audit, err)
	}
	e.step("/twilio/voice/menu?step=menu", sid, "Digits", "9")
	if err := e.disp.RunDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c := e.caseOf(sid); c.Status != hotline.CaseOpen || c.Priority != hotline.P1 {
		t.Fatalf("after 9 the case is %s %s, want open P1", c.Status, c.Priority)
	}
	e.st.View(func(tx *store.Tx) error {
		if a, ok, err := tx.OpenAlertForCase(earlier.ID); err != nil || !ok || a.Priority != hotline.P1 {
			t.Errorf("after 9: alert %+v open %v (%v), want an open P1 alert", a, ok, err)
		}
		return nil
	})
}

// TestVoiceWithheldNumbersDoNotShareOneLimit: every withheld caller ID
// Twilio sends counts per call, not as one caller, and withheld callers
// have their own hourly budget (a quarter of reference_tries_per_hour),
// so neither side can use up the other's tries.
func TestVoiceWithheldNumbersDoNotShareOneLimit(t *testing.T) {
	try := func(e *voiceEnv, sid, from string, walkIn bool) string {
		t.Helper()
		if walkIn {
			for _, s := range plus(toMenu, menuKey("menu", "3")) {
				e.post(s[0], callerForm(sid, append([]string{"From", from}, s[1:]...)...))
			}
		}
		status, body := e.post("/twilio/voice/menu?step=reference", callerForm(sid, "From", from, "Digits", "999999#"))
		if status != 200 {
			t.Fatal(status, body)
		}
		return parseTwiML(t, body).plays()[0]
	}
	// One withheld caller at the per-caller limit keeps out no other.
	e := newVoiceEnv(t, func(v *config.Voice) { v.ReferenceTriesPerCaller, v.ReferenceTriesPerHour = 1, 8 })
	first := twiliotest.NewSID("CA")
	for i, want := range []struct {
		sid, from, first string
		walkIn           bool
	}{
		{first, "anonymous", "en/reference_wrong", true},
		{first, "anonymous", "en/reference_busy", false}, // this call's one try is used
		{twiliotest.NewSID("CA"), "Restricted", "en/reference_wrong", true},
		{twiliotest.NewSID("CA"), "+266696687", "en/reference_busy", true}, // withheld budget (8/4) used
		{twiliotest.NewSID("CA"), "", "en/reference_busy", true},
		{twiliotest.NewSID("CA"), "+994551110001", "en/reference_wrong", true},
	} {
		if got := try(e, want.sid, want.from, want.walkIn); got != want.first {
			t.Errorf("try %d from %q: first prompt %s, want %s", i+1, want.from, got, want.first)
		}
	}
	if c := e.caseOf(first); c.ReporterPhone != "" {
		t.Errorf("a withheld caller's case has the number %q", c.ReporterPhone)
	}
	// Known numbers using up their hourly budget keep out no withheld
	// caller, and withheld callers none of them.
	e = newVoiceEnv(t, func(v *config.Voice) { v.ReferenceTriesPerCaller, v.ReferenceTriesPerHour = 1, 4 })
	for i, want := range []struct{ from, first string }{
		{"+994551110001", "en/reference_wrong"}, {"+994551110002", "en/reference_wrong"},
		{"+994551110003", "en/reference_wrong"}, {"+994551110004", "en/reference_wrong"},
		{"+994551110005", "en/reference_busy"},
		{"Anonymous", "en/reference_wrong"},
		{"anonymous", "en/reference_busy"},
	} {
		if got := try(e, twiliotest.NewSID("CA"), want.from, true); got != want.first {
			t.Errorf("second line, try %d from %q: first prompt %s, want %s", i+1, want.from, got, want.first)
		}
	}
}

// TestVoiceNineOnAReopenedP1CaseAlertsAnew: a P1 case closed after its
// alert was dealt with, rejoined by a caller who then presses 9, raises a
// new alert: its priority does not rise, but nobody was alerted for it.
func TestVoiceNineOnAReopenedP1CaseAlertsAnew(t *testing.T) {
	e := newVoiceEnv(t, nil)
	status, _ := e.post("/twilio/sms", url.Values{"MessageSid": {twiliotest.NewSID("SM")}, "From": {"+994551112233"}, "To": {hotlineNum}, "Body": {p1Text}})
	if status != 200 {
		t.Fatal(status)
	}
	cases, _ := e.st.ListCases()
	earlier := cases[0]
	if earlier.Priority != hotline.P1 {
		t.Fatalf("the text's case is %s, want P1", earlier.Priority)
	}
	if err := e.disp.RunDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := e.st.Update(context.Background(), func(tx *store.Tx) error {
		return tx.SetCaseState(earlier.ID, hotline.WorkClosed, e.officers[onDutyPhone].ID, "dealt with")
	}); err != nil {
		t.Fatal(err)
	}
	var before []hotline.Alert
	e.st.View(func(tx *store.Tx) (err error) { before, err = tx.Alerts(); return err })
	sid := twiliotest.NewSID("CA")
	e.walk(sid, plus(toMenu, menuKey("menu", "3"), menuKey("reference", store.KeypadDigits(earlier.Code)+"#"), menuKey("menu", "9")))
	if err := e.disp.RunDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c := e.caseOf(sid); c.ID != earlier.ID || c.Status != hotline.CaseOpen || c.Priority != hotline.P1 {
		t.Fatalf("after 9 the case is %+v, want the earlier case, open, P1", c)
	}
	var after []hotline.Alert
	e.st.View(func(tx *store.Tx) (err error) { after, err = tx.Alerts(); return err })
	if len(after) != len(before)+1 || after[0].CaseID != earlier.ID || after[0].State != hotline.AlertOpen {
		t.Fatalf("alerts before %d, after %+v: want a new open alert for the case", len(before), after)
	}
}
