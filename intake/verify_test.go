package intake_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotline-az/hotline/intake"
	"github.com/hotline-az/hotline/internal/leaktest"
	"github.com/hotline-az/hotline/twiliotest"
)

// rejected returns hotline_webhooks_rejected_total by reason.
func rejected(tb testing.TB, v *intake.Verifier) map[string]float64 {
	tb.Helper()
	reg := prometheus.NewRegistry()
	if err := reg.Register(v.Metrics()); err != nil {
		tb.Fatal(err)
	}
	families, err := reg.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "hotline_webhooks_rejected_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" {
					out[l.GetValue()] = m.GetCounter().GetValue()
				}
			}
		}
	}
	if len(out) == 0 {
		tb.Fatal("hotline_webhooks_rejected_total not exported")
	}
	return out
}

// manyFields is a form of n fields, like the forged flood of issue 8.
func manyFields(n int) url.Values {
	f := url.Values{}
	for i := range n {
		f.Set(fmt.Sprintf("%x", i), "")
	}
	return f
}

// TestWebhookRefusals: everything but what Twilio sends for this
// hotline's account and numbers is refused with the right status and
// reason, counted once, and stores nothing.
func TestWebhookRefusals(t *testing.T) {
	smsURL := publicURL + "/twilio/sms"
	with := func(t *testing.T, change func(url.Values)) *http.Request {
		f := fixture(t, "sms_inbound")
		change(f)
		return signed(t, token, smsURL, f)
	}
	tests := []struct {
		label       string
		req         func(t *testing.T) *http.Request
		wantStatus  int
		wantReason  string
		wantProblem string
	}{
		{"no signature header", func(t *testing.T) *http.Request {
			r := signed(t, token, smsURL, fixture(t, "sms_inbound"))
			r.Header.Del("X-Twilio-Signature")
			return r
		}, 403, intake.ReasonSignatureMissing, "missing or malformed X-Twilio-Signature"},
		{"signature header not 28 base64 characters", func(t *testing.T) *http.Request {
			r := signed(t, token, smsURL, fixture(t, "sms_inbound"))
			r.Header.Set("X-Twilio-Signature", r.Header.Get("X-Twilio-Signature")+"AAAA")
			return r
		}, 403, intake.ReasonSignatureMissing, "missing or malformed"},
		{"well-formed but wrong signature", func(t *testing.T) *http.Request {
			return signed(t, "nottoken999", smsURL, fixture(t, "sms_inbound"))
		}, 403, intake.ReasonSignatureInvalid, "invalid X-Twilio-Signature"},
		{"9,900 fields, validly signed", func(t *testing.T) *http.Request {
			return signed(t, token, smsURL, manyFields(9900))
		}, 400, intake.ReasonTooManyFields, "more form fields than Twilio sends"},
		{"101 fields, validly signed", func(t *testing.T) *http.Request {
			return with(t, func(f url.Values) {
				for i := len(f); i < intake.MaxFormFields+1; i++ {
					f.Set(fmt.Sprintf("Extra%d", i), "x")
				}
			})
		}, 400, intake.ReasonTooManyFields, ""},
		{"a repeated field", func(t *testing.T) *http.Request {
			return with(t, func(f url.Values) { f.Add("Body", "second") })
		}, 400, intake.ReasonMalformed, "repeated"},
		{"a JSON body", func(t *testing.T) *http.Request {
			r := signed(t, token, smsURL, fixture(t, "sms_inbound"))
			r.Header.Set("Content-Type", "application/json")
			return r
		}, 400, intake.ReasonMalformed, "malformed form body"},
		{"another account", func(t *testing.T) *http.Request {
			return with(t, func(f url.Values) { f.Set("AccountSid", "AC"+strings.Repeat("b", 32)) })
		}, 403, intake.ReasonWrongAccount, "AccountSid is not this hotline's Twilio account"},
		{"no account", func(t *testing.T) *http.Request {
			return with(t, func(f url.Values) { f.Del("AccountSid") })
		}, 403, intake.ReasonWrongAccount, ""},
		{"the account only as another field's value", func(t *testing.T) *http.Request {
			return with(t, func(f url.Values) { f.Del("AccountSid"); f.Set("XAccountSid", accountSID) })
		}, 403, intake.ReasonWrongAccount, ""},
		{"no account and a body that does not parse: refused before parsing", func(t *testing.T) *http.Request {
			r := signed(t, token, smsURL, fixture(t, "sms_inbound"))
			r.Body = io.NopCloser(strings.NewReader("Body=%zz&" + strings.Repeat("x", 40<<10)))
			return r
		}, 403, intake.ReasonWrongAccount, ""},
		{"the account in capitals", func(t *testing.T) *http.Request {
			return with(t, func(f url.Values) { f.Set("AccountSid", strings.ToUpper(accountSID)) })
		}, 403, intake.ReasonWrongAccount, ""},
		{"To another number", func(t *testing.T) *http.Request {
			return with(t, func(f url.Values) { f.Set("To", "+994125550001") })
		}, 403, intake.ReasonWrongNumber, "To is not one of this hotline's numbers"},
		{"MessageSid too short", func(t *testing.T) *http.Request {
			return with(t, func(f url.Values) { f.Set("MessageSid", "SM1") })
		}, 400, intake.ReasonBadSID, "MessageSid is not SM or MM followed by 32 hex digits"},
		{"MessageSid of a call", func(t *testing.T) *http.Request {
			return with(t, func(f url.Values) { f.Set("MessageSid", twiliotest.NewSID("CA")) })
		}, 400, intake.ReasonBadSID, ""},
		{"MessageSid in capitals", func(t *testing.T) *http.Request {
			return with(t, func(f url.Values) { f.Set("MessageSid", "SM"+strings.ToUpper(twiliotest.NewSID("")[:32])) })
		}, 400, intake.ReasonBadSID, ""},
		{"MessageSid with a suffix", func(t *testing.T) *http.Request {
			return with(t, func(f url.Values) { f.Set("MessageSid", f.Get("MessageSid")+"NumMedia0") })
		}, 400, intake.ReasonBadSID, ""},
		{"From missing", func(t *testing.T) *http.Request {
			return with(t, func(f url.Values) { f.Del("From") })
		}, 400, intake.ReasonBadField, "From is required"},
		{"64 KiB + 1 body", func(t *testing.T) *http.Request {
			r := signed(t, token, smsURL, fixture(t, "sms_inbound"))
			r.Body = io.NopCloser(strings.NewReader(strings.Repeat("a", intake.MaxBodyBytes+1)))
			return r
		}, 413, intake.ReasonTooLarge, "request body too large"},
	}
	for _, tc := range tests {
		t.Run(tc.label, func(t *testing.T) {
			e := newEnv(t)
			status, body := e.post(t, tc.req(t))
			if status != tc.wantStatus || !strings.Contains(body, tc.wantProblem) {
				t.Fatalf("got %d %q, want %d naming %q", status, body, tc.wantStatus, tc.wantProblem)
			}
			for reason, n := range rejected(t, e.verifier) {
				want := 0.0
				if reason == tc.wantReason {
					want = 1
				}
				if n != want {
					t.Errorf("rejected{reason=%q}: got %v, want %v", reason, n, want)
				}
			}
			if st, _ := e.store.Stats(); st.Messages != 0 {
				t.Fatalf("stored %d messages, want none", st.Messages)
			}
			if !strings.Contains(e.logs.String(), `"reason":"`+tc.wantReason+`"`) {
				t.Fatalf("log does not give the reason %s: %s", tc.wantReason, e.logs.String())
			}
		})
	}
}

