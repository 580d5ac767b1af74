package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/config"
	"github.com/hotline-az/hotline/console"
	"github.com/hotline-az/hotline/crypto"
	"github.com/hotline-az/hotline/dispatch"
	"github.com/hotline-az/hotline/dispatch/twilioapi"
	"github.com/hotline-az/hotline/intake"
	"github.com/hotline-az/hotline/store"
)

const serveUsage = `Usage: hotline serve [--config FILE] [--data DIR] [--addr HOST:PORT]
                     [--internal-addr HOST:PORT] [--console-addr HOST:PORT]
                     [--allow-public-internal] [--dev]
                     [--dev-fail NUMBER] [--dev-unanswered]

Runs the hotline server on two listeners.

Public (--addr, default 127.0.0.1:8080; put a TLS proxy in front of it), for
Twilio and nothing else:
  POST /twilio/sms          inbound SMS (tips, and officers' acknowledgements)
  POST /twilio/status       delivery status of alert SMS and calls
  POST /twilio/alert-call   TwiML of the alert call ("press 1 to acknowledge")
  POST /twilio/voice        inbound call: the voice menu (and /twilio/voice/*)
  GET  /prompts/LANG/NAME.wav  the voice menu's audio prompts
  POST /twilio/recording    a voicemail is ready: queued for download
  GET  /healthz             "ok": the process is up
Any other path is 404.

Internal (--internal-addr, default 127.0.0.1:9090; loopback or a private
address, refused otherwise unless --allow-public-internal):
  GET  /readyz              "ready", or 503 and why: the alert worker stopped,
                            or the data file took no durable write (checked
                            at most every 5s)
  GET  /metrics             Prometheus counts (no identifying data)
  GET  /debug/pprof/        Go profiling (net/http/pprof)
  GET  /healthz             "ok"

Officer console (console_addr, --console-addr, default 127.0.0.1:9091; loopback or a
private address).

Also runs the alert worker (escalation timers, outbox) and the admin socket
DATA/admin.sock used by 'hotline officers|rota|alerts'.

Configuration comes from the TOML file, then HOTLINE_* and TWILIO_*
environment variables, then flags. Every problem is reported at once and
the server exits before opening anything.

--dev needs nothing else: it creates ./hotline-dev (or --data), a dev
master key file in it, a dev Twilio auth token it prints, and listens on
127.0.0.1 only (8080, 9090 and the console's 9091). It is for trying out
only: never put real tips in it. Its outbox prints each SMS and call with
its SID and status callback (for 'twilio-sim status'); --dev-fail NUMBER
makes deliveries to NUMBER fail and --dev-unanswered leaves every call
unanswered, each reported to the status webhook after 3 s as Twilio would,
so the escalation moves on.

Example:
  hotline serve --config /etc/hotline/hotline.toml
  curl -s http://127.0.0.1:9090/readyz

Flags:
`

// Main is the running server: everything wired in Run, released in Close.
// Tests reuse it on 127.0.0.1:0 with a temporary data directory.
type Main struct {
	Config config.Config
	Logger zerolog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// PollInterval is how often the alert worker looks for due work
	// (zero: dispatch's default). Tests shorten it.
	PollInterval time.Duration
	// Stdout receives the dev outbox (zero: os.Stdout).
	Stdout io.Writer
	// ConsoleAddr is where the officer console listens ("" : no console).
	ConsoleAddr string
	// DevFail, DevUnanswered and DevRingTime make the dev outbox fail
	// deliveries (serve --dev-fail, --dev-unanswered; see dev.go).
	DevFail       []string
	DevUnanswered bool
	DevRingTime   time.Duration
	devSink       *dispatch.DevSink
	// HousekeepingTick is how often scheduled backups and the retention
	// purge are checked for being due (zero: every minute). Tests shorten it.
	HousekeepingTick time.Duration

	store            *store.Store
	dispatcher       *dispatch.Dispatcher
	listener         net.Listener
	server           *http.Server
	internalListener net.Listener
	internalServer   *http.Server
	adminServer      *http.Server
	done             chan error
	stopWorker       context.CancelFunc
	worker           *alertWorker
	// media runs recording downloads and redactions (nil without a
	// Twilio account); mediaDone closes when it has stopped.
	media        *dispatch.MediaWorker
	mediaDone    chan struct{}
	housekeeping *housekeeping

	// consoleListener and consoleServer serve the officer console.
	consoleListener net.Listener
	consoleServer   *http.Server
	// consoleDone is closed when the console stops serving, consoleErr
	// set to why.
	consoleDone chan struct{}
	consoleErr  error
}

