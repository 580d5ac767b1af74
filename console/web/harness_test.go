package web_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/rs/zerolog"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/config"
	"github.com/hotline-az/hotline/console/web"
	"github.com/hotline-az/hotline/crypto"
	"github.com/hotline-az/hotline/dispatch"
	"github.com/hotline-az/hotline/dispatch/twilioapi"
	"github.com/hotline-az/hotline/internal/leaktest"
	"github.com/hotline-az/hotline/store"
	"github.com/hotline-az/hotline/twiliotest"
)

const (
	hotlineFrom   = "+994125550000"
	leylaPhone    = "+994501110001"
	adminPhone    = "+994501110009"
	reporterPhone = "+994557654321"
	leylaPass     = "correct horse battery staple"
	adminPass     = "admin pass phrase 42"
	tipText       = "Kömək edin, bizi zirzəmidə saxlayırlar, qapı bağlıdır"
)

// testParams keeps Argon2id cheap in tests; the format and code path are
// the real ones.
var testParams = crypto.PasswordParams{Time: 1, MemoryKiB: 1024, Threads: 1}

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

// harness is a real store in a temp dir, a dispatcher talking to the fake
// Twilio through twilio-go, and the console on a real HTTP server.
type harness struct {
	t        testing.TB
	dir      string
	logs     *leaktest.Buffer
	clock    *fakeClock
	st       *store.Store
	disp     *dispatch.Dispatcher
	twilio   *twiliotest.FakeTwilio
	srv      *httptest.Server
	officers map[string]hotline.Officer // by name
	caseCode string
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	return newHarnessWith(t, nil)
}

// newHarnessWith lets a test change the console's configuration.
func newHarnessWith(t testing.TB, configure func(*web.Config)) *harness {
	t.Helper()
	clock := &fakeClock{t: time.Date(2026, 11, 24, 23, 0, 0, 0, time.UTC)}
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
	client, err := twilioapi.New(twilioapi.Config{AccountSID: fake.AccountSID(), AuthToken: fake.AuthToken(), From: hotlineFrom, APIURL: fake.URL()})
	if err != nil {
		t.Fatal(err)
	}
	disp, err := dispatch.New(dispatch.Config{Store: st, Sender: client, Escalation: config.DefaultEscalation(),
		PublicURL: "https://hotline.example.az", Logger: log, SendTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, dir: dir, logs: logs, clock: clock, st: st, disp: disp, twilio: fake, officers: map[string]hotline.Officer{}}
	err = st.Update(context.Background(), func(tx *store.Tx) error {
		for _, o := range []hotline.Officer{
			{Name: "Leyla Aliyeva", Phone: leylaPhone, Role: hotline.RoleOfficer},
			{Name: "Farid Admin", Phone: adminPhone, Role: hotline.RoleAdmin},
		} {
			added, err := tx.AddOfficer(o)
			if err != nil {
				return err
			}
			h.officers[o.Name] = added
		}
		rota := dispatch.Rota{TimeZone: "Asia/Baku"}
		for _, day := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
			rota.Shifts = append(rota.Shifts, dispatch.Shift{Day: day, Start: "00:00", End: "24:00", Officer: h.officers["Leyla Aliyeva"].ID})
		}
		return dispatch.SaveRota(tx, rota)
	})
	if err != nil {
		t.Fatal(err)
	}
	h.setPassword("Leyla Aliyeva", leylaPass)
	h.setPassword("Farid Admin", adminPass)
	h.caseCode = h.inbound(reporterPhone, tipText, hotline.P1)

	cfg := web.Config{Store: st, Dispatcher: disp, Logger: log, Now: clock.Now, PasswordParams: testParams, Escalation: config.DefaultEscalation()}
	if configure != nil {
		configure(&cfg)
	}
	handler, err := web.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.srv = httptest.NewServer(handler)
	t.Cleanup(h.srv.Close)
	return h
}

