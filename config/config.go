// Package config loads hotline's configuration from a TOML file, environment
// variables and flags, in that order of precedence (flags win), and validates
// it all at once so an operator sees every problem in one run.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/dustin/go-humanize"
	"github.com/hotline-az/hotline/crypto"
	"github.com/nyaruka/phonenumbers"
)

// Duration is a time.Duration written as "168h" or "30m" in the file.
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("not a duration like \"168h\" or \"30m\": %q", b)
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// ByteSize is a size in bytes written as "1GiB", "500MB" or "1073741824"
// in the file.
type ByteSize uint64

// UnmarshalText parses a size with an optional unit (KB, MB, GB are powers
// of 1000; KiB, MiB, GiB powers of 1024).
func (b *ByteSize) UnmarshalText(text []byte) error {
	v, err := humanize.ParseBytes(strings.TrimSpace(string(text)))
	if err != nil {
		return fmt.Errorf("not a size like \"1GiB\" or \"500MB\": %q", text)
	}
	*b = ByteSize(v)
	return nil
}

// MarshalText writes the size in IEC units ("1.0 GiB").
func (b ByteSize) MarshalText() ([]byte, error) { return []byte(humanize.IBytes(uint64(b))), nil }

// Twilio holds the account the hotline number belongs to.
type Twilio struct {
	AccountSID string `toml:"account_sid"`
	// AuthToken signs webhooks and authenticates REST calls. Secret: prefer
	// the TWILIO_AUTH_TOKEN environment variable over the file.
	AuthToken string `toml:"auth_token"`
	// SecondaryAuthToken is accepted on webhooks too, so the token can be
	// rotated in Twilio's console without dropping tips.
	SecondaryAuthToken string `toml:"secondary_auth_token"`
	// PhoneNumber is the hotline number: the sender of alerts, and a
	// number inbound SMS may be addressed to.
	PhoneNumber string `toml:"phone_number"`
	// Numbers are further numbers of the account that route SMS to the
	// hotline (E.164). An inbound SMS addressed To any other number is
	// refused: it was not sent to this hotline.
	Numbers []string `toml:"numbers"`
	// APIURL points the REST client somewhere other than api.twilio.com
	// (tests, Prism). Empty means real Twilio.
	APIURL string `toml:"api_url"`
	// EraseAtTwilio blanks each SMS tip's body and deletes each voicemail
	// recording at Twilio once it is stored here, so Twilio's logs keep
	// only metadata. On by default; off keeps Twilio's copies (recordings
	// are still downloaded).
	EraseAtTwilio bool `toml:"erase_at_twilio"`
}