// Dispatcher gives tests the alert dispatcher.
func (m *Main) Dispatcher() *dispatch.Dispatcher { return m.dispatcher }

// sender is Twilio's REST API, or in dev without a Twilio account a sink
// that prints.
func (m *Main) sender() (dispatch.Sender, error) {
	cfg := m.Config
	if cfg.Dev && cfg.Twilio.AccountSID == "" {
		out := m.Stdout
		if out == nil {
			out = os.Stdout
		}
		m.Logger.Warn().Msg("DEV MODE: outbound SMS and calls are printed, not sent")
		return m.newDevSink(out), nil
	}
	return twilioapi.New(twilioapi.Config{
		AccountSID: cfg.Twilio.AccountSID, AuthToken: cfg.Twilio.AuthToken,
		From: cfg.Twilio.PhoneNumber, APIURL: cfg.Twilio.APIURL,
	})
}

// Addr is where the public listener (Twilio's webhooks) listens, once Run
// has returned.
func (m *Main) Addr() string { return m.listener.Addr().String() }

// InternalAddr is where the internal listener (/readyz, /metrics, pprof)
// listens, once Run has returned.
func (m *Main) InternalAddr() string { return m.internalListener.Addr().String() }

// WorkerRunning reports whether the alert worker is still working (it is
// what /readyz checks).
func (m *Main) WorkerRunning() bool { return m.worker != nil && m.worker.Running() }

// Store gives tests the open store.
func (m *Main) Store() *store.Store { return m.store }