// TestNamesAccount: the raw-body account check made before a form is
// parsed finds AccountSid=SID only as a whole field, wherever it stands.
func TestNamesAccount(t *testing.T) {
	for _, tc := range []struct {
		body string
		want bool
	}{
		{"AccountSid=" + accountSID, true},
		{"AccountSid=" + accountSID + "&Body=x", true},
		{"Body=x&AccountSid=" + accountSID, true},
		{"Body=x&AccountSid=" + accountSID + "&To=%2B1", true},
		{"Body=AccountSid=" + accountSID + "&AccountSid=" + accountSID, true},
		{"", false},
		{"Body=x", false},
		{"XAccountSid=" + accountSID, false},
		{"Body=x&AccountSid=" + accountSID + "0", false},
		{"Body=xAccountSid=" + accountSID, false},
		{"AccountSid=" + strings.ToUpper(accountSID), false},
		{"Account%53id=" + accountSID, false},
	} {
		if got := intake.NamesAccount([]byte(tc.body), accountSID); got != tc.want {
			t.Errorf("NamesAccount(%q): got %v, want %v", tc.body, got, tc.want)
		}
	}
}

// TestAccountSidAnywhereAccepted: the check made before parsing finds
// AccountSid wherever Twilio puts it, last field included.
func TestAccountSidAnywhereAccepted(t *testing.T) {
	f := fixture(t, "sms_inbound")
	sid := f.Get("AccountSid")
	f.Del("AccountSid")
	req := signed(t, token, publicURL+"/twilio/sms", f)
	f.Set("AccountSid", sid)
	req.Header.Set("X-Twilio-Signature", twiliotest.Signature(token, publicURL+"/twilio/sms", f))
	body := f.Encode()
	body = strings.Replace(body, "AccountSid="+sid+"&", "", 1) + "&AccountSid=" + sid
	if !strings.HasSuffix(body, "&AccountSid="+sid) || strings.Count(body, "AccountSid=") != 1 {
		t.Fatalf("test body does not end in AccountSid alone: %q", body)
	}
	req.Body = io.NopCloser(strings.NewReader(body))
	req.ContentLength = int64(len(body))
	e := newEnv(t)
	if status, answer := e.post(t, req); status != 200 {
		t.Fatalf("got %d %q, want 200", status, answer)
	}
}

