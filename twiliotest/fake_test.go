package twiliotest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline-az/hotline/twiliotest"
)

// do sends a request to the fake with its credentials unless auth is false.
func do(tb testing.TB, f *twiliotest.FakeTwilio, method, path string, form url.Values, auth bool) (int, http.Header, []byte) {
	tb.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, f.URL()+path, body)
	if err != nil {
		tb.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if auth {
		req.SetBasicAuth(f.AccountSID(), f.AuthToken())
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

func decode(tb testing.TB, b []byte) map[string]any {
	tb.Helper()
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		tb.Fatalf("body %q is not JSON: %v", b, err)
	}
	return v
}

// assertTwilioError checks Twilio's error body shape.
func assertTwilioError(tb testing.TB, status int, b []byte, wantStatus, wantCode int) {
	tb.Helper()
	if status != wantStatus {
		tb.Errorf("status = %d, want %d (%s)", status, wantStatus, b)
	}
	v := decode(tb, b)
	if v["code"] != float64(wantCode) || v["status"] != float64(wantStatus) {
		tb.Errorf("error body %s, want code %d status %d", b, wantCode, wantStatus)
	}
	if m, _ := v["message"].(string); m == "" {
		tb.Errorf("error body %s has no message", b)
	}
	if mi, _ := v["more_info"].(string); !strings.HasPrefix(mi, "https://www.twilio.com/docs/errors/") {
		tb.Errorf("error body %s has no more_info link", b)
	}
}

func messagesPath(f *twiliotest.FakeTwilio) string {
	return "/2010-04-01/Accounts/" + f.AccountSID() + "/Messages.json"
}

var sidRe = regexp.MustCompile(`^SM[0-9a-f]{32}$`)

func TestFakeCreateMessage(t *testing.T) {
	f := twiliotest.NewFakeTwilio(t)
	form := url.Values{"To": {"+994505550123"}, "From": {"+994125550100"}, "Body": {"alert"}, "StatusCallback": {"https://h.example/cb"}}
	status, _, b := do(t, f, "POST", messagesPath(f), form, true)
	if status != http.StatusCreated {
		t.Fatalf("status = %d, want 201 (%s)", status, b)
	}
	v := decode(t, b)
	for _, k := range []string{"account_sid", "api_version", "body", "date_created", "date_sent", "date_updated", "direction",
		"error_code", "error_message", "from", "messaging_service_sid", "num_media", "num_segments", "price", "price_unit",
		"sid", "status", "subresource_uris", "to", "uri"} {
		if _, ok := v[k]; !ok {
			t.Errorf("response lacks %q", k)
		}
	}
	sid, _ := v["sid"].(string)
	if !sidRe.MatchString(sid) || v["status"] != "queued" || v["to"] != "+994505550123" || v["account_sid"] != f.AccountSID() {
		t.Errorf("response %s", b)
	}
	if _, err := time.Parse(time.RFC1123Z, v["date_created"].(string)); err != nil {
		t.Errorf("date_created: %v", err)
	}
	msgs := f.Messages()
	if len(msgs) != 1 || msgs[0].SID != sid || msgs[0].StatusCallback != "https://h.example/cb" || msgs[0].Body != "alert" {
		t.Errorf("Messages() = %+v", msgs)
	}
}

func TestFakeMessageValidation(t *testing.T) {
	f := twiliotest.NewFakeTwilio(t)
	ok := url.Values{"To": {"+994505550123"}, "From": {"+994125550100"}, "Body": {"alert"}}
	for _, tt := range []struct {
		name string
		edit func(url.Values)
		code int
	}{
		{"no To", func(v url.Values) { v.Del("To") }, 21604},
		{"no From", func(v url.Values) { v.Del("From") }, 21603},
		{"no Body", func(v url.Values) { v.Del("Body") }, 21602},
		{"invalid To", func(v url.Values) { v.Set("To", "12345") }, 21211},
		{"magic invalid To", func(v url.Values) { v.Set("To", "+15005550001") }, 21211},
		{"bad callback", func(v url.Values) { v.Set("StatusCallback", "/relative") }, 21609},
	} {
		form := url.Values{}
		for k, v := range ok {
			form[k] = append([]string(nil), v...)
		}
		tt.edit(form)
		status, _, b := do(t, f, "POST", messagesPath(f), form, true)
		t.Run(tt.name, func(t *testing.T) { assertTwilioError(t, status, b, 400, tt.code) })
	}
	// A messaging service may stand in for From.
	form := url.Values{"To": {"+994505550123"}, "MessagingServiceSid": {twiliotest.NewSID("MG")}, "Body": {"x"}}
	if status, _, b := do(t, f, "POST", messagesPath(f), form, true); status != 201 {
		t.Errorf("with MessagingServiceSid: %d %s", status, b)
	}
	if n := len(f.Messages()); n != 1 {
		t.Errorf("fake holds %d messages, want 1", n)
	}
}

func TestFakeAuth(t *testing.T) {
	f := twiliotest.NewFakeTwilio(t)
	form := url.Values{"To": {"+994505550123"}, "From": {"+994125550100"}, "Body": {"x"}}
	status, h, b := do(t, f, "POST", messagesPath(f), form, false)
	assertTwilioError(t, status, b, 401, 20003)
	if h.Get("WWW-Authenticate") == "" {
		t.Error("401 without WWW-Authenticate")
	}

	other := twiliotest.StartFakeTwilio("AC"+strings.Repeat("9", 32), "othertoken")
	defer other.Close()
	req, _ := http.NewRequest("POST", other.URL()+messagesPath(other), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(f.AccountSID(), f.AuthToken()) // the wrong account's credentials
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("wrong credentials: status %d, want 401", resp.StatusCode)
	}

	// Credentials of this account, path of another: not found.
	status, _, b = do(t, f, "POST", "/2010-04-01/Accounts/AC"+strings.Repeat("1", 32)+"/Messages.json", form, true)
	assertTwilioError(t, status, b, 404, 20404)
	if f.Requests() != 2 || len(f.Messages()) != 0 {
		t.Errorf("requests = %d, messages = %d; want 2, 0", f.Requests(), len(f.Messages()))
	}
}

func TestFakeCall(t *testing.T) {
	f := twiliotest.NewFakeTwilio(t)
	path := "/2010-04-01/Accounts/" + f.AccountSID() + "/Calls.json"
	form := url.Values{
		"To": {"+994505550123"}, "From": {"+994125550100"}, "Url": {"https://h.example/twiml"}, "Method": {"POST"},
		"StatusCallback": {"https://h.example/cb"}, "StatusCallbackEvent": {"initiated", "answered"},
	}
	status, _, b := do(t, f, "POST", path, form, true)
	if status != 201 {
		t.Fatalf("status %d: %s", status, b)
	}
	v := decode(t, b)
	if sid, _ := v["sid"].(string); !strings.HasPrefix(sid, "CA") || len(sid) != 34 || v["status"] != "queued" {
		t.Errorf("response %s", b)
	}
	calls := f.Calls()
	if len(calls) != 1 || calls[0].URL != "https://h.example/twiml" || len(calls[0].StatusCallbackEvents) != 2 {
		t.Errorf("Calls() = %+v", calls)
	}

	// Inline TwiML instead of a URL.
	status, _, b = do(t, f, "POST", path, url.Values{"To": {"+994505550123"}, "From": {"+994125550100"}, "Twiml": {"<Response/>"}}, true)
	if status != 201 {
		t.Errorf("Twiml call: %d %s", status, b)
	}
	for _, tt := range []struct {
		name string
		form url.Values
		code int
	}{
		{"no To", url.Values{"From": {"+994125550100"}, "Url": {"https://h.example/t"}}, 21201},
		{"no From", url.Values{"To": {"+994505550123"}, "Url": {"https://h.example/t"}}, 21213},
		{"no Url", url.Values{"To": {"+994505550123"}, "From": {"+994125550100"}}, 21205},
		{"bad event", url.Values{"To": {"+994505550123"}, "From": {"+994125550100"}, "Url": {"https://h.example/t"}, "StatusCallbackEvent": {"bogus"}}, 21626},
	} {
		status, _, b := do(t, f, "POST", path, tt.form, true)
		t.Run(tt.name, func(t *testing.T) { assertTwilioError(t, status, b, 400, tt.code) })
	}
}

func TestFakeRedact(t *testing.T) {
	f := twiliotest.NewFakeTwilio(t)
	sid := f.AddMessage(twiliotest.FakeMessage{From: "+994505550123", To: "+994125550100", Body: "tip"})
	path := "/2010-04-01/Accounts/" + f.AccountSID() + "/Messages/" + sid + ".json"

	status, _, b := do(t, f, "POST", path, url.Values{"Body": {"changed"}}, true)
	assertTwilioError(t, status, b, 400, 20001)

	status, _, b = do(t, f, "POST", path, url.Values{"Body": {""}}, true)
	if status != 200 || decode(t, b)["body"] != "" {
		t.Fatalf("redact: %d %s", status, b)
	}
	if m := f.Messages()[0]; m.Body != "" || !m.Redacted || m.Direction != "inbound" {
		t.Errorf("after redaction: %+v", m)
	}
	status, _, b = do(t, f, "POST", "/2010-04-01/Accounts/"+f.AccountSID()+"/Messages/"+twiliotest.NewSID("SM")+".json", url.Values{"Body": {""}}, true)
	assertTwilioError(t, status, b, 404, 20404)
}

func TestFakeRecordings(t *testing.T) {
	f := twiliotest.NewFakeTwilio(t)
	sid := twiliotest.NewSID("RE")
	f.AddRecording(sid, []byte("RIFFdata"))
	base := "/2010-04-01/Accounts/" + f.AccountSID() + "/Recordings/" + sid

	for ext, ct := range map[string]string{".wav": "audio/x-wav", ".mp3": "audio/mpeg"} {
		status, h, b := do(t, f, "GET", base+ext, nil, true)
		if status != 200 || string(b) != "RIFFdata" || h.Get("Content-Type") != ct {
			t.Errorf("GET %s: %d %q %q", ext, status, h.Get("Content-Type"), b)
		}
	}
	status, _, b := do(t, f, "GET", base+".json", nil, true)
	if status != 200 || !strings.Contains(string(b), `"status":"completed"`) || !strings.Contains(string(b), `"sid":"`+sid+`"`) {
		t.Errorf("GET .json: %d %s, want the completed recording resource", status, b)
	}
	status, _, b = do(t, f, "PUT", base+".json", nil, true)
	assertTwilioError(t, status, b, 405, 20004)

	status, _, b = do(t, f, "DELETE", base+".json", nil, true)
	if status != 204 || len(b) != 0 {
		t.Errorf("DELETE: %d %q", status, b)
	}
	status, _, b = do(t, f, "DELETE", base+".json", nil, true)
	assertTwilioError(t, status, b, 404, 20404)
	status, _, b = do(t, f, "GET", base+".wav", nil, true)
	assertTwilioError(t, status, b, 404, 20404)
	if got := f.DeletedRecordings(); len(got) != 1 || got[0] != sid {
		t.Errorf("DeletedRecordings() = %q", got)
	}
}

func TestFakeFaults(t *testing.T) {
	f := twiliotest.NewFakeTwilio(t)
	form := url.Values{"To": {"+994505550123"}, "From": {"+994125550100"}, "Body": {"x"}}

	f.FailNext(2, 500, 0)
	for i := 0; i < 2; i++ {
		status, _, b := do(t, f, "POST", messagesPath(f), form, true)
		assertTwilioError(t, status, b, 500, 20500)
	}
	if status, _, _ := do(t, f, "POST", messagesPath(f), form, true); status != 201 {
		t.Errorf("after FailNext ran out: %d", status)
	}

	f.SetDown(true)
	status, _, b := do(t, f, "POST", messagesPath(f), form, false) // down beats auth
	assertTwilioError(t, status, b, 503, 20503)
	f.SetDown(false)

	f.SetDelay(2 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", f.URL()+messagesPath(f), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(f.AccountSID(), f.AuthToken())
	start := time.Now()
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Error("delayed request answered before the client deadline")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("client waited %v", d)
	}
	f.SetDelay(0)

	if n := f.Requests(); n != 5 {
		t.Errorf("Requests() = %d, want 5", n)
	}
	if n := len(f.Messages()); n != 1 {
		t.Errorf("fake holds %d messages, want 1", n)
	}
}

// Close ends a request that is held by SetDelay instead of waiting for it.
func TestFakeCloseWhileDelayed(t *testing.T) {
	f := twiliotest.StartFakeTwilio(twiliotest.FakeAccountSID, twiliotest.FakeAuthToken)
	f.SetDelay(time.Minute)
	done := make(chan struct{})
	go func() {
		defer close(done)
		resp, err := http.Get(f.URL() + messagesPath(f))
		if err == nil {
			resp.Body.Close()
		}
	}()
	for f.Requests() == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	f.Close()
	<-done
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close took %v", d)
	}
}