func (h *harness) setPassword(name, password string) {
	h.t.Helper()
	hash, err := crypto.HashPassword(password, testParams)
	if err != nil {
		h.t.Fatal(err)
	}
	err = h.st.Update(context.Background(), func(tx *store.Tx) error {
		return tx.PutAccount(store.Account{OfficerID: h.officers[name].ID, PasswordHash: hash, PasswordSetAt: tx.Now()})
	})
	if err != nil {
		h.t.Fatal(err)
	}
}

// inbound records a reporter's SMS as intake does (with the dispatcher's
// hook, so a P1 opens an alert) and returns the case code.
func (h *harness) inbound(from, body string, p hotline.Priority) string {
	h.t.Helper()
	res, err := h.st.RecordInboundSMS(context.Background(), store.InboundSMS{
		MessageSID: twiliotest.NewSID("SM"), From: from, Body: body, Window: 7 * 24 * time.Hour,
		Triage: hotline.Triage{Priority: p, Category: hotline.CategoryLabor, Lang: hotline.LangAz, Matched: []string{"confined", "distress"}},
	}, h.disp.OnInbound)
	if err != nil {
		h.t.Fatal(err)
	}
	return res.Case.Code
}

// browser is an HTTP client with its own cookies that does not follow
// redirects, so tests see each answer.
type browser struct {
	h *harness
	c *http.Client
	// forwardedFor, when set, is sent as X-Forwarded-For (a browser
	// behind a reverse proxy, or one forging the header).
	forwardedFor string
}

func (h *harness) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{h: h, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// browserFrom is a browser whose connections come from ip, another
// loopback address (127.0.0.0/8 is all loopback on Linux): a second client.
func (h *harness) browserFrom(ip string) *browser {
	b := h.browser()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	b.c.Transport = &http.Transport{DialContext: d.DialContext}
	return b
}

func (b *browser) do(req *http.Request) answer {
	b.h.t.Helper()
	if b.forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", b.forwardedFor)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.h.t.Fatal(err)
	}
	return read(b.h.t, resp)
}

type answer struct {
	status int
	header http.Header
	body   string
}

func (b *browser) get(path string) answer {
	b.h.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.h.srv.URL+path, nil)
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) answer {
	b.h.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.h.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// submit posts a form with the CSRF token of the page at from.
func (b *browser) submit(from, path string, form url.Values) answer {
	b.h.t.Helper()
	page := b.get(from)
	tok := csrfToken(page.body)
	if tok == "" {
		b.h.t.Fatalf("no CSRF token on %s (status %d)", from, page.status)
	}
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf_token", tok)
	return b.post(path, form)
}

func read(tb testing.TB, resp *http.Response) answer {
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

var (
	csrfRe   = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
	secretRe = regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`)
)

func csrfToken(html string) string {
	m := csrfRe.FindStringSubmatch(html)
	if m == nil {
		return ""
	}
	return m[1]
}

// login logs in with password and TOTP (enrolling on first use) and
// returns the TOTP secret. With a known secret it first moves the clock
// on one TOTP step, since a code logs in only once.
func (b *browser) login(name, password, secret string) string {
	b.h.t.Helper()
	if secret != "" {
		b.h.clock.Add(30 * time.Second)
	}
	a := b.submit("/login", "/login", url.Values{"name": {name}, "password": {password}})
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/login/totp" {
		b.h.t.Fatalf("login %s: got %d %s, want 303 to /login/totp", name, a.status, a.header.Get("Location"))
	}
	page := b.get("/login/totp")
	if secret == "" {
		m := secretRe.FindStringSubmatch(page.body)
		if m == nil {
			b.h.t.Fatalf("no enrolment secret on the TOTP page: %s", page.body)
		}
		secret = m[1]
	}
	code, err := totp.GenerateCode(secret, b.h.clock.Now())
	if err != nil {
		b.h.t.Fatal(err)
	}
	a = b.post("/login/totp", url.Values{"code": {code}, "csrf_token": {csrfToken(page.body)}})
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/queue" {
		b.h.t.Fatalf("TOTP for %s: got %d %s, want 303 to /queue\n%s", name, a.status, a.header.Get("Location"), a.body)
	}
	return secret
}