// TestTwilioFormsAccepted: the largest form Twilio documents, an MMS SID,
// and the account's second number all get in.
func TestTwilioFormsAccepted(t *testing.T) {
	smsURL := publicURL + "/twilio/sms"
	for label, f := range map[string]url.Values{
		"whatsapp with 10 media (64 fields, MM SID)": fixture(t, "whatsapp_10_media"),
		"To the second configured number": func() url.Values {
			f := fixture(t, "sms_inbound")
			f.Set("To", otherNum)
			return f
		}(),
	} {
		t.Run(label, func(t *testing.T) {
			e := newEnv(t)
			if status, body := e.post(t, signed(t, token, smsURL, f)); status != 200 {
				t.Fatalf("got %d %q, want 200", status, body)
			}
			if st, _ := e.store.Stats(); st.Messages != 1 {
				t.Fatalf("stored %d messages, want 1", st.Messages)
			}
		})
	}
}

// countingReader records whether anyone read the body.
type countingReader struct{ reads int }

func (c *countingReader) Read(p []byte) (int, error) {
	c.reads++
	return 0, io.EOF
}

// TestMalformedSignatureRefusedBeforeBodyRead: a forged request without a
// well-formed signature costs no body read and no parse.
func TestMalformedSignatureRefusedBeforeBodyRead(t *testing.T) {
	for _, sig := range []string{"", "forged", strings.Repeat("A", 28), strings.Repeat("A", 27) + "="} {
		e := newEnv(t)
		body := &countingReader{}
		req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1/twilio/sms", body)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if sig != "" {
			req.Header.Set("X-Twilio-Signature", sig)
		}
		status, _ := e.post(t, req)
		wellFormed := intake.WellFormedSignature(sig)
		switch {
		case !wellFormed && (status != 403 || body.reads != 0):
			t.Errorf("signature %q: got %d after %d body reads, want 403 before any", sig, status, body.reads)
		case wellFormed && body.reads == 0:
			t.Errorf("signature %q is well formed but the body was never read", sig)
		}
	}
}

