package web_test

import (
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/hotline-az/hotline/console/web"
	"github.com/hotline-az/hotline/internal/leaktest"
	"github.com/hotline-az/hotline/store"
)

// try posts the login form once.
func (b *browser) try(name, password string) answer {
	b.h.t.Helper()
	return b.submit("/login", "/login", url.Values{"name": {name}, "password": {password}})
}

// passwordOK says whether a login attempt got past the password.
func passwordOK(a answer) bool {
	return a.status == http.StatusSeeOther && a.header.Get("Location") == "/login/totp"
}

func TestLoginDelayGrowsAndDoesNotTellNamesApart(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	wrong := b.try("Leyla Aliyeva", "wrong password")
	nobody := b.try("Nobody Atall", "wrong password")
	if wrong.status != http.StatusUnauthorized || nobody.status != http.StatusUnauthorized {
		t.Fatalf("wrong password %d, unknown name %d: want 401 both", wrong.status, nobody.status)
	}
	strip := func(s string) string { // the form echoes the name typed
		s = strings.ReplaceAll(s, "Leyla Aliyeva", "NAME")
		s = strings.ReplaceAll(s, "Nobody Atall", "NAME")
		return csrfRe.ReplaceAllString(s, "")
	}
	if strip(wrong.body) != strip(nobody.body) {
		t.Errorf("a wrong password and an unknown name get different pages")
	}
	for range 4 { // five failures are free
		b.try("Leyla Aliyeva", "wrong again")
	}
	if a := b.try("Leyla Aliyeva", "a sixth"); a.status != http.StatusUnauthorized {
		t.Fatalf("sixth failure: got %d, want 401", a.status)
	} // it delays the next try by 1s
	if a := b.try("Leyla Aliyeva", leylaPass); a.status != http.StatusTooManyRequests {
		t.Fatalf("right password within the delay, same name and client: got %d, want 429", a.status)
	}
	h.clock.Add(2 * time.Second)
	if a := b.try("Leyla Aliyeva", "wrong once more"); a.status != http.StatusUnauthorized {
		t.Fatalf("after the delay: got %d, want 401", a.status)
	}
	if a := b.try("Leyla Aliyeva", leylaPass); a.status != http.StatusTooManyRequests {
		t.Fatalf("delay did not grow: got %d, want 429", a.status)
	}
	h.clock.Add(1500 * time.Millisecond) // 1s was the first delay; the second is 2s
	if a := b.try("Leyla Aliyeva", leylaPass); a.status != http.StatusTooManyRequests {
		t.Fatalf("second delay shorter than 2s: got %d, want 429", a.status)
	}
	h.clock.Add(time.Second)
	if a := b.try("Leyla Aliyeva", leylaPass); !passwordOK(a) {
		t.Fatalf("after the second delay: got %d, want 303 to the code", a.status)
	}
	entries, err := h.st.Audit(store.AuditFilter{Action: "login.failed"})
	if err != nil || len(entries) != 8 {
		t.Fatalf("audit has %d failed logins (err %v), want 8", len(entries), err)
	}
	// Refusals cost no password check, and reach the audit log at most
	// once a minute per limit and key, not once each.
	if e, _ := h.st.Audit(store.AuditFilter{Action: "login.throttled"}); len(e) != 1 {
		t.Fatalf("audit has %d throttled logins, want 1", len(e))
	}
	h.clock.Add(2 * time.Minute)
	for range 7 {
		b.try("Leyla Aliyeva", "wrong after the login")
	}
	if e, _ := h.st.Audit(store.AuditFilter{Action: "login.throttled"}); len(e) != 2 {
		t.Fatalf("audit has %d throttled logins after another minute, want 2", len(e))
	}
}

// An attacker who knows an officer's name guesses from another address:
// the attacker is slowed down, the officer still logs in (the old
// per-name lock refused even the right password).
func TestGuessingANameElsewhereDoesNotLockTheOfficerOut(t *testing.T) {
	h := newHarness(t)
	attacker := h.browserFrom("127.0.0.2")
	var last answer
	for i := range 30 {
		last = attacker.try("Leyla Aliyeva", "guess "+string(rune('a'+i)))
	}
	if last.status != http.StatusTooManyRequests {
		t.Fatalf("attacker's 30th guess: got %d, want 429", last.status)
	}
	h.browser().login("Leyla Aliyeva", leylaPass, "")
}

