package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"
	"github.com/rs/zerolog"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/config"
	"github.com/hotline-az/hotline/console"
	"github.com/hotline-az/hotline/crypto"
	"github.com/hotline-az/hotline/internal/leaktest"
	"github.com/hotline-az/hotline/store"
	"github.com/hotline-az/hotline/twiliotest"
)

// chromiumPath finds Debian's chromium (scripts/test.sh installs it).
func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestConsoleInABrowser is an officer's whole loop in a real headless
// Chromium against the real server: log in with password and TOTP
// (enrolling from the page), see the P1 case at the top of the queue,
// open it, read the message, acknowledge, reply to the reporter, close
// the case with a reason, log out. On failure it saves a screenshot of
// every step under the test's temporary folder and names it.
//
// HOTLINE_SCREENSHOTS=DIR also saves the queue and the case page there
// (how docs/console-queue.png was made).
func TestConsoleInABrowser(t *testing.T) {
	chromium := chromiumPath()
	if chromium == "" {
		t.Skip("chromium is not installed (apt-get install -y chromium; scripts/test.sh does it): the browser test cannot run here")
	}
	dir := t.TempDir()
	logs := &leaktest.Buffer{}
	fake := twiliotest.NewFakeTwilio(t)
	key, err := crypto.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "master.key")
	if err := key.WriteFile(keyFile); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Addr, cfg.InternalAddr, cfg.DataDir, cfg.PublicURL, cfg.MasterKeyFile = "127.0.0.1:0", "127.0.0.1:0", dir, "https://hotline.example.az", keyFile
	cfg.Twilio = config.Twilio{AccountSID: fake.AccountSID(), AuthToken: fake.AuthToken(), PhoneNumber: "+994125550000", APIURL: fake.URL()}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	m := &Main{Config: cfg, Logger: zerolog.New(logs), ConsoleAddr: "127.0.0.1:0", PollInterval: 50 * time.Millisecond}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })

	const (
		name     = "Leyla Aliyeva"
		password = "a long passphrase for the console"
		reporter = "+994557654321"
		tip      = "Kömək edin, bizi Sumqayıtda zirzəmidə saxlayırlar, pasportları götürüblər"
		reply    = "Mesajınızı aldıq. Təhlükəsiz olanda bu nömrəyə yazın."
		reason   = "Polisə yönləndirildi, insanlar azad edildi"
		// priorityWhy is the reason for a priority change (sealed).
		priorityWhy = "Yoxlama: qapı açıqdır, heç kim saxlanmır"
	)
	admin := console.NewAdmin(m.Store(), m.Dispatcher(), nil)
	ctx := context.Background()
	if _, err := admin.AddOfficer(ctx, name, "+994501110001", "officer"); err != nil {
		t.Fatal(err)
	}
	if err := admin.SetPassword(ctx, name, password); err != nil {
		t.Fatal(err)
	}
	signed := func(from, body string) {
		t.Helper()
		form := url.Values{"MessageSid": {twiliotest.NewSID("SM")}, "AccountSid": {fake.AccountSID()}, "From": {from}, "To": {"+994125550000"}, "Body": {body}}
		req, err := twiliotest.NewSignedRequest(fake.AuthToken(), "http://"+m.Addr()+"/twilio/sms", cfg.PublicURL+"/twilio/sms", form)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("webhook: %d", resp.StatusCode)
		}
	}
	signed("+994551112233", "Salam, sizin iş saatlarınız nədir?") // P3, older
	signed(reporter, tip)                                         // P1, newer: still first
	cases, err := admin.Cases(ctx, true)
	if err != nil || len(cases) != 2 || cases[0].Priority != hotline.P1 {
		t.Fatalf("cases before the browser: %+v %v", cases, err)
	}
	p1 := cases[0].Code

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		t.Skipf("chromium at %s does not start here (%v): the browser test cannot run", chromium, err)
	}

	base := m.ConsoleURL()
	var shots []string
	shotDir := ""
	shoot := func(label string) {
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err != nil {
			return
		}
		if shotDir == "" {
			shotDir = filepath.Join(dir, "screenshots")
			os.MkdirAll(shotDir, 0o700)
		}
		p := filepath.Join(shotDir, fmt.Sprintf("%02d-%s.png", len(shots)+1, label))
		if os.WriteFile(p, png, 0o600) == nil {
			shots = append(shots, p)
		}
	}
	t.Cleanup(func() {
		if t.Failed() && len(shots) > 0 {
			// Copy out of the temp dir, which the test removes.
			keep, err := os.MkdirTemp("", "hotline-console-browser-")
			if err == nil {
				for _, s := range shots {
					if b, err := os.ReadFile(s); err == nil {
						os.WriteFile(filepath.Join(keep, filepath.Base(s)), b, 0o600)
					}
				}
				t.Logf("screenshots of each step: %s", keep)
			}
		}
	})
	// step runs a browser action with a time limit and a screenshot.
	step := func(label string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(bctx, 20*time.Second)
		defer cancel()
		err := chromedp.Do(sctx, actions...)
		shoot(label)
		if err != nil {
			t.Fatalf("%s: %v", label, err)
		}
	}
	// submit clicks a button that posts a form and waits for the page
	// it leads to.
	submit := func(label string, id string) {
		t.Helper()
		sctx, cancel := context.WithTimeout(bctx, 20*time.Second)
		defer cancel()
		resp, err := chromedp.RunResponse(sctx, chromedp.Click(chromedp.ID(id)))
		shoot(label)
		if err != nil {
			t.Fatalf("%s: %v", label, err)
		}
		if resp.Status >= 400 {
			t.Fatalf("%s: the page answered %d", label, resp.Status)
		}
	}
	text := func(sel chromedp.CSS) string {
		t.Helper()
		sctx, cancel := context.WithTimeout(bctx, 10*time.Second)
		defer cancel()
		s, err := chromedp.Run(sctx, chromedp.Text(sel))
		if err != nil {
			shoot("missing")
			t.Fatalf("read %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}

	// Log in: password, then TOTP enrolment from the page's key.
	step("login-page", chromedp.Navigate(base+"/queue"), chromedp.WaitVisible(chromedp.ID("login")),
		chromedp.SendKeys(chromedp.ID("name"), name), chromedp.SendKeys(chromedp.ID("password"), password))
	submit("password", "login")
	secret := text("#totp-secret")
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	step("totp", chromedp.SendKeys(chromedp.ID("code"), code))
	submit("queue", "verify")

	// The P1 case is at the top of the queue, which holds no tip text.
	if top := text("#queue tbody tr:first-child a.case-link"); top != p1 {
		t.Fatalf("top of the queue is %q, want the P1 case %s", top, p1)
	}
	queueHTML, _ := chromedp.Run(bctx, chromedp.OuterHTML(chromedp.CSS("main")))
	leaktest.Check(t, "queue page", queueHTML, leaktest.Runs(tip, 10)...)
	if d := os.Getenv("HOTLINE_SCREENSHOTS"); d != "" {
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err == nil {
			os.WriteFile(filepath.Join(d, "console-queue.png"), png, 0o644)
		}
	}

	// Open it and read the message.
	if _, err := chromedp.RunResponse(bctx, chromedp.Click(chromedp.CSS("#queue tbody tr:first-child a.case-link"))); err != nil {
		t.Fatalf("open case: %v", err)
	}
	shoot("case")
	if got := text("#timeline .msg.in .body"); got != tip {
		t.Fatalf("the case shows %q, want the tip", got)
	}

	// Acknowledge: the same Dispatcher.Acknowledge as SMS.
	submit("acknowledged", "ack")
	if s := text("#case-state"); s != "qəbul edilib" {
		t.Fatalf("state after ack: %q", s)
	}
	var alert hotline.Alert
	m.Store().View(func(tx *store.Tx) error {
		al, _ := tx.Alerts()
		for _, a := range al {
			if a.CaseCode == p1 {
				alert = a
			}
		}
		return nil
	})
	if alert.State != hotline.AlertAcknowledged || alert.AckedVia != "console" {
		t.Fatalf("alert after the console's ack: %s via %q", alert.State, alert.AckedVia)
	}

	// Triage was right, but suppose it was not: lower the case to P2 with
	// a reason; the page shows the change with triage's own verdict.
	step("priority-typed", chromedp.SetValue(chromedp.ID("new-priority"), "P2"), chromedp.SendKeys(chromedp.ID("priority-reason"), priorityWhy))
	submit("priority-changed", "change-priority")
	if got := text("#corrections"); !strings.Contains(got, "P1 → P2") || !strings.Contains(got, priorityWhy) || !strings.Contains(got, name) {
		t.Fatalf("the priority changes on the page: %q", got)
	}
	if c, err := m.Store().CaseByCode(p1); err != nil || c.Priority != hotline.P2 {
		t.Fatalf("case after the priority change: %s %v", c.Priority, err)
	}

	// Reply to the reporter: the outbox sends it from the hotline number.
	step("reply-typed", chromedp.SendKeys(chromedp.ID("reply-body"), reply))
	submit("replied", "send-reply")
	if !strings.Contains(text("#timeline"), reply) {
		t.Fatalf("the reply is not in the timeline")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		delivered := false
		for _, msg := range fake.Messages() {
			if msg.To == reporter && msg.Body == reply && msg.From == "+994125550000" {
				delivered = true
			}
		}
		if delivered {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the reply never reached the fake Twilio: %+v", fake.Messages())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if d := os.Getenv("HOTLINE_SCREENSHOTS"); d != "" {
		step("reload", chromedp.Navigate(base+"/cases/"+p1), chromedp.WaitVisible(chromedp.ID("timeline")))
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err == nil {
			os.WriteFile(filepath.Join(d, "console-case.png"), png, 0o644)
		}
	}

	// Close with a reason.
	step("closing", chromedp.SetValue(chromedp.ID("state"), "closed"), chromedp.SendKeys(chromedp.ID("reason"), reason))
	submit("closed", "change-state")
	if s := text("#case-state"); s != "bağlanıb" {
		t.Fatalf("state after close: %q", s)
	}
	c, err := m.Store().CaseByCode(p1)
	if err != nil || c.Status != hotline.CaseClosed {
		t.Fatalf("case after close: %s %v", c.Status, err)
	}

	// Log out: the queue now sends the browser to the login page.
	submit("logged-out", "logout")
	step("after-logout", chromedp.Navigate(base+"/queue"), chromedp.WaitVisible(chromedp.ID("login")))
	loc, err := chromedp.Run(bctx, chromedp.Location())
	if err != nil || !strings.HasSuffix(loc, "/login") {
		t.Fatalf("after logout /queue went to %q (%v), want the login page", loc, err)
	}

	// Everything was audited, and the chain holds.
	for _, action := range []string{"login", "totp.enrolled", "case.open", "case.ack", "case.reply", "case.priority", "case.state", "logout"} {
		if e, _ := m.Store().Audit(store.AuditFilter{Action: action}); len(e) == 0 {
			t.Errorf("no %s audit entry", action)
		}
	}
	if _, problems, err := m.Store().VerifyAudit(); err != nil || len(problems) > 0 {
		t.Errorf("audit chain: %v %v", problems, err)
	}
	leaktest.Check(t, "log", logs.String(), append(leaktest.Runs(tip, 12), reply, reason, priorityWhy, password, secret, reporter)...)
	if errors.Is(bctx.Err(), context.Canceled) {
		t.Fatal("browser context ended early")
	}
}
