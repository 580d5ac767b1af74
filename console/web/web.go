// Package web is the officer console: server-rendered pages where duty
// officers log in (password and TOTP), see the queue, open a case, read
// and answer the reporter, acknowledge alerts and move the case through
// its workflow (and reopen a closed case); every officer changes their
// own password; admins also manage officers and their logins, see and
// change the rota, retry dead outbox jobs and read the audit log.
//
// It is meant for the internal listener only. Every response carries a
// strict Content-Security-Policy (no script at all), Cache-Control:
// no-store, X-Frame-Options: DENY and Referrer-Policy: no-referrer; every
// form carries a gorilla/csrf token. Tip text appears on the case page
// only, never in a log, a URL or the queue.
package web

import (
	"crypto/rand"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/netip"
	"runtime"
	"time"

	"github.com/rs/zerolog"

	"github.com/hotline-az/hotline/config"
	"github.com/hotline-az/hotline/crypto"
	"github.com/hotline-az/hotline/dispatch"
	"github.com/hotline-az/hotline/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Defaults for Config's durations.
const (
	DefaultIdleTimeout     = 30 * time.Minute
	DefaultAbsoluteTimeout = 12 * time.Hour
	DefaultSafeReplyWindow = 24 * time.Hour
	// loginStageTimeout bounds the step between a right password and
	// the TOTP code.
	loginStageTimeout = 5 * time.Minute
)

// Config wires the console.
type Config struct {
	Store      *store.Store
	Dispatcher *dispatch.Dispatcher
	Logger     zerolog.Logger
	// Now is the clock (nil: time.Now); tests make sessions expire with it.
	Now func() time.Time
	// Secure marks cookies Secure and treats requests as HTTPS (a TLS
	// proxy in front). Only `serve --dev` on loopback sets it false.
	Secure bool
	// IdleTimeout and AbsoluteTimeout end sessions (defaults 30 min, 12 h).
	IdleTimeout     time.Duration
	AbsoluteTimeout time.Duration
	// SafeReplyWindow: a reply later than this after the reporter's last
	// message needs the officer to confirm a warning (default 24 h).
	SafeReplyWindow time.Duration
	// Location shows times (nil: Asia/Baku).
	Location *time.Location
	// CSRFKey signs CSRF cookies (32 bytes); nil means a random key per
	// process, so forms opened before a restart must be reloaded.
	CSRFKey []byte
	// TrustedProxies are the reverse proxies in front of the console:
	// only a request from one of them has its X-Forwarded-For believed
	// (for the login throttle and the audit log's address tag). Empty:
	// the TCP peer is the client.
	TrustedProxies []netip.Prefix
	// LoginFailureBudget is how many failed logins an hour the console
	// takes from clients that never logged in before (zero:
	// DefaultLoginFailureBudget).
	LoginFailureBudget int
	// Escalation is the alert policy in force, shown read-only on the
	// rota page (zero: not shown).
	Escalation config.Escalation
	// PasswordParams is the Argon2id cost of hashes made by the console
	// (zero: crypto.DefaultPasswordParams); tests lower it.
	PasswordParams crypto.PasswordParams
}

// handler holds what every page action needs.
type handler struct {
	cfg      Config
	st       *store.Store
	disp     *dispatch.Dispatcher
	log      zerolog.Logger
	now      func() time.Time
	loc      *time.Location
	pages    map[string]*template.Template
	throttle *throttle
	// dummyHash is verified when a login names nobody, so that an unknown
	// name takes as long as a wrong password.
	dummyHash string
	// verifying holds a slot per password check running: each Argon2id
	// check takes its memory (about 19 MiB by default), so a flood of
	// logins is answered 429 rather than run all at once.
	verifying chan struct{}
}

// New returns the console as an http.Handler.
func New(cfg Config) (http.Handler, error) {
	if cfg.Store == nil || cfg.Dispatcher == nil {
		return nil, errors.New("web: Store and Dispatcher are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.AbsoluteTimeout <= 0 {
		cfg.AbsoluteTimeout = DefaultAbsoluteTimeout
	}
	if cfg.SafeReplyWindow <= 0 {
		cfg.SafeReplyWindow = DefaultSafeReplyWindow
	}
	if cfg.LoginFailureBudget <= 0 {
		cfg.LoginFailureBudget = DefaultLoginFailureBudget
	}
	if cfg.PasswordParams == (crypto.PasswordParams{}) {
		cfg.PasswordParams = crypto.DefaultPasswordParams
	}
	if cfg.Location == nil {
		loc, err := time.LoadLocation("Asia/Baku")
		if err != nil {
			loc = time.UTC
		}
		cfg.Location = loc
	}
	if cfg.CSRFKey == nil {
		cfg.CSRFKey = make([]byte, 32)
		if _, err := rand.Read(cfg.CSRFKey); err != nil {
			return nil, err
		}
	}
	if len(cfg.CSRFKey) != 32 {
		return nil, errors.New("web: CSRFKey must be 32 bytes")
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	dummy, err := crypto.HashPassword(rand.Text(), cfg.PasswordParams)
	if err != nil {
		return nil, err
	}
	h := &handler{
		cfg: cfg, st: cfg.Store, disp: cfg.Dispatcher, now: cfg.Now, loc: cfg.Location,
		log:       cfg.Logger.With().Str("component", "console").Logger(),
		pages:     pages,
		throttle:  newThrottle(cfg.LoginFailureBudget),
		dummyHash: dummy,
		verifying: make(chan struct{}, runtime.NumCPU()),
	}
	return h.routes(), nil
}

// parsePages parses each page with the layout.
func parsePages() (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		base := n[len("templates/") : len(n)-len(".html")]
		if base == "layout" {
			continue
		}
		t, err := template.New("layout.html").Funcs(templateFuncs).ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", base, err)
		}
		pages[base] = t
	}
	return pages, nil
}