// Run opens the store and starts serving in the background.
func (m *Main) Run(ctx context.Context) error {
	cfg := m.Config
	key, err := masterKeySource(cfg)
	if err != nil {
		return err
	}
	st, err := store.Open(cfg.DataDir, key, store.Options{Now: m.Now, Logger: m.Logger, MinFreeSpace: uint64(cfg.MinFreeSpace)})
	if err != nil {
		return err
	}
	m.store = st

	tri, err := loadTriager(cfg.TriageRules)
	if err != nil {
		st.Close()
		return err
	}
	replies := map[hotline.Lang]string{}
	for l, t := range cfg.Replies {
		replies[hotline.Lang(l)] = t
	}
	sender, err := m.sender()
	if err != nil {
		st.Close()
		return err
	}
	disp, err := dispatch.New(dispatch.Config{
		Store: st, Sender: sender, Escalation: cfg.Escalation, PublicURL: cfg.PublicURL,
		Logger: m.Logger, PollInterval: m.PollInterval,
	})
	if err != nil {
		st.Close()
		return err
	}
	m.dispatcher = disp
	if m.media, err = m.newMediaWorker(st, sender); err != nil {
		st.Close()
		return err
	}
	if cfg.Dev {
		if err := seedDevOfficers(ctx, st, m.Logger); err != nil {
			st.Close()
			return err
		}
	}
	if warnings, err := disp.Coverage(); err != nil {
		m.Logger.Error().Err(err).Msg("check rota coverage")
	} else {
		for _, w := range warnings {
			m.Logger.Warn().Str("problem", w).Msg("alert coverage")
		}
	}
	verifier, err := intake.NewVerifier(intake.VerifierConfig{
		PublicURL:  cfg.PublicURL,
		AuthTokens: []string{cfg.Twilio.AuthToken, cfg.Twilio.SecondaryAuthToken},
		AccountSID: cfg.WebhookAccountSID(),
		Numbers:    cfg.WebhookNumbers(),
		Now:        m.Now,
		// A flood of forged webhooks waits for its refusals.
		RefusalDelay: intake.DefaultRefusalDelay,
	})
	if err != nil {
		st.Close()
		return err
	}
	sms := intake.NewSMSHandler(intake.SMSConfig{
		Verifier:   verifier,
		Store:      st,
		Triager:    tri,
		CaseWindow: cfg.CaseWindow.Duration,
		Replies:    replies,
		Officers:   disp,
		OnInbound:  disp.OnInbound,
		AfterStore: func() { disp.Wake(); m.media.Wake() },
		// Without a Twilio account (dev) there is nothing to redact.
		RedactAtTwilio: cfg.Twilio.EraseAtTwilio && m.media != nil,
	})
	alerts := &intake.AlertHandlers{Verifier: verifier, Alerts: disp, DefaultLang: hotline.Lang(cfg.Voice.OfficerLang)}
	voice, prompts, err := newVoice(cfg, verifier, st, disp)
	if err != nil {
		st.Close()
		return err
	}
	recording := intake.NewRecordingHandler(intake.RecordingConfig{
		Verifier: verifier, Store: st, AfterStore: m.media.Wake, Calls: callCases{st},
	})

	now := m.Now
	if now == nil {
		now = time.Now
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		st.Close()
		return listenError(cfg.Addr, "addr", err)
	}
	internalLn, err := net.Listen("tcp", cfg.InternalAddr)
	if err != nil {
		ln.Close()
		st.Close()
		return listenError(cfg.InternalAddr, "internal_addr", err)
	}
	adminLn, err := console.ListenAdminSocket(filepath.Join(cfg.DataDir, console.AdminSocketName))
	if err != nil {
		ln.Close()
		internalLn.Close()
		st.Close()
		return fmt.Errorf("admin socket: %w", err)
	}
	m.listener, m.internalListener = ln, internalLn

	workCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m.stopWorker = cancel
	m.worker = startAlertWorker(workCtx, disp, m.Logger)
	m.startMediaWorker(workCtx)

	met := newMetrics(st, now)
	met.registry.MustRegister(verifier.Metrics(), disp)
	m.server = &http.Server{
		Handler:           newPublicRouter(m.Logger, met, sms, alerts, voice, prompts, recording),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       20 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       90 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	loc, _ := time.LoadLocation(cfg.Escalation.TimeZone) // validated with the config
	ready := newReadiness(st, m.worker, now, m.Logger)
	// A failed commit (a full disk) keeps the server unready until a write
	// succeeds; so does Twilio failing for longer than outage_alarm.
	ready.also("data file write failed", st.Healthy)
	ready.also("alerts are not going out", disp.Ready)
	admin := console.NewAdmin(st, disp, loc)
	admin.SetRetention(retentionPolicy(cfg.Retention))
	if m.media == nil {
		admin.SetNoRecordingDownloads()
	}
	m.housekeeping, err = newHousekeeping(st, admin, cfg, now, m.Logger)
	if err != nil {
		ln.Close()
		internalLn.Close()
		adminLn.Close()
		cancel()
		<-m.worker.done
		st.Close()
		return err
	}
	met.registry.MustRegister(m.housekeeping)
	ready.also("backups are overdue", m.housekeeping.backupReady)
	go m.housekeeping.run(workCtx, cmp.Or(m.HousekeepingTick, time.Minute))
	internal := newInternalRouter(met, ready)
	// The officer console mounts its routes on internal here, before the
	// listener starts serving (a mux.Router takes no routes while it serves).
	m.internalServer = &http.Server{
		Handler:           withRequestLog(m.Logger.With().Str("listener", "internal").Logger(), internal),
		ReadHeaderTimeout: 5 * time.Second,
		// A CPU profile or trace runs for ?seconds= (30 by default) before
		// it answers; pprof refuses durations beyond the write timeout.
		WriteTimeout:   5 * time.Minute,
		IdleTimeout:    90 * time.Second,
		MaxHeaderBytes: 16 << 10,
	}
	m.adminServer = &http.Server{
		Handler:           console.NewAdminHandler(admin, m.Logger),
		ReadHeaderTimeout: 5 * time.Second,
	}
	go m.adminServer.Serve(adminLn)
	if m.ConsoleAddr != "" {
		if err := m.startConsole(loc); err != nil {
			m.adminServer.Close()
			ln.Close()
			internalLn.Close()
			cancel()
			<-m.worker.done
			if m.mediaDone != nil {
				<-m.mediaDone
			}
			// Housekeeping may be purging the store: it must end before
			// the store closes and before Run returns (it logs).
			<-m.housekeeping.done
			st.Close()
			return err
		}
		ready.also("officer console stopped", m.consoleStopped)
	}

	m.done = make(chan error, 2)
	go func() { m.done <- m.server.Serve(ln) }()
	go func() { m.done <- m.internalServer.Serve(internalLn) }()
	m.Logger.Info().Str("addr", ln.Addr().String()).Str("internal_addr", internalLn.Addr().String()).
		Bool("dev", cfg.Dev).Msg("listening")
	return nil
}

// listenError says which setting to change when a listener cannot start
// (most often its port is taken), naming the flag, the environment variable
// and the config key.
func listenError(addr, key string, err error) error {
	flagName := "--" + strings.ReplaceAll(key, "_", "-")
	return fmt.Errorf("listen on %s (%s): %w; choose another address with %s (or HOTLINE_%s, or %s in --config)",
		addr, key, err, flagName, strings.ToUpper(key), key)
}

// shutdownBudget bounds Close as a whole: systemd's TimeoutStopSec (30 s in
// deploy/hotline.service) kills the process after that, and a kill before
// the store is closed would leave the last batch to bbolt's recovery.
var shutdownBudget = 20 * time.Second

// Close stops accepting requests, lets in-flight ones finish (their data
// is made durable before they answer), then closes the store. Everything
// before the store closes in parallel under one deadline, so a slow
// listener cannot push the whole stop past systemd's timeout.
func (m *Main) Close() error {
	if m.devSink != nil {
		// Dev only: failures not yet reported are dropped (a report being
		// posted has its own 10 s limit).
		m.devSink.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), shutdownBudget)
	defer cancel()
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	report := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	shutdown := func(srv *http.Server, name string) {
		if srv == nil {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A running CPU profile or a stuck client would otherwise hold
			// Shutdown past the budget; past it, connections are cut.
			if err := srv.Shutdown(ctx); errors.Is(err, context.DeadlineExceeded) {
				srv.Close()
				report(fmt.Errorf("%s listener: in-flight requests cut after %s", name, shutdownBudget))
			} else {
				report(err)
			}
		}()
	}
	// await waits for a background worker to stop, up to the deadline.
	await := func(done <-chan struct{}, name string) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case <-done:
			case <-ctx.Done():
				report(fmt.Errorf("%s: still busy at the shutdown deadline", name))
			}
		}()
	}
	if m.stopWorker != nil {
		m.stopWorker()
		// Outbound jobs, media jobs and purge batches are durable or
		// transactional: one cut short runs again at the next start, and a
		// scheduled backup stops at its next chunk (its partial file removed).
		await(m.worker.done, "alert worker")
		if m.mediaDone != nil {
			await(m.mediaDone, "media worker")
		}
		if m.housekeeping != nil {
			await(m.housekeeping.done, "scheduled backup or purge")
		}
	}
	shutdown(m.server, "public")
	shutdown(m.internalServer, "internal")
	shutdown(m.consoleServer, "console")
	shutdown(m.adminServer, "admin")
	wg.Wait()
	if m.store != nil {
		errs = append(errs, m.store.Close())
	}
	return errors.Join(errs...)
}