func TestFakeConcurrent(t *testing.T) {
	f := twiliotest.NewFakeTwilio(t)
	form := url.Values{"To": {"+994505550123"}, "From": {"+994125550100"}, "Body": {"x"}}
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch i % 4 {
			case 0:
				f.FailNext(1, 503, 0)
			case 1:
				f.Messages()
				f.Calls()
			case 2:
				f.AddRecording(twiliotest.NewSID("RE"), []byte("x"))
			}
			do(t, f, "POST", messagesPath(f), form, true)
		}()
	}
	wg.Wait()
	if f.Requests() != 16 {
		t.Errorf("Requests() = %d, want 16", f.Requests())
	}
}

func TestFakeLists(t *testing.T) {
	f := twiliotest.NewFakeTwilio(t)
	old := f.AddMessage(twiliotest.FakeMessage{To: "+994505550123", From: "+994125550100", Body: "a", Direction: "outbound-api",
		DateCreated: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)})
	newer := f.AddMessage(twiliotest.FakeMessage{To: "+994505550123", From: "+994125550100", Body: "b", Direction: "outbound-api"})
	f.AddMessage(twiliotest.FakeMessage{To: "+994505550999", From: "+994125550100", Body: "c"})

	base := "/2010-04-01/Accounts/" + f.AccountSID()
	status, _, b := do(t, f, "GET", base+"/Messages.json?To=%2B994505550123&PageSize=10", nil, true)
	if status != 200 {
		t.Fatalf("list: %d %s", status, b)
	}
	v := decode(t, b)
	msgs, _ := v["messages"].([]any)
	if len(msgs) != 2 || v["page_size"] != float64(10) || v["next_page_uri"] != nil {
		t.Fatalf("list = %s", b)
	}
	first, second := msgs[0].(map[string]any), msgs[1].(map[string]any)
	if first["sid"] != newer || second["sid"] != old || second["date_created"] != "Fri, 02 Jan 2026 03:04:05 +0000" {
		t.Errorf("want newest first with Twilio dates, got %s", b)
	}

	status, _, b = do(t, f, "GET", base+"/Calls.json?To=%2B994505550123", nil, true)
	if v := decode(t, b); status != 200 || len(v["calls"].([]any)) != 0 {
		t.Errorf("empty call list: %d %s", status, b)
	}
	status, _, b = do(t, f, "GET", base+"/Messages.json?PageSize=0", nil, true)
	assertTwilioError(t, status, b, 400, 20001)
}
