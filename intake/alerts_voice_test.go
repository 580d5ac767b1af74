package intake_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/dispatch"
	"github.com/hotline-az/hotline/intake"
	"github.com/hotline-az/hotline/store"
	"github.com/hotline-az/hotline/twiliotest"
)

// scriptedAlerts answers the alert call's questions with a fixed prompt
// and acknowledgement.
type scriptedAlerts struct {
	prompt dispatch.CallPrompt
	ack    dispatch.AckResult
}

func (a *scriptedAlerts) Status(context.Context, string, string, string, int) error { return nil }
func (a *scriptedAlerts) CallPrompt(string) (dispatch.CallPrompt, error)            { return a.prompt, nil }
func (a *scriptedAlerts) AcknowledgeByCall(context.Context, string) (dispatch.AckResult, error) {
	return a.ack, nil
}

// alertCallServer serves the alert call and the prompts on a real
// listener, as the public listener does.
func alertCallServer(t *testing.T, alerts intake.Alerts, defaultLang hotline.Lang) *httptest.Server {
	t.Helper()
	prompts, err := intake.NewPrompts()
	if err != nil {
		t.Fatal(err)
	}
	h := &intake.AlertHandlers{Verifier: mustVerifier(t, nil), Alerts: alerts, DefaultLang: defaultLang}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /twilio/alert-call", h.AlertCall)
	mux.Handle("GET /prompts/", prompts)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// wantPromptsServed fetches every played prompt from srv as Twilio would
// (its URL under the public URL, mapped to the test listener).
func wantPromptsServed(t *testing.T, srv *httptest.Server, doc *twimlNode) {
	t.Helper()
	for _, p := range doc.plays() {
		resp, err := srv.Client().Get(srv.URL + "/prompts/" + p + ".wav")
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "audio/wav" || len(data) < 44 || string(data[:4]) != "RIFF" {
			t.Errorf("GET /prompts/%s.wav: %d %q (%d bytes), want 200 audio/wav", p, resp.StatusCode, resp.Header.Get("Content-Type"), len(data))
		}
	}
}

// TestAlertCallPlaysOfficersLanguage: the alert call plays the prompts of
// the officer's language, in order, reads numbers digit by digit and the
// case code character by character, uses only documented TwiML, and every
// prompt it plays is served.
func TestAlertCallPlaysOfficersLanguage(t *testing.T) {
	open := dispatch.CallPrompt{AlertNumber: 12, CaseCode: "K7QA3M", Priority: hotline.P1, Count: 1, Open: true}
	many := dispatch.CallPrompt{AlertNumber: 12, CaseCode: "WX4YHJ", Priority: hotline.P2, Count: 3, Open: true}
	acked := dispatch.AckResult{Alert: hotline.Alert{Number: 7, CaseCode: "CDEFNP"}, Changed: true, Count: 1}
	code := func(names ...string) []string { return names }
	k7qa3m := code("letter_k", "digit_7", "letter_q", "letter_a", "digit_3", "letter_m")
	tests := []struct {
		label        string
		prompt       dispatch.CallPrompt
		ack          dispatch.AckResult
		form         url.Values
		wantGather   []string // played inside <Gather>, said twice
		wantAfter    []string // played after it (or alone), before <Hangup>
		wantNoGather bool
	}{
		{label: "one alert", prompt: open,
			wantGather: slices.Concat(code("alert_intro", "alert_priority", "digit_1", "alert_case"), k7qa3m, code("alert_press")),
			wantAfter:  code("alert_no_key")},
		{label: "three alerts", prompt: many,
			wantGather: code("alert_many", "digit_3", "alert_most_urgent", "alert_priority", "digit_2", "alert_case",
				"letter_w", "letter_x", "digit_4", "letter_y", "letter_h", "letter_j", "alert_press_all"),
			wantAfter: code("alert_no_key")},
		{label: "no longer open", prompt: dispatch.CallPrompt{AlertNumber: 12, CaseCode: "K7QA3M", Priority: hotline.P1},
			wantAfter: code("alert_number", "digit_1", "digit_2", "alert_not_needed"), wantNoGather: true},
		{label: "key 1", prompt: open, ack: acked, form: url.Values{"Digits": {"1"}},
			wantAfter: code("alert_number", "digit_7", "alert_acknowledged", "alert_open_case",
				"letter_c", "letter_d", "letter_e", "letter_f", "letter_n", "letter_p"), wantNoGather: true},
		{label: "key 1 for three", prompt: many, ack: dispatch.AckResult{Alert: acked.Alert, Changed: true, Count: 3}, form: url.Values{"Digits": {"1"}},
			wantAfter: code("alert_acknowledged_many", "digit_3", "alert_open_console"), wantNoGather: true},
		{label: "key 1, already acknowledged", prompt: open, form: url.Values{"Digits": {"1"}},
			ack:       dispatch.AckResult{Alert: hotline.Alert{Number: 7, State: hotline.AlertAcknowledged}},
			wantAfter: code("alert_number", "digit_7", "alert_already_acknowledged"), wantNoGather: true},
		{label: "key 1, closed", prompt: open, form: url.Values{"Digits": {"1"}},
			ack:       dispatch.AckResult{Alert: hotline.Alert{Number: 7, State: hotline.AlertClosed}},
			wantAfter: code("alert_number", "digit_7", "alert_already_closed"), wantNoGather: true},
		{label: "key 1, superseded", prompt: open, form: url.Values{"Digits": {"1"}},
			ack:       dispatch.AckResult{Alert: hotline.Alert{Number: 7, State: hotline.AlertSuperseded}},
			wantAfter: code("alert_number", "digit_7", "alert_superseded"), wantNoGather: true},
		{label: "mailbox", prompt: open, form: url.Values{"AnsweredBy": {"machine_start"}}, wantNoGather: true},
		{label: "test call", prompt: dispatch.CallPrompt{Test: true}, wantGather: code("test_call"), wantAfter: code("test_no_key")},
		{label: "test call key 1", prompt: dispatch.CallPrompt{Test: true}, form: url.Values{"Digits": {"1"}},
			wantAfter: code("test_ok"), wantNoGather: true},
	}
	// An officer without a language hears the configured default, or
	// English when there is none.
	langs := []struct{ officer, fallback, want hotline.Lang }{
		{hotline.LangAz, hotline.LangRu, hotline.LangAz},
		{hotline.LangRu, "", hotline.LangRu},
		{hotline.LangEn, hotline.LangAz, hotline.LangEn},
		{"", hotline.LangRu, hotline.LangRu},
		{"", "", hotline.LangEn},
	}
	for _, l := range langs {
		wantLang := l.want
		for _, tc := range tests {
			t.Run(string(l.officer)+"_"+string(l.fallback)+"/"+strings.ReplaceAll(tc.label, " ", "_"), func(t *testing.T) {
				prompt := tc.prompt
				prompt.Lang = l.officer
				srv := alertCallServer(t, &scriptedAlerts{prompt: prompt, ack: tc.ack}, l.fallback)
				form := fixture(t, "alert_call")
				for k, v := range tc.form {
					form[k] = v
				}
				target := "/twilio/alert-call?job=01J9Z3"
				req, err := twiliotest.NewSignedRequest(token, srv.URL+target, publicURL+target, form)
				if err != nil {
					t.Fatal(err)
				}
				resp, err := srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Fatalf("%d %s", resp.StatusCode, body)
				}
				doc := parseTwiML(t, string(body))
				in := func(names []string) []string {
					out := make([]string, len(names))
					for i, n := range names {
						out[i] = string(wantLang) + "/" + n
					}
					return out
				}
				want := slices.Concat(in(tc.wantGather), in(tc.wantGather), in(tc.wantAfter))
				if got := doc.plays(); !slices.Equal(got, want) {
					t.Fatalf("plays\n got %v\nwant %v", got, want)
				}
				verbs := doc.verbs()
				if verbs[len(verbs)-1] != "Hangup" || slices.Contains(verbs, "Gather") == tc.wantNoGather {
					t.Fatalf("verbs %v", verbs)
				}
				if g := doc.find("Gather"); g != nil {
					if g.Attrs["numDigits"] != "1" || g.Attrs["action"] != publicURL+target {
						t.Fatalf("gather %v, want one digit posted to %s", g.Attrs, publicURL+target)
					}
				}
				if strings.Contains(string(body), "<Say") {
					t.Fatalf("the alert call still uses <Say>: %s", body)
				}
				wantPromptsServed(t, srv, doc)
			})
		}
	}
}

// TestAlertPromptsInEveryLanguage: every sentence and every character of
// the case-code alphabet has a prompt in az, ru and en, so no code an
// alert can carry plays a missing file.
func TestAlertPromptsInEveryLanguage(t *testing.T) {
	prompts, err := intake.NewPrompts()
	if err != nil {
		t.Fatal(err)
	}
	names := slices.Clone(intake.AlertPromptNames)
	chars := intake.CodePrompts(store.CodeAlphabet)
	if len(chars) != len(store.CodeAlphabet) {
		t.Fatalf("the code alphabet %q reads as %v: a character has no prompt", store.CodeAlphabet, chars)
	}
	names = append(names, chars...)
	for d := '0'; d <= '9'; d++ {
		names = append(names, "digit_"+string(d))
	}
	for _, lang := range []hotline.Lang{hotline.LangAz, hotline.LangRu, hotline.LangEn} {
		for _, n := range names {
			if !prompts.Has(lang, n) {
				t.Errorf("prompt %s/%s.wav is missing", lang, n)
			}
		}
	}
}