func masterKeySource(cfg config.Config) (store.MasterKeySource, error) {
	switch {
	case cfg.MasterKey != "":
		k, err := crypto.ParseMasterKey(cfg.MasterKey)
		if err != nil {
			return store.MasterKeySource{}, fmt.Errorf("HOTLINE_MASTER_KEY: %w", err)
		}
		return store.MasterKeySource{Key: &k}, nil
	case cfg.MasterKeyFile != "":
		k, err := crypto.ReadMasterKeyFile(cfg.MasterKeyFile)
		if err != nil {
			return store.MasterKeySource{}, fmt.Errorf("master_key_file: %w", err)
		}
		return store.MasterKeySource{Key: &k}, nil
	case cfg.MasterPassphrase != "":
		p := []byte(cfg.MasterPassphrase)
		if err := crypto.CheckPassphrase(p); err != nil {
			return store.MasterKeySource{}, fmt.Errorf("HOTLINE_MASTER_PASSPHRASE: %w", err)
		}
		return store.MasterKeySource{Passphrase: p}, nil
	case cfg.MasterPassphraseFile != "":
		p, err := crypto.ReadPassphraseFile(cfg.MasterPassphraseFile)
		if err != nil {
			return store.MasterKeySource{}, fmt.Errorf("master_passphrase_file: %w", err)
		}
		return store.MasterKeySource{Passphrase: p}, nil
	}
	return store.MasterKeySource{}, errors.New("no master key configured")
}