// TestRejectionLogIsRateLimited: a flood of 1,000 forged requests in one
// second writes one log line, the next second's line says how many were
// left out, another reason still gets its own line, and every one is
// counted. The 403 line names the URL the signature was checked against,
// and nothing of the forged requests reaches the log.
func TestRejectionLogIsRateLimited(t *testing.T) {
	e := newEnv(t)
	forged := fixture(t, "sms_inbound")
	forged.Set("From", "+994501234567")
	forged.Set("Body", "forged tip text")
	for range 1000 {
		e.post(t, signed(t, "nottoken999", publicURL+"/twilio/sms", forged))
	}
	e.post(t, signed(t, token, publicURL+"/twilio/sms", manyFields(200)))
	e.clock.Add(1001 * 1e6) // just over a second
	e.post(t, signed(t, "nottoken999", publicURL+"/twilio/sms", forged))

	var sigLines, fieldLines []string
	for _, line := range strings.Split(e.logs.String(), "\n") {
		switch {
		case strings.Contains(line, `"reason":"signature_invalid"`):
			sigLines = append(sigLines, line)
		case strings.Contains(line, `"reason":"too_many_fields"`):
			fieldLines = append(fieldLines, line)
		}
	}
	if len(sigLines) != 2 || len(fieldLines) != 1 {
		t.Fatalf("got %d signature lines and %d field-count lines, want 2 and 1:\n%s", len(sigLines), len(fieldLines), e.logs.String())
	}
	if !strings.Contains(sigLines[0], `"suppressed":0`) || !strings.Contains(sigLines[1], `"suppressed":999`) {
		t.Errorf("suppressed counts: got\n%s\n%s\nwant 0 then 999", sigLines[0], sigLines[1])
	}
	if !strings.Contains(sigLines[0], `"checked_url":"https://hotline.example.az/twilio/sms"`) {
		t.Errorf("the 403 line does not name the URL checked: %s", sigLines[0])
	}
	if got := rejected(t, e.verifier); got[intake.ReasonSignatureInvalid] != 1001 || got[intake.ReasonTooManyFields] != 1 {
		t.Errorf("counted %v, want 1001 signature_invalid and 1 too_many_fields", got)
	}
	leaktest.Check(t, "log", e.logs.String(), append(leaktest.PhoneForms("+994501234567"), "forged tip text", forged.Get("MessageSid"), accountSID)...)
}

func TestNewVerifierRefusesIncompleteConfig(t *testing.T) {
	good := intake.VerifierConfig{PublicURL: publicURL, AuthTokens: []string{token}, AccountSID: accountSID, Numbers: []string{hotlineNum}}
	for label, change := range map[string]func(*intake.VerifierConfig){
		"trailing slash": func(c *intake.VerifierConfig) { c.PublicURL += "/" },
		"a path":         func(c *intake.VerifierConfig) { c.PublicURL += "/hotline" },
		"a query":        func(c *intake.VerifierConfig) { c.PublicURL += "?a=b" },
		"an empty query": func(c *intake.VerifierConfig) { c.PublicURL += "?" },
		"not http":       func(c *intake.VerifierConfig) { c.PublicURL = "ftp://hotline.example.az" },
		"no token":       func(c *intake.VerifierConfig) { c.AuthTokens = []string{""} },
		"no account":     func(c *intake.VerifierConfig) { c.AccountSID = "" },
		"no number":      func(c *intake.VerifierConfig) { c.Numbers = nil },
	} {
		c := good
		change(&c)
		if _, err := intake.NewVerifier(c); err == nil {
			t.Errorf("%s: accepted", label)
		}
	}
	if _, err := intake.NewVerifier(good); err != nil {
		t.Fatalf("complete config refused: %v", err)
	}
}