// Config is the whole of hotline's configuration.
type Config struct {
	// Addr is the public listen address: Twilio's webhooks and a bare
	// /healthz, nothing else (put a TLS proxy in front of it).
	Addr string `toml:"addr"`
	// InternalAddr is the listen address of /metrics, /readyz, pprof and
	// (later) the officer console. It must be a loopback or private
	// address unless AllowPublicInternal is set.
	InternalAddr string `toml:"internal_addr"`
	// ConsoleAddr is the officer console's listen address (loopback or
	// private; "" turns the console off).
	ConsoleAddr string `toml:"console_addr"`
	// Console holds the console's session and reply settings.
	Console Console `toml:"console"`
	// AllowPublicInternal accepts an InternalAddr that is neither loopback
	// nor private (set by --allow-public-internal: a firewall must guard it).
	AllowPublicInternal bool `toml:"-"`
	// DataDir holds the bbolt file, the admin socket and (in dev) the key.
	DataDir string `toml:"data_dir"`
	// PublicURL is the URL Twilio calls, e.g. https://hotline.example.az.
	// Webhook signatures are checked against it, not against the request.
	PublicURL string `toml:"public_url"`

	// MasterKey is base64 of 32 bytes, from HOTLINE_MASTER_KEY only: a
	// secret never belongs in a config file.
	MasterKey string `toml:"-"`
	// MasterKeyFile is a 0600 file holding the base64 master key.
	MasterKeyFile string `toml:"master_key_file"`
	// MasterPassphraseFile holds a passphrase run through Argon2id; the
	// passphrase itself may come from HOTLINE_MASTER_PASSPHRASE.
	MasterPassphraseFile string `toml:"master_passphrase_file"`
	MasterPassphrase     string `toml:"-"`

	// CaseWindow is how long a reporter's case stays open for new texts.
	CaseWindow Duration `toml:"case_window"`
	// TriageRules names a rules file that replaces the built-in rules.
	TriageRules string `toml:"triage_rules"`
	// Replies overrides the SMS reply per language ("az", "ru", "en");
	// "{code}" is replaced by the case reference.
	Replies map[string]string `toml:"replies"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `toml:"log_level"`
	// MinFreeSpace is the free space in data_dir's file system below which
	// the server warns (log and metric); 0 turns the warning off.
	MinFreeSpace ByteSize `toml:"min_free_space"`

	Twilio Twilio `toml:"twilio"`

	// Escalation is the rota time zone and alert policies.
	Escalation Escalation `toml:"escalation"`

	// Voice is the voice line's menu (config/voice.go).
	Voice Voice `toml:"voice"`

	// BackupRecipients are the age public keys (age1...) `hotline backup`
	// encrypts to; HOTLINE_BACKUP_RECIPIENTS holds them comma-separated.
	BackupRecipients []string `toml:"backup_recipients"`

	// Retention says what the daily purge removes (retention.go).
	Retention Retention `toml:"retention"`
	// Backup schedules encrypted backups in the server (retention.go).
	Backup ScheduledBackup `toml:"backup"`

	// Dev is set by `serve --dev`: generated keys, no Twilio account.
	Dev bool `toml:"-"`
}

// Default returns the configuration used where nothing else is said.
func Default() Config {
	return Config{
		Addr:         "127.0.0.1:8080",
		InternalAddr: "127.0.0.1:9090",
		ConsoleAddr:  DefaultConsoleAddr,
		Console:      DefaultConsole(),
		DataDir:      "/var/lib/hotline",
		CaseWindow:   Duration{7 * 24 * time.Hour},
		LogLevel:     "info",
		MinFreeSpace: 1 << 30,
		Escalation:   DefaultEscalation(),
		Retention:    DefaultRetention(),
		Backup:       ScheduledBackup{Keep: 7},
		Voice:        DefaultVoice(),
		Twilio:       Twilio{EraseAtTwilio: true},
	}
}

// Flags are the command-line values that override file and environment.
// Empty strings mean "not given".
type Flags struct {
	ConfigFile          string
	DataDir             string
	Addr                string
	InternalAddr        string
	AllowPublicInternal bool
	Dev                 bool
	// ConsoleAddr is --console-addr when given (nil: not given; "" turns
	// the console off).
	ConsoleAddr *string
}

// Load reads the file named by flags (if any), applies environment
// variables from getenv, then the flags. It does not validate.
func Load(flags Flags, getenv func(string) string) (Config, error) {
	cfg := Default()
	if flags.ConfigFile != "" {
		md, err := toml.DecodeFile(flags.ConfigFile, &cfg)
		if err != nil {
			return cfg, fmt.Errorf("config file %s: %w", flags.ConfigFile, err)
		}
		if und := md.Undecoded(); len(und) > 0 {
			keys := make([]string, len(und))
			for i, k := range und {
				keys[i] = k.String()
			}
			return cfg, fmt.Errorf("config file %s: unknown field(s): %s", flags.ConfigFile, strings.Join(keys, ", "))
		}
	}
	env := func(name string, dst *string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	env("HOTLINE_ADDR", &cfg.Addr)
	env("HOTLINE_INTERNAL_ADDR", &cfg.InternalAddr)
	env("HOTLINE_CONSOLE_ADDR", &cfg.ConsoleAddr)
	env("HOTLINE_DATA_DIR", &cfg.DataDir)
	env("HOTLINE_PUBLIC_URL", &cfg.PublicURL)
	env("HOTLINE_MASTER_KEY", &cfg.MasterKey)
	env("HOTLINE_MASTER_KEY_FILE", &cfg.MasterKeyFile)
	env("HOTLINE_MASTER_PASSPHRASE", &cfg.MasterPassphrase)
	env("HOTLINE_MASTER_PASSPHRASE_FILE", &cfg.MasterPassphraseFile)
	env("HOTLINE_TRIAGE_RULES", &cfg.TriageRules)
	env("HOTLINE_LOG_LEVEL", &cfg.LogLevel)
	if v := getenv("HOTLINE_BACKUP_RECIPIENTS"); v != "" {
		cfg.BackupRecipients = strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' })
	}
	env("TWILIO_ACCOUNT_SID", &cfg.Twilio.AccountSID)
	env("TWILIO_AUTH_TOKEN", &cfg.Twilio.AuthToken)
	env("TWILIO_SECONDARY_AUTH_TOKEN", &cfg.Twilio.SecondaryAuthToken)
	env("TWILIO_PHONE_NUMBER", &cfg.Twilio.PhoneNumber)
	env("HOTLINE_TWILIO_API_URL", &cfg.Twilio.APIURL)
	if v := getenv("HOTLINE_TWILIO_NUMBERS"); v != "" {
		cfg.Twilio.Numbers = nil
		for _, n := range strings.Split(v, ",") {
			if n = strings.TrimSpace(n); n != "" {
				cfg.Twilio.Numbers = append(cfg.Twilio.Numbers, n)
			}
		}
	}
	if v := getenv("HOTLINE_CASE_WINDOW"); v != "" {
		if err := cfg.CaseWindow.UnmarshalText([]byte(v)); err != nil {
			return cfg, fmt.Errorf("HOTLINE_CASE_WINDOW: %w", err)
		}
	}
	if v := getenv("HOTLINE_MIN_FREE_SPACE"); v != "" {
		if err := cfg.MinFreeSpace.UnmarshalText([]byte(v)); err != nil {
			return cfg, fmt.Errorf("HOTLINE_MIN_FREE_SPACE: %w", err)
		}
	}
	if flags.DataDir != "" {
		cfg.DataDir = flags.DataDir
	}
	if flags.Addr != "" {
		cfg.Addr = flags.Addr
	}
	if flags.InternalAddr != "" {
		cfg.InternalAddr = flags.InternalAddr
	}
	if flags.ConsoleAddr != nil {
		cfg.ConsoleAddr = *flags.ConsoleAddr
	}
	cfg.AllowPublicInternal = flags.AllowPublicInternal
	cfg.Dev = flags.Dev
	return cfg, nil
}

var (
	accountSIDPattern = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)
	authTokenPattern  = regexp.MustCompile(`^[0-9A-Za-z]+$`)
)

// Validate reports every problem at once, each naming its field (and the
// environment variable that sets it). Secrets are never echoed back.
// In dev mode the key and Twilio fields may be empty: serve fills them.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		bad("addr (HOTLINE_ADDR, --addr)", "must be host:port, got %q", c.Addr)
	}
	c.validateInternalAddr(bad)
	c.validateConsole(bad)
	if strings.TrimSpace(c.DataDir) == "" {
		bad("data_dir (HOTLINE_DATA_DIR, --data)", "is required")
	}
	if c.PublicURL == "" {
		if !c.Dev {
			bad("public_url (HOTLINE_PUBLIC_URL)", "is required: the URL Twilio calls, e.g. https://hotline.example.az")
		}
	} else if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		bad("public_url (HOTLINE_PUBLIC_URL)", "must be an absolute http(s) URL, got %q", c.PublicURL)
	} else if origin := u.Scheme + "://" + u.Host; c.PublicURL != origin {
		bad("public_url (HOTLINE_PUBLIC_URL)", "must be only scheme and host (and port), without a path, query or trailing slash, got %q: "+
			"signatures are checked against public_url + /twilio/sms, so set public_url = %q and point Twilio at %s/twilio/sms", c.PublicURL, origin, origin)
	} else if u.Scheme != "https" && !c.Dev && !isLoopback(u.Hostname()) {
		bad("public_url (HOTLINE_PUBLIC_URL)", "must use https outside --dev (Twilio would send tips in clear)")
	}
	keySources := 0
	for _, s := range []string{c.MasterKey, c.MasterKeyFile, c.MasterPassphrase, c.MasterPassphraseFile} {
		if s != "" {
			keySources++
		}
	}
	switch {
	case c.MasterPassphrase != "" && c.MasterPassphraseFile != "":
		bad("master_passphrase_file (HOTLINE_MASTER_PASSPHRASE_FILE)", "give the passphrase either in HOTLINE_MASTER_PASSPHRASE or in a file, not both")
	case keySources > 1 && !(keySources == 2 && c.MasterPassphrase != "" && c.MasterPassphraseFile != ""):
		bad("master key", "give exactly one of HOTLINE_MASTER_KEY, master_key_file (HOTLINE_MASTER_KEY_FILE), HOTLINE_MASTER_PASSPHRASE or master_passphrase_file")
	case c.MasterKey != "":
		if _, err := crypto.ParseMasterKey(c.MasterKey); err != nil {
			bad("master key (HOTLINE_MASTER_KEY)", "%v", err)
		}
	case c.MasterKeyFile != "":
		if _, err := crypto.ReadMasterKeyFile(c.MasterKeyFile); err != nil {
			bad("master_key_file (HOTLINE_MASTER_KEY_FILE)", "%v", err)
		}
	case c.MasterPassphrase != "":
		if err := crypto.CheckPassphrase([]byte(c.MasterPassphrase)); err != nil {
			bad("master passphrase (HOTLINE_MASTER_PASSPHRASE)", "%v", err)
		}
	case c.MasterPassphraseFile != "":
		if p, err := crypto.ReadPassphraseFile(c.MasterPassphraseFile); err != nil {
			bad("master_passphrase_file (HOTLINE_MASTER_PASSPHRASE_FILE)", "%v", err)
		} else {
			clear(p)
		}
	case keySources == 0 && !c.Dev:
		bad("master key", "is required: set HOTLINE_MASTER_KEY (base64 of 32 bytes), HOTLINE_MASTER_KEY_FILE, or HOTLINE_MASTER_PASSPHRASE(_FILE)")
	}
	if c.CaseWindow.Duration < time.Hour {
		bad("case_window (HOTLINE_CASE_WINDOW)", "must be at least 1h, got %s", c.CaseWindow.Duration)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("log_level (HOTLINE_LOG_LEVEL)", "must be debug, info, warn or error, got %q", c.LogLevel)
	}
	for lang, tmpl := range c.Replies {
		if lang != "az" && lang != "ru" && lang != "en" {
			bad("replies."+lang, "language must be az, ru or en")
		}
		if !strings.Contains(tmpl, "{code}") {
			bad("replies."+lang, "must contain {code} so the reporter learns the case reference")
		}
		if len([]rune(tmpl)) > 300 {
			bad("replies."+lang, "must be at most 300 characters (an SMS reply costs the reporter nothing but should stay short)")
		}
	}
	if !c.Dev || c.Twilio.AccountSID != "" {
		if !accountSIDPattern.MatchString(c.Twilio.AccountSID) {
			bad("twilio.account_sid (TWILIO_ACCOUNT_SID)", "must be AC followed by 32 hex digits")
		}
	}
	if !c.Dev && c.Twilio.AuthToken == "" {
		bad("twilio.auth_token (TWILIO_AUTH_TOKEN)", "is required: webhooks cannot be checked without it")
	}
	// twilio-go refuses other tokens; say so now, not after the store opened.
	if c.Twilio.AuthToken != "" && !authTokenPattern.MatchString(c.Twilio.AuthToken) {
		bad("twilio.auth_token (TWILIO_AUTH_TOKEN)", "must be letters and digits only, as in Twilio's console")
	}
	if c.Twilio.SecondaryAuthToken != "" && !authTokenPattern.MatchString(c.Twilio.SecondaryAuthToken) {
		bad("twilio.secondary_auth_token (TWILIO_SECONDARY_AUTH_TOKEN)", "must be letters and digits only, as in Twilio's console")
	}
	if !c.Dev || c.Twilio.PhoneNumber != "" {
		if _, err := NormalizePhone(c.Twilio.PhoneNumber); err != nil {
			bad("twilio.phone_number (TWILIO_PHONE_NUMBER)", "must be the hotline number in E.164 form like +994125551234")
		}
	}
	for i, n := range c.Twilio.Numbers {
		if e, err := NormalizePhone(n); err != nil || e != n {
			bad(fmt.Sprintf("twilio.numbers[%d] (HOTLINE_TWILIO_NUMBERS)", i), "must be a number in E.164 form like +994125551234, as Twilio sends it in To")
		}
	}
	if c.Twilio.APIURL != "" {
		if u, err := url.Parse(c.Twilio.APIURL); err != nil || u.Scheme == "" || u.Host == "" {
			bad("twilio.api_url (HOTLINE_TWILIO_API_URL)", "must be an absolute URL, got %q", c.Twilio.APIURL)
		}
	}
	c.Escalation.validate(bad)
	c.Retention.validate(bad, c.CaseWindow.Duration)
	c.Backup.validate(bad, c.BackupRecipients)
	c.Voice.validate(bad)
	return errors.Join(errs...)
}

// DevAccountSID and DevPhoneNumber are the account and number a --dev
// server without a Twilio account accepts webhooks for: the fake values of
// Twilio's documentation, which scripts/twilio-sim sends by default.
const (
	DevAccountSID  = "AC00000000000000000000000000000000"
	DevPhoneNumber = "+15017122661"
)

// WebhookAccountSID is the only AccountSid webhooks may carry: the
// configured account, or in --dev without one DevAccountSID.
func (c Config) WebhookAccountSID() string {
	if c.Twilio.AccountSID == "" && c.Dev {
		return DevAccountSID
	}
	return c.Twilio.AccountSID
}

// WebhookNumbers are the numbers an inbound SMS may be addressed To: the
// hotline number (in --dev without one, DevPhoneNumber) and
// twilio.numbers.
func (c Config) WebhookNumbers() []string {
	main := c.Twilio.PhoneNumber
	if main == "" && c.Dev {
		main = DevPhoneNumber
	}
	if n, err := NormalizePhone(main); err == nil {
		main = n
	}
	return append([]string{main}, c.Twilio.Numbers...)
}

// validateInternalAddr keeps /metrics, /readyz and pprof off the
// internet: they tell a watcher when a P1 case opens and how busy the line
// is. A host name other than localhost is refused because what it resolves
// to can change after the check.
func (c Config) validateInternalAddr(bad func(field, format string, args ...any)) {
	const field = "internal_addr (HOTLINE_INTERNAL_ADDR, --internal-addr)"
	host, port, err := net.SplitHostPort(c.InternalAddr)
	switch {
	case err != nil:
		bad(field, "must be host:port, got %q", c.InternalAddr)
	case c.InternalAddr == c.Addr && port != "0": // port 0: each listener gets its own free port
		bad(field, "must differ from addr (%s): the public port serves Twilio only", c.Addr)
	case c.AllowPublicInternal || isLoopback(host) || isPrivate(host):
	case host == "" || net.ParseIP(host).IsUnspecified():
		bad(field, "%q listens on every interface; give a loopback or private address such as 127.0.0.1:9090 (metrics and pprof must not face the internet), or pass --allow-public-internal if a firewall guards it", c.InternalAddr)
	default:
		bad(field, "%q is not a loopback or private (RFC 1918, fc00::/7) address; metrics and pprof must not face the internet: use 127.0.0.1:9090, or pass --allow-public-internal if a firewall guards it", c.InternalAddr)
	}
}

// isPrivate reports whether host is an RFC 1918 or unique local (fc00::/7)
// IP address.
func isPrivate(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsPrivate()
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// DefaultRegion is used to read numbers written without a country code.
const DefaultRegion = "AZ"

// NormalizePhone returns a phone number in E.164 form, reading national
// numbers (0501234567) as Azerbaijani. The error never repeats the input.
func NormalizePhone(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("phone number is empty")
	}

	num, err := phonenumbers.Parse(s, DefaultRegion)
	if err != nil {
		return "", errors.New("phone number cannot be parsed")
	}
	if !phonenumbers.IsPossibleNumber(num) {
		return "", errors.New("phone number is not a possible number")
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

var e164Pattern = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// SenderKey returns the form of an inbound sender used to thread a
// reporter's texts: E.164 as Twilio sends it (kept as is, without the
// slow full parse on the webhook path), a national number converted to
// E.164, or, for a sender that is no phone number at all (an alphanumeric
// sender id), the trimmed text itself, so no tip is refused for its sender.
func SenderKey(raw string) string {
	s := strings.TrimSpace(raw)
	if e164Pattern.MatchString(s) {
		return s
	}
	if n, err := NormalizePhone(s); err == nil {
		return n
	}
	return s
}