// prepareDev fills what --dev promises: a data directory, a master key
// file and an auth token, each kept across restarts of the same directory.
func prepareDev(cfg *config.Config, explicitData bool, log zerolog.Logger, stderr io.Writer) error {
	if !explicitData {
		cfg.DataDir = "hotline-dev"
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create dev data directory: %w", err)
	}
	if cfg.MasterKey == "" && cfg.MasterKeyFile == "" && cfg.MasterPassphrase == "" && cfg.MasterPassphraseFile == "" {
		path := filepath.Join(cfg.DataDir, "dev-master.key")
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			k, err := crypto.GenerateMasterKey()
			if err != nil {
				return err
			}
			if err := k.WriteFile(path); err != nil {
				return fmt.Errorf("write dev master key: %w", err)
			}
		}
		cfg.MasterKeyFile = path
		log.Warn().Str("key_file", path).Msg("DEV MODE: using a generated master key stored next to the data. For trying out only: never use --dev for real tips")
	}
	if cfg.Twilio.AuthToken == "" {
		path := filepath.Join(cfg.DataDir, "dev-auth-token")
		b, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			var raw [16]byte
			if _, err := rand.Read(raw[:]); err != nil {
				return err
			}
			b = []byte("dev" + hex.EncodeToString(raw[:]))
			if err := os.WriteFile(path, b, 0o600); err != nil {
				return fmt.Errorf("write dev auth token: %w", err)
			}
		} else if err != nil {
			return err
		}
		cfg.Twilio.AuthToken = strings.TrimSpace(string(b))
		signFor := ""
		if cfg.PublicURL != "" && cfg.PublicURL != "http://"+cfg.Addr {
			signFor = " --sign-url " + cfg.PublicURL // signatures are checked against public_url
		}
		fmt.Fprintf(stderr, "DEV MODE: webhook auth token is %s\n  try: go run ./scripts/twilio-sim sms --token %s --url http://%s/twilio/sms%s --from +994501234567 \"salam\"\n",
			cfg.Twilio.AuthToken, cfg.Twilio.AuthToken, cfg.Addr, signFor)
	}
	if cfg.PublicURL == "" {
		cfg.PublicURL = "http://" + cfg.Addr
	}
	return nil
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var flags config.Flags
	fs.StringVar(&flags.ConfigFile, "config", "", "TOML configuration file")
	fs.StringVar(&flags.DataDir, "data", "", "data directory (overrides data_dir and HOTLINE_DATA_DIR)")
	fs.StringVar(&flags.Addr, "addr", "", "public listen address host:port, Twilio's webhooks only (overrides addr and HOTLINE_ADDR)")
	fs.StringVar(&flags.InternalAddr, "internal-addr", "", "internal listen address host:port for /readyz, /metrics, pprof\n(overrides internal_addr and HOTLINE_INTERNAL_ADDR; default 127.0.0.1:9090)")
	fs.BoolVar(&flags.AllowPublicInternal, "allow-public-internal", false, "accept an internal address that is neither loopback nor private\n(only behind a firewall: metrics show when a P1 case opens)")
	fs.BoolVar(&flags.Dev, "dev", false, "local try-out: generated keys, no Twilio account, 127.0.0.1 only")
	consoleAddr := fs.String("console-addr", "", "officer console listen address, loopback or private (overrides console_addr and\nHOTLINE_CONSOLE_ADDR; default 127.0.0.1:9091; --console-addr= turns it off)")
	var devFail []string
	fs.Var(devFailFlag{&devFail}, "dev-fail", "with --dev: SMS to this number come back undelivered and calls to it fail\n(repeat or separate with commas)")
	devUnanswered := fs.Bool("dev-unanswered", false, "with --dev: every alert call rings out unanswered")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), serveUsage)
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "hotline serve: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "console-addr" {
			flags.ConsoleAddr = consoleAddr
		}
	})
	cfg, err := config.Load(flags, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "hotline serve: %v\n", err)
		return 2
	}
	log := newLogger(stderr, cfg.LogLevel)
	if (len(devFail) > 0 || *devUnanswered) && (!cfg.Dev || cfg.Twilio.AccountSID != "") {
		fmt.Fprintf(stderr, "hotline serve: --dev-fail and --dev-unanswered need --dev without a Twilio account (they act on the dev outbox)\n")
		return 2
	}
	if cfg.Dev {
		for _, a := range []struct{ name, addr string }{{"addr", cfg.Addr}, {"internal_addr", cfg.InternalAddr}, {"console_addr", cfg.ConsoleAddr}} {
			if a.addr == "" {
				continue // the console turned off
			}
			if host, _, err := net.SplitHostPort(a.addr); err == nil && host != "127.0.0.1" && host != "localhost" && host != "::1" {
				fmt.Fprintf(stderr, "hotline serve: --dev listens on loopback only; %s %q is not loopback\n", a.name, a.addr)
				return 2
			}
		}
		explicitData := flags.DataDir != "" || getenv("HOTLINE_DATA_DIR") != ""
		if err := prepareDev(&cfg, explicitData, log, stderr); err != nil {
			fmt.Fprintf(stderr, "hotline serve: %v\n", err)
			return 1
		}
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "hotline serve: invalid configuration:\n  %s\n", strings.ReplaceAll(err.Error(), "\n", "\n  "))
		return 2
	}
	// The webhook path allocates short-lived garbage; collecting less often
	// trades some memory (plentiful) for CPU (2 cores). GOGC still wins.
	if getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	m := &Main{Config: cfg, Logger: log, ConsoleAddr: cfg.ConsoleAddr, DevFail: devFail, DevUnanswered: *devUnanswered}
	if err := m.Run(ctx); err != nil {
		fmt.Fprintf(stderr, "hotline serve: %v\n", err)
		return 1
	}
	select {
	case <-ctx.Done():
		log.Info().Msg("shutting down")
	case err := <-m.done:
		if !errors.Is(err, http.ErrServerClosed) {
			log.Error().Err(err).Msg("server stopped")
		}
	}
	if err := m.Close(); err != nil {
		log.Error().Err(err).Msg("close")
		return 1
	}
	return 0
}

func newLogger(w io.Writer, level string) zerolog.Logger {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || level == "" {
		lvl = zerolog.InfoLevel
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Str("service", "hotline").Logger()
}