// meteredReader serves a body and counts the bytes taken from it.
type meteredReader struct {
	r    io.Reader
	read int
}

func (m *meteredReader) Read(p []byte) (int, error) {
	n, err := m.r.Read(p)
	m.read += n
	return n, err
}

// TestOversizedFormsAreNotReadToTheEnd: a form over the field bound is
// refused after its first chunk, a declared Content-Length over the size
// bound before any byte, and the connection is closed instead of drained;
// a body of exactly MaxBodyBytes is still read whole.
func TestOversizedFormsAreNotReadToTheEnd(t *testing.T) {
	smsURL := publicURL + "/twilio/sms"
	send := func(t *testing.T, form url.Values, body string, contentLength int64) (int, *meteredReader, http.Header) {
		e := newEnv(t)
		req := signed(t, token, smsURL, form)
		m := &meteredReader{r: strings.NewReader(body)}
		req.Body = io.NopCloser(m)
		req.ContentLength = contentLength
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, req)
		return rec.Code, m, rec.Header()
	}

	flood := manyFields(9900)
	body := flood.Encode()
	status, m, h := send(t, flood, body, int64(len(body)))
	if status != 400 || m.read > 8<<10 || h.Get("Connection") != "close" {
		t.Errorf("9,900 fields (%d bytes): got %d after reading %d bytes, Connection %q; want 400 after at most 8 KiB, Connection close",
			len(body), status, m.read, h.Get("Connection"))
	}

	status, m, h = send(t, fixture(t, "sms_inbound"), strings.Repeat("a", intake.MaxBodyBytes+1), intake.MaxBodyBytes+1)
	if status != 413 || m.read != 0 || h.Get("Connection") != "close" {
		t.Errorf("declared %d bytes: got %d after reading %d bytes, Connection %q; want 413 before reading, Connection close",
			intake.MaxBodyBytes+1, status, m.read, h.Get("Connection"))
	}

	full := fixture(t, "sms_inbound")
	full.Set("Body", "")
	full.Set("Body", strings.Repeat("a", intake.MaxBodyBytes-len(full.Encode())))
	body = full.Encode()
	status, m, _ = send(t, full, body, -1) // length unknown: read until the bound
	if len(body) != intake.MaxBodyBytes || status != 200 || m.read != intake.MaxBodyBytes {
		t.Errorf("a %d-byte body: got %d after reading %d bytes; want 200 after reading it all", len(body), status, m.read)
	}
	status, _, _ = send(t, full, body+"a", -1)
	if status != 413 {
		t.Errorf("a %d-byte body of unknown length: got %d, want 413", len(body)+1, status)
	}
}

// TestLargeBodiesTakeTurns: bodies over 16 KiB are checked one at a time;
// many at once all get their turn and are stored, small ones pass beside them.
func TestLargeBodiesTakeTurns(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(e.handler)
	defer srv.Close()
	const n = 16
	errs := make(chan error, 2*n)
	for i := range 2 * n {
		go func() {
			f := fixture(t, "sms_inbound")
			f.Set("MessageSid", twiliotest.NewSID("SM"))
			if i%2 == 0 {
				f.Set("Body", strings.Repeat("Ж", 3000)) // about 18 KB form-encoded
			}
			req, err := twiliotest.NewSignedRequest(token, srv.URL+"/twilio/sms", publicURL+"/twilio/sms", f)
			if err != nil {
				errs <- err
				return
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				errs <- err
				return
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				err = fmt.Errorf("tip %d (%d bytes): got %d", i, len(f.Encode()), resp.StatusCode)
			}
			errs <- err
		}()
	}
	for range 2 * n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if st, _ := e.store.Stats(); st.Messages != 2*n {
		t.Fatalf("stored %d messages, want %d", st.Messages, 2*n)
	}
}