// Several officers behind one office address: a spray of names from it
// throttles new pairs, but an officer who logged in from it before still
// gets in.
func TestSprayFromASharedAddressSparesKnownOfficers(t *testing.T) {
	h := newHarness(t)
	office := "127.0.0.3"
	h.browserFrom(office).login("Leyla Aliyeva", leylaPass, "")
	spray := h.browserFrom(office)
	for i := range 25 {
		spray.try("Made Up "+string(rune('A'+i)), "x")
	}
	if a := spray.try("Another Made Up", "x"); a.status != http.StatusTooManyRequests {
		t.Fatalf("spray from one address: got %d, want 429", a.status)
	}
	if a := h.browserFrom(office).try("Farid Admin", adminPass); a.status != http.StatusTooManyRequests {
		t.Fatalf("a pair new to the spraying address: got %d, want 429", a.status)
	}
	if a := h.browserFrom(office).try("Leyla Aliyeva", leylaPass); !passwordOK(a) {
		t.Fatalf("an officer who logged in from the address before: got %d, want 303 to the code", a.status)
	}
}

// Behind a reverse proxy every request comes from the proxy's address.
// With trusted_proxy set, X-Forwarded-For tells clients apart: the
// attacker is throttled, the officer is not. A forged left part of the
// header changes nothing.
func TestBehindATrustedProxyClientsAreThrottledApart(t *testing.T) {
	h := newHarnessWith(t, func(c *web.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	})
	attacker := h.browser()
	attacker.forwardedFor = "203.0.113.7"
	for i := range 10 {
		attacker.try("Leyla Aliyeva", "guess "+string(rune('a'+i)))
	}
	if a := attacker.try("Leyla Aliyeva", "more"); a.status != http.StatusTooManyRequests {
		t.Fatalf("attacker behind the proxy: got %d, want 429", a.status)
	}
	// The attacker names the officer's address; the proxy appends the real one.
	attacker.forwardedFor = "198.51.100.4, 203.0.113.7"
	if a := attacker.try("Leyla Aliyeva", leylaPass); a.status != http.StatusTooManyRequests {
		t.Fatalf("a forged X-Forwarded-For escaped the throttle: got %d, want 429", a.status)
	}
	officer := h.browser()
	officer.forwardedFor = "198.51.100.4"
	officer.login("Leyla Aliyeva", leylaPass, "")

	failed, _ := h.st.Audit(store.AuditFilter{Action: "login.failed"})
	logins, _ := h.st.Audit(store.AuditFilter{Action: "login"})
	if len(failed) == 0 || len(logins) != 1 || failed[0].From == logins[0].From || logins[0].From == "" {
		t.Fatalf("audit does not tell the attacker's address tag from the officer's: failed %+v, login %+v", failed, logins)
	}
	h.st.Close()
	raw, err := os.ReadFile(filepath.Join(h.dir, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	leaktest.Check(t, "data file", string(raw), "203.0.113.7", "198.51.100.4")
	leaktest.Check(t, "log", h.logs.String(), "203.0.113.7", "198.51.100.4")
}

// Without trusted_proxy, X-Forwarded-For is not believed: a fresh forged
// address on each guess does not reset the count.
func TestForwardedForIsIgnoredWithoutATrustedProxy(t *testing.T) {
	h := newHarness(t)
	attacker := h.browser()
	var last answer
	for i := range 7 {
		attacker.forwardedFor = "203.0.113." + string(rune('1'+i))
		last = attacker.try("Leyla Aliyeva", "guess")
	}
	if last.status != http.StatusTooManyRequests {
		t.Fatalf("forged X-Forwarded-For without a trusted proxy: got %d, want 429", last.status)
	}
}

// Guesses spread over many addresses spend the global budget; then only
// officers who logged in from their address before may try.
func TestGlobalBudgetStopsADistributedGuessButNotKnownOfficers(t *testing.T) {
	h := newHarnessWith(t, func(c *web.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		c.LoginFailureBudget = 10
	})
	officer := h.browser()
	officer.forwardedFor = "198.51.100.4"
	secret := officer.login("Leyla Aliyeva", leylaPass, "")
	officer.submit("/queue", "/logout", nil)
	for i := range 10 {
		bot := h.browser()
		bot.forwardedFor = "203.0.113." + string(rune('1'+i))
		if a := bot.try("Farid Admin", "guess"); a.status != http.StatusUnauthorized {
			t.Fatalf("bot %d: got %d, want 401 (the budget is not spent yet)", i, a.status)
		}
	}
	fresh := h.browser()
	fresh.forwardedFor = "192.0.2.99"
	if a := fresh.try("Farid Admin", adminPass); a.status != http.StatusTooManyRequests {
		t.Fatalf("a new client once the budget is spent: got %d, want 429", a.status)
	}
	officer.login("Leyla Aliyeva", leylaPass, secret)
	if e, _ := h.st.Audit(store.AuditFilter{Action: "login.throttled"}); len(e) != 1 || e[0].Detail != "global" {
		t.Fatalf("throttled entries: %+v, want one global", e)
	}
	// The budget refills: 10 an hour.
	h.clock.Add(10 * time.Minute)
	if a := fresh.try("Farid Admin", adminPass); !passwordOK(a) {
		t.Fatalf("after the budget refilled: got %d, want 303 to the code", a.status)
	}
}

// A TOTP code logs in once: the same code again, within its window, is
// refused and audited.
func TestTOTPCodeWorksOnce(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	secret := b.login("Leyla Aliyeva", leylaPass, "")
	code, err := totp.GenerateCode(secret, h.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	b.submit("/queue", "/logout", nil)
	h.clock.Add(5 * time.Second) // same 30-second window
	if a := b.try("Leyla Aliyeva", leylaPass); !passwordOK(a) {
		t.Fatalf("password: %d", a.status)
	}
	replay := b.submit("/login/totp", "/login/totp", url.Values{"code": {code}})
	if replay.status != http.StatusUnauthorized {
		t.Fatalf("the same code twice: got %d, want 401", replay.status)
	}
	// A code of an earlier step, still within the skew, is refused too.
	h.clock.Add(30 * time.Second)
	if a := b.submit("/login/totp", "/login/totp", url.Values{"code": {code}}); a.status != http.StatusUnauthorized {
		t.Fatalf("the old code one step later: got %d, want 401", a.status)
	}
	next, _ := totp.GenerateCode(secret, h.clock.Now())
	if a := b.submit("/login/totp", "/login/totp", url.Values{"code": {next}}); a.status != http.StatusSeeOther || a.header.Get("Location") != "/queue" {
		t.Fatalf("a fresh code: got %d %s, want 303 to /queue", a.status, a.header.Get("Location"))
	}
	e, _ := h.st.Audit(store.AuditFilter{Action: "login.failed"})
	if len(e) != 2 || e[0].Detail != "totp reused" {
		t.Fatalf("failed entries: %+v, want two 'totp reused'", e)
	}
}

// The language picked on the login page is the console's after login,
// and is kept for the officer's next login.
func TestLanguagePickedBeforeLoginSurvivesIt(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	page := b.get("/login?lang=ru")
	if !strings.Contains(page.body, `<html lang="ru">`) || !strings.Contains(page.body, `name="lang" value="ru"`) {
		t.Fatalf("login page in Russian does not carry the choice")
	}
	a := b.post("/login", url.Values{"name": {"Leyla Aliyeva"}, "password": {leylaPass}, "lang": {"ru"}, "csrf_token": {csrfToken(page.body)}})
	if !passwordOK(a) {
		t.Fatalf("password: %d", a.status)
	}
	totpPage := b.get("/login/totp")
	if !strings.Contains(totpPage.body, `<html lang="ru">`) {
		t.Fatalf("the code page lost the language")
	}
	secret := secretRe.FindStringSubmatch(totpPage.body)[1]
	code, _ := totp.GenerateCode(secret, h.clock.Now())
	if a := b.post("/login/totp", url.Values{"code": {code}, "csrf_token": {csrfToken(totpPage.body)}}); a.status != http.StatusSeeOther {
		t.Fatalf("code: %d", a.status)
	}
	if q := b.get("/queue"); !strings.Contains(q.body, `<html lang="ru">`) || !strings.Contains(q.body, "Открытые обращения") {
		t.Fatalf("the queue after login is not in Russian")
	}
	// A later login without a choice keeps Russian.
	b.submit("/queue", "/logout", nil)
	b.login("Leyla Aliyeva", leylaPass, secret)
	if q := b.get("/queue"); !strings.Contains(q.body, `<html lang="ru">`) {
		t.Fatalf("a login without a choice reset the officer's language")
	}
}

// Parallel wrong guesses from one client must not all get past the
// throttle before the first of them fails: each try is counted when it
// is let through, so no more passwords are checked than one after
// another (five free failures and the sixth, which starts the delay).
func TestParallelGuessesRunNoMorePasswordChecksThanTheThrottleAllows(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	tok := csrfToken(b.get("/login").body)
	const guesses = 60
	statuses := make(chan int, guesses)
	var start sync.WaitGroup
	start.Add(1)
	var done sync.WaitGroup
	for i := range guesses {
		done.Add(1)
		go func() {
			defer done.Done()
			form := url.Values{"name": {"Leyla Aliyeva"}, "password": {fmt.Sprintf("guess %d", i)}, "csrf_token": {tok}}
			req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/login", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			start.Wait()
			resp, err := b.c.Do(req)
			if err != nil {
				statuses <- 0
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	start.Done()
	done.Wait()
	close(statuses)
	got := map[int]int{}
	for s := range statuses {
		got[s]++
	}
	if got[http.StatusUnauthorized]+got[http.StatusTooManyRequests] != guesses {
		t.Fatalf("answers %v: want only 401 and 429", got)
	}
	entries, err := h.st.Audit(store.AuditFilter{Action: "login.failed"})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) > 6 || len(entries) != got[http.StatusUnauthorized] {
		t.Fatalf("%d parallel guesses ran %d password checks (%d answered 401), want at most 6", guesses, len(entries), got[http.StatusUnauthorized])
	}
	// Settled tries leave nothing in flight: after the delay the right
	// password gets in.
	h.clock.Add(2 * time.Second)
	if a := b.try("Leyla Aliyeva", leylaPass); !passwordOK(a) {
		t.Fatalf("right password after the delay: got %d, want 303", a.status)
	}
}

// codeTry posts a TOTP code on the half-done login of b.
func (b *browser) codeTry(code string) answer {
	b.h.t.Helper()
	return b.submit("/login/totp", "/login/totp", url.Values{"code": {code}})
}

// Someone with a stolen password gets five wrong codes per half-done
// login, then must give the password again; once the account has had
// five wrong codes, each further one ends the login. Every end is
// audited, and the officer's own right code still works.
func TestWrongCodesEndTheHalfDoneLogin(t *testing.T) {
	h := newHarness(t)
	secret := h.browser().login("Leyla Aliyeva", leylaPass, "")
	thief := h.browserFrom("127.0.0.4")
	if a := thief.try("Leyla Aliyeva", leylaPass); !passwordOK(a) {
		t.Fatalf("stolen password: got %d, want 303 to the code", a.status)
	}
	for i := range 4 {
		if a := thief.codeTry("00000" + string(rune('0'+i))); a.status != http.StatusUnauthorized {
			t.Fatalf("wrong code %d: got %d, want 401", i+1, a.status)
		}
	}
	if a := thief.codeTry("000009"); a.status != http.StatusSeeOther || a.header.Get("Location") != "/login?expired=1" {
		t.Fatalf("fifth wrong code: got %d %s, want 303 to /login?expired=1", a.status, a.header.Get("Location"))
	}
	if a := thief.get("/login/totp"); a.status != http.StatusSeeOther {
		t.Fatalf("the ended login still asks for a code: %d", a.status)
	}
	// The account has had five wrong codes: a new half-done login (from
	// yet another address, so no throttle delay) ends at the first.
	h.clock.Add(30 * time.Second)
	other := h.browserFrom("127.0.0.5")
	if a := other.try("Leyla Aliyeva", leylaPass); !passwordOK(a) {
		t.Fatalf("password again: got %d, want 303 to the code", a.status)
	}
	if a := other.codeTry("123456"); a.status != http.StatusSeeOther || a.header.Get("Location") != "/login?expired=1" {
		t.Fatalf("sixth wrong code on the account: got %d %s, want 303 to /login?expired=1", a.status, a.header.Get("Location"))
	}
	if e, err := h.st.Audit(store.AuditFilter{Action: "login.totp_locked"}); err != nil || len(e) != 2 {
		t.Fatalf("audit has %d login.totp_locked (err %v), want 2", len(e), err)
	}
	h.browser().login("Leyla Aliyeva", leylaPass, secret)
}
