package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/config"
	"github.com/hotline-az/hotline/console"
	"github.com/hotline-az/hotline/dispatch"
	"github.com/hotline-az/hotline/store"
)

// The admin commands talk to a running server over <data>/admin.sock, or
// open the data file themselves when the server is stopped. Either way
// they go through console.AdminService, so messages are the same.

const adminCommonHelp = `
Every command takes --data DIR (default $HOTLINE_DATA_DIR, then
/var/lib/hotline if a hotline lives there) and --config
FILE. While 'hotline serve' runs on DIR they go through its admin socket
(DIR/admin.sock, mode 0600); when it is stopped they open the data file
directly, which needs the master key as serve does (HOTLINE_MASTER_KEY,
HOTLINE_MASTER_KEY_FILE or HOTLINE_MASTER_PASSPHRASE(_FILE), or
DIR/dev-master.key for a --dev directory).

Exit status: 0 done, 1 failed, 2 bad usage or a value the hotline rejects.
`

const officersUsage = `Usage: hotline officers <command> [flags]

Manages the officers who can be alerted. Names and numbers are stored
sealed; numbers are shown masked unless asked for.

Commands:
  add      register an officer
  list     list officers
  update   change an officer's name, role or number (a new number is verified by SMS)
  test     send a test SMS and call through the running server and report what Twilio said
  remove   remove an officer (not while they are in the rota)
  passwd   set an officer's console password
  reset-totp  make an officer enrol a new TOTP authenticator

Run 'hotline officers <command> -h' for its flags.
` + adminCommonHelp

const rotaUsage = `Usage: hotline rota <command> [flags]

Manages the weekly duty rota: shifts in the rota's time zone (Asia/Baku
unless the rota file or escalation.time_zone says otherwise), each with an
officer, a backup and a supervisor, and one-off overrides.

Commands:
  show       lay out the rota and say who is on duty (now or --at TIME)
  set           add a weekly shift, or change one (fields not given stay)
  remove-shift  remove a weekly shift
  override      put someone on duty for a while, whatever the shifts say;
                override list and override cancel ID manage them
  import     replace the shifts with those of a TOML file

Run 'hotline rota <command> -h' for its flags.
` + adminCommonHelp

const alertsUsage = `Usage: hotline alerts <command> [flags]

Commands:
  list                 every alert, newest first: its code (what an officer
                       replies with), case, priority, state, escalation
                       step and next step time, who acknowledged it, and
                       every SMS and call with its delivery state
  show N               one alert's whole timeline
  ack N --as NAME      acknowledge alert N as officer NAME
  close N --as NAME --yes
                       close alert N as officer NAME
  reopen N             reopen an acknowledged or closed alert: its
                       escalation starts again from the first step
  escalate N           run alert N's next escalation step now

Everyone who was paged is told by SMS when an alert is acknowledged or
closed, and by whom. Each action is written to the server's log and the audit log. No tip
content is ever shown.
` + adminCommonHelp

// adminCmd is one admin subcommand being run.
type adminCmd struct {
	ctx    context.Context
	name   string // "officers add"
	fs     *flag.FlagSet
	data   *string
	config *string
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

func newAdminCmd(ctx context.Context, name, usage string, stdout, stderr io.Writer, getenv func(string) string) *adminCmd {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	c := &adminCmd{ctx: ctx, name: name, fs: fs, stdout: stdout, stderr: stderr, getenv: getenv}
	c.data = fs.String("data", "", "data directory (default $HOTLINE_DATA_DIR, then /var/lib/hotline if a hotline lives there)")
	c.config = fs.String("config", "", "TOML configuration file (as for serve)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fmt.Fprintln(fs.Output(), "\nFlags:")
		fs.PrintDefaults()
	}
	return c
}

// parse reads flags, which may come before or after positional arguments.
// It returns the positional arguments, or an exit code.
func (c *adminCmd) parse(args []string) ([]string, int, bool) {
	var pos []string
	for {
		if code, ok := parseFlags(c.fs, args, c.stdout, c.stderr); !ok {
			return nil, code, false
		}
		if c.fs.NArg() == 0 {
			return pos, 0, true
		}
		pos = append(pos, c.fs.Arg(0))
		args = c.fs.Args()[1:]
	}
}

// parseNoArgs is parse for commands that take flags only.
func (c *adminCmd) parseNoArgs(args []string) (int, bool) {
	pos, code, ok := c.parse(args)
	if !ok {
		return code, false
	}
	if len(pos) > 0 {
		return c.usageErr("unexpected argument %q", pos[0]), false
	}
	return 0, true
}

// usageErr reports a usage mistake and returns 2.
func (c *adminCmd) usageErr(format string, args ...any) int {
	fmt.Fprintf(c.stderr, "hotline %s: %s\nRun 'hotline %s -h' for help.\n", c.name, fmt.Sprintf(format, args...), c.name)
	return 2
}

// fail reports an error from the admin service: a *hotline.Error by its
// message (the same in-process and over the socket). Invalid input exits
// 2, anything else 1.
func (c *adminCmd) fail(err error) int {
	var he *hotline.Error
	if errors.As(err, &he) {
		msg := " " + he.Message
		if strings.Contains(he.Message, "\n") {
			msg = "\n  " + strings.ReplaceAll(he.Message, "\n", "\n  ")
		}
		fmt.Fprintf(c.stderr, "hotline %s:%s\n", c.name, msg)
		if he.Code == hotline.EINVALID {
			return 2
		}
		return 1
	}
	fmt.Fprintf(c.stderr, "hotline %s: %v\n", c.name, err)
	return 1
}

// require checks flag/value pairs, naming every missing flag at once.
func (c *adminCmd) require(pairs ...string) (int, bool) {
	var missing []string
	for i := 0; i+1 < len(pairs); i += 2 {
		if strings.TrimSpace(pairs[i+1]) == "" {
			missing = append(missing, pairs[i])
		}
	}
	switch len(missing) {
	case 0:
		return 0, true
	case 1:
		return c.usageErr("%s is required", missing[0]), false
	}
	return c.usageErr("%s are required", strings.Join(missing, ", ")), false
}

// errNoDataDir is the usage error of an admin command that found no data
// directory to work on.
var errNoDataDir = "--data is required (or set HOTLINE_DATA_DIR); " + config.Default().DataDir + " holds no hotline data file"

// defaultDataDir is the directory serve uses when nothing else is said
// (the deploy files' /var/lib/hotline), if a hotline lives there, so an
// on-call engineer on the server can run `hotline cases list` as is.
func defaultDataDir() string {
	dir := config.Default().DataDir
	if fileExists(filepath.Join(dir, store.FileName)) || fileExists(filepath.Join(dir, console.AdminSocketName)) {
		return dir
	}
	return ""
}

// errUsage is an error connecting that is the caller's to fix (exit 2).
type errUsage struct{ msg string }

func (e errUsage) Error() string { return e.msg }

// connect returns the admin service: the running server's over its
// socket if one answers, otherwise the data file opened directly.
func (c *adminCmd) connect() (console.AdminService, func(), error) {
	dir := *c.data
	if dir == "" {
		dir = c.getenv("HOTLINE_DATA_DIR")
	}
	var cfg config.Config
	cfgLoaded := false
	if dir == "" && *c.config != "" {
		var err error
		if cfg, err = config.Load(config.Flags{ConfigFile: *c.config}, c.getenv); err != nil {
			return nil, nil, errUsage{err.Error()}
		}
		dir, cfgLoaded = cfg.DataDir, true
	}
	if dir == "" {
		dir = defaultDataDir()
	}
	if dir == "" {
		return nil, nil, errUsage{errNoDataDir}
	}
	sock := filepath.Join(dir, console.AdminSocketName)
	client, err := console.DialAdmin(sock)
	switch {
	case err == nil:
		return client, func() { client.Close() }, nil
	case errors.Is(err, fs.ErrPermission):
		return nil, nil, fmt.Errorf("%s: permission denied: run this as the user 'hotline serve' runs as", sock)
	}

	// No server answers: open the data file.
	if _, err := os.Stat(filepath.Join(dir, store.FileName)); errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("%s: no hotline data file here (check --data or HOTLINE_DATA_DIR; 'hotline serve' creates it on first start)", dir)
	} else if err != nil {
		return nil, nil, err
	}
	if !cfgLoaded {
		var err error
		if cfg, err = config.Load(config.Flags{ConfigFile: *c.config, DataDir: dir}, c.getenv); err != nil {
			return nil, nil, errUsage{err.Error()}
		}
	}
	cfg.DataDir = dir
	if cfg.MasterKey == "" && cfg.MasterKeyFile == "" && cfg.MasterPassphrase == "" && cfg.MasterPassphraseFile == "" {
		if p := filepath.Join(dir, "dev-master.key"); fileExists(p) {
			cfg.MasterKeyFile = p
		}
	}
	key, err := masterKeySource(cfg)
	if err != nil {
		return nil, nil, errUsage{fmt.Sprintf("the server is not running on %s (nothing answers on %s), so the data file is opened directly, which needs the master key: %v; set HOTLINE_MASTER_KEY, HOTLINE_MASTER_KEY_FILE or HOTLINE_MASTER_PASSPHRASE(_FILE), or master_key_file in --config", dir, sock, err)}
	}
	var loc *time.Location
	if l, err := time.LoadLocation(cfg.Escalation.TimeZone); err == nil && cfg.Escalation.TimeZone != "" {
		loc = l
	}
	log := zerolog.New(c.stderr).Level(zerolog.WarnLevel).With().Timestamp().Str("service", "hotline").Logger()
	st, err := store.Open(dir, key, store.Options{Logger: log, LockTimeout: time.Second})
	if errors.Is(err, store.ErrLocked) {
		return nil, nil, fmt.Errorf("the data file in %s is in use by another process, but nothing answers on %s: if 'hotline serve' is starting, try again in a moment; a server without the admin socket must be stopped first", dir, sock)
	}
	if err != nil {
		return nil, nil, err
	}
	// Alert actions write their decisions (queued SMS and calls) to the
	// data file; the server sends them when it starts. Nothing is sent
	// from here: this dispatcher's worker never runs.
	disp, err := dispatch.New(dispatch.Config{Store: st, Sender: dispatch.NewDevSink(io.Discard),
		Escalation: cfg.Escalation, PublicURL: cfg.PublicURL, Logger: log})
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	admin := console.NewAdmin(st, disp, loc)
	admin.SetRetention(retentionPolicy(cfg.Retention))
	return admin, func() { st.Close() }, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// run connects and calls f, turning errors into exit codes.
func (c *adminCmd) run(f func(ctx context.Context, svc console.AdminService) error) int {
	svc, closeFn, err := c.connect()
	if err != nil {
		var ue errUsage
		if errors.As(err, &ue) {
			fmt.Fprintf(c.stderr, "hotline %s: %s\n", c.name, ue.msg)
			return 2
		}
		return c.fail(err)
	}
	defer closeFn()
	if err := f(c.ctx, svc); err != nil {
		return c.fail(err)
	}
	return 0
}

func (c *adminCmd) printJSON(v any) error {
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// subcommand splits off the subcommand, printing usage for none or -h.
func subcommand(args []string, usage string, stdout, stderr io.Writer) (string, []string, int, bool) {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return "", nil, 2, false
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return "", nil, 0, false
	}
	return args[0], args[1:], 0, true
}

// ----- officers -----

const officersAddUsage = `Usage: hotline officers add --name NAME --phone NUMBER --role officer|supervisor|admin

Registers an officer who can be alerted. The number is stored sealed, in
E.164 form; a national Azerbaijani number (050 111 00 01) is accepted.
Names and numbers must be unique.

Example:
  hotline officers add --name "Leyla Aliyeva" --phone +994501110001 --role officer
`

const officersListUsage = `Usage: hotline officers list [--json] [--show-phones]

Lists officers by name, numbers masked (+99450*****01) unless
--show-phones.

Example:
  hotline officers list --json
`

const officersRemoveUsage = `Usage: hotline officers remove --name NAME

Removes an officer. It refuses while they are in a shift or an override
that has not ended, and says where: change the rota first.

Example:
  hotline officers remove --name "Leyla Aliyeva"
`

func runOfficers(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	sub, args, code, ok := subcommand(args, officersUsage, stdout, stderr)
	if !ok {
		return code
	}
	switch sub {
	case "add":
		c := newAdminCmd(ctx, "officers add", officersAddUsage, stdout, stderr, getenv)
		name := c.fs.String("name", "", "the officer's full name")
		phone := c.fs.String("phone", "", "mobile number, E.164 like +994501110001")
		role := c.fs.String("role", "", "officer, supervisor or admin")
		if code, ok := c.parseNoArgs(args); !ok {
			return code
		}
		if code, ok := c.require("--name", *name, "--phone", *phone, "--role", *role); !ok {
			return code
		}
		return c.run(func(ctx context.Context, svc console.AdminService) error {
			o, err := svc.AddOfficer(ctx, *name, *phone, *role)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "Added %s (%s, %s), id %s.\n", o.Name, o.Role, o.Phone, o.ID)
			return nil
		})

	case "list":
		c := newAdminCmd(ctx, "officers list", officersListUsage, stdout, stderr, getenv)
		asJSON := c.fs.Bool("json", false, "print JSON")
		showPhones := c.fs.Bool("show-phones", false, "print full phone numbers")
		if code, ok := c.parseNoArgs(args); !ok {
			return code
		}
		return c.run(func(ctx context.Context, svc console.AdminService) error {
			list, err := svc.ListOfficers(ctx, *showPhones)
			if err != nil {
				return err
			}
			if *asJSON {
				return c.printJSON(list)
			}
			if len(list) == 0 {
				fmt.Fprintln(c.stdout, "No officers. Add one with: hotline officers add --name NAME --phone NUMBER --role officer")
				return nil
			}
			tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tROLE\tPHONE\tID\tADDED")
			for _, o := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", o.Name, o.Role, o.Phone, o.ID, o.CreatedAt.Format("2006-01-02"))
			}
			return tw.Flush()
		})

	case "remove":
		c := newAdminCmd(ctx, "officers remove", officersRemoveUsage, stdout, stderr, getenv)
		name := c.fs.String("name", "", "the officer's name as registered")
		if code, ok := c.parseNoArgs(args); !ok {
			return code
		}
		if strings.TrimSpace(*name) == "" {
			return c.usageErr("--name is required")
		}
		return c.run(func(ctx context.Context, svc console.AdminService) error {
			if err := svc.RemoveOfficer(ctx, *name); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "Removed %s.\n", strings.Join(strings.Fields(*name), " "))
			return nil
		})
	case "update":
		return runOfficersUpdate(ctx, args, stdout, stderr, getenv)
	case "test":
		return runOfficersTest(ctx, args, stdout, stderr, getenv)
	case "passwd":
		return runOfficersPasswd(ctx, args, stdin, stdout, stderr, getenv)
	case "reset-totp":
		return runOfficersResetTOTP(ctx, args, stdout, stderr, getenv)
	}
	fmt.Fprintf(stderr, "hotline officers: unknown command %q\n\n%s", sub, officersUsage)
	return 2
}

// ----- rota -----

const timeHelp = `TIME is "now", RFC 3339 (2026-11-24T21:00:00+04:00) or "2006-01-02 15:04"
in the rota's time zone.`

const rotaShowUsage = `Usage: hotline rota show [--at TIME] [--json]

Lays out the week's shifts and the overrides, says who is on duty at
TIME (default now), and warns about stretches of the week nobody covers.
` + timeHelp + `

Examples:
  hotline rota show
  hotline rota show --at "2026-11-24 21:00"
`

const rotaSetUsage = `Usage: hotline rota set --day DAY --start HH:MM [--end HH:MM] [--officer NAME] [--backup NAME|none] [--supervisor NAME|none]

Adds a weekly shift, or changes the shift on the same day with the same
start: the fields not given keep their value, and "none" empties a backup
or supervisor. A new shift needs --end and --officer. An end not after
the start runs past midnight. The rota must stay free of overlaps.

Examples:
  hotline rota set --day tue --start 20:00 --end 08:00 --officer "Elvin Guliyev" --backup "Rashad Mammadov" --supervisor "Farid Ismayilov"
  hotline rota set --day tue --start 20:00 --officer "Leyla Aliyeva"   # backup and supervisor stay
  hotline rota set --day tue --start 20:00 --backup none
`

const rotaOverrideUsage = `Usage: hotline rota override --officer NAME [--backup NAME] --from TIME (--hours H | --until TIME)
       hotline rota override list
       hotline rota override cancel ID

Puts an officer on duty for a while instead of the shifts (at most 31
days); the shift's backup and supervisor stay unless --backup is given.
A later override wins where two overlap.
` + timeHelp + `

Examples:
  hotline rota override --officer "Leyla Aliyeva" --from now --hours 24
  hotline rota override --officer "Leyla Aliyeva" --from "2026-11-24 20:00" --until "2026-11-25 08:00"
  hotline rota override list
  hotline rota override cancel 3fa9c1
`

const rotaImportUsage = `Usage: hotline rota import FILE

Replaces the rota's shifts with those of a TOML file; overrides that have
not ended are kept. Every problem in the file (unknown names, overlapping
or empty shifts, bad times) is reported at once and nothing changes.

  time_zone = "Asia/Baku"

  [[shift]]
  day = "tue"
  start = "20:00"
  end = "08:00"
  officer = "Elvin Guliyev"
  backup = "Rashad Mammadov"      # optional
  supervisor = "Farid Ismayilov"  # optional

Example:
  hotline rota import rota.toml
`

// timeParser reads TIME arguments, asking for the rota's zone only when
// a local time needs it.
type timeParser struct {
	ctx  context.Context
	svc  console.AdminService
	now  time.Time
	zone *time.Location
}

func (p *timeParser) parse(flagName, s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "now") {
		return p.now, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if p.zone == nil {
		name, err := p.svc.RotaZone(p.ctx)
		if err != nil {
			return time.Time{}, err
		}
		if p.zone, err = time.LoadLocation(name); err != nil {
			return time.Time{}, fmt.Errorf("rota time zone %q: %w", name, err)
		}
	}
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, p.zone); err == nil {
			return t, nil
		}
	}
	return time.Time{}, hotline.Errorf(hotline.EINVALID, "%s: %q is not a time: use now, RFC 3339 (2026-11-24T21:00:00+04:00) or \"2026-11-24 21:00\" in %s", flagName, s, p.zone)
}

func formatAt(t time.Time) string {
	if _, off := t.Zone(); off%3600 != 0 {
		return t.Format("2006-01-02 15:04 -0700")
	}
	return t.Format("2006-01-02 15:04 -07")
}

func orNobody(s string) string {
	if s == "" {
		return "nobody"
	}
	return s
}

func (c *adminCmd) printRota(v console.RotaView) {
	fmt.Fprint(c.stdout, v.Text)
	d := v.OnDuty
	fmt.Fprintf(c.stdout, "\nAt %s (%s):\n", formatAt(v.At), v.TimeZone)
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 1, ' ', 0)
	fmt.Fprintf(tw, "  on duty:\t%s\n", orNobody(d.Officer))
	fmt.Fprintf(tw, "  backup:\t%s\n", orNobody(d.Backup))
	fmt.Fprintf(tw, "  supervisor:\t%s\n", orNobody(d.Supervisor))
	until := "no change ahead"
	if d.Until != nil {
		until = "until " + formatAt(*d.Until)
	}
	fmt.Fprintf(tw, "  from:\t%s, %s\n", d.Source, until)
	tw.Flush()
}

func (c *adminCmd) warnGaps(w io.Writer, gaps []string) {
	for _, g := range gaps {
		fmt.Fprintf(w, "warning: %s\n", g)
	}
}

func runRota(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	sub, args, code, ok := subcommand(args, rotaUsage, stdout, stderr)
	if !ok {
		return code
	}
	switch sub {
	case "show":
		c := newAdminCmd(ctx, "rota show", rotaShowUsage, stdout, stderr, getenv)
		at := c.fs.String("at", "now", "the time to say who is on duty at")
		asJSON := c.fs.Bool("json", false, "print JSON")
		if code, ok := c.parseNoArgs(args); !ok {
			return code
		}
		return c.run(func(ctx context.Context, svc console.AdminService) error {
			tp := &timeParser{ctx: ctx, svc: svc, now: time.Now()}
			t, err := tp.parse("--at", *at)
			if err != nil {
				return err
			}
			v, err := svc.RotaShow(ctx, t)
			if err != nil {
				return err
			}
			if *asJSON {
				return c.printJSON(v)
			}
			c.printRota(v)
			if len(v.Gaps) > 0 {
				fmt.Fprintln(c.stdout)
				c.warnGaps(c.stdout, v.Gaps)
			}
			return nil
		})

	case "set":
		c := newAdminCmd(ctx, "rota set", rotaSetUsage, stdout, stderr, getenv)
		var spec console.ShiftSpec
		c.fs.StringVar(&spec.Day, "day", "", "day of the week: mon, tue, wed, thu, fri, sat or sun")
		c.fs.StringVar(&spec.Start, "start", "", "start time HH:MM in the rota's zone")
		c.fs.StringVar(&spec.End, "end", "", "end time HH:MM (not after --start: the next day); kept if not given")
		c.fs.StringVar(&spec.Officer, "officer", "", "who is on duty; kept if not given")
		c.fs.StringVar(&spec.Backup, "backup", "", "who is alerted next; kept if not given, none to remove")
		c.fs.StringVar(&spec.Supervisor, "supervisor", "", "who is alerted last; kept if not given, none to remove")
		if code, ok := c.parseNoArgs(args); !ok {
			return code
		}
		if code, ok := c.require("--day", spec.Day, "--start", spec.Start); !ok {
			return code
		}
		return c.run(func(ctx context.Context, svc console.AdminService) error {
			v, err := svc.RotaSet(ctx, spec)
			if err != nil {
				return err
			}
			fmt.Fprint(c.stdout, v.Text)
			c.warnGaps(c.stderr, v.Gaps)
			return nil
		})

	case "remove-shift":
		return runRotaRemoveShift(ctx, args, stdout, stderr, getenv)

	case "override":
		if len(args) > 0 && (args[0] == "list" || args[0] == "cancel") {
			return runRotaOverrideOp(ctx, args[0], args[1:], stdout, stderr, getenv)
		}
		c := newAdminCmd(ctx, "rota override", rotaOverrideUsage, stdout, stderr, getenv)
		officer := c.fs.String("officer", "", "who is on duty instead")
		backup := c.fs.String("backup", "", "their backup (default: the shift's)")
		from := c.fs.String("from", "", "when the override starts: now or TIME")
		hours := c.fs.String("hours", "", "how many hours it lasts")
		until := c.fs.String("until", "", "when it ends: TIME")
		if code, ok := c.parseNoArgs(args); !ok {
			return code
		}
		switch {
		case strings.TrimSpace(*officer) == "":
			return c.usageErr("--officer is required")
		case strings.TrimSpace(*from) == "":
			return c.usageErr("--from is required (now or a time)")
		case *hours == "" && *until == "":
			return c.usageErr("give --hours or --until")
		case *hours != "" && *until != "":
			return c.usageErr("give --hours or --until, not both")
		}
		var dur time.Duration
		if *hours != "" {
			h, err := strconv.ParseFloat(*hours, 64)
			if err != nil || h <= 0 || h > 24*366 {
				return c.usageErr("--hours: %q is not a positive number of hours", *hours)
			}
			dur = time.Duration(h * float64(time.Hour)).Round(time.Second)
		}
		return c.run(func(ctx context.Context, svc console.AdminService) error {
			tp := &timeParser{ctx: ctx, svc: svc, now: time.Now()}
			start, err := tp.parse("--from", *from)
			if err != nil {
				return err
			}
			end := start.Add(dur)
			if *until != "" {
				if end, err = tp.parse("--until", *until); err != nil {
					return err
				}
			}
			o, err := svc.RotaOverride(ctx, *officer, *backup, start, end)
			if err != nil {
				return err
			}
			b := o.Backup
			if b == "" {
				b = "the shift's"
			}
			fmt.Fprintf(c.stdout, "Override %s: %s is on duty from %s to %s (backup: %s).\n", o.ID, o.Officer, formatAt(o.From), formatAt(o.To), b)
			return nil
		})

	case "import":
		c := newAdminCmd(ctx, "rota import", rotaImportUsage, stdout, stderr, getenv)
		pos, code, ok := c.parse(args)
		if !ok {
			return code
		}
		switch {
		case len(pos) == 0:
			return c.usageErr("give the rota FILE to import")
		case len(pos) > 1:
			return c.usageErr("unexpected argument %q", pos[1])
		}
		f, err := os.Open(pos[0])
		if err != nil {
			fmt.Fprintf(stderr, "hotline rota import: %v\n", err)
			return 1
		}
		defer f.Close()
		return c.run(func(ctx context.Context, svc console.AdminService) error {
			v, err := svc.RotaImport(ctx, filepath.Base(pos[0]), f)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "Imported %d shifts from %s.\n", len(v.Shifts), filepath.Base(pos[0]))
			fmt.Fprint(c.stdout, v.Text)
			c.warnGaps(c.stderr, v.Gaps)
			return nil
		})
	}
	fmt.Fprintf(stderr, "hotline rota: unknown command %q\n\n%s", sub, rotaUsage)
	return 2
}

// ----- alerts -----

// alertSubUsage is each alerts command's own help (a command's help lists
// no "Commands:", or the help walk would take it for a group).
var alertSubUsage = map[string]string{
	"list": `Usage: hotline alerts list [--json]

Every alert, newest first: its code (what an officer replies with), case,
priority, state, escalation step and next step time, who acknowledged it,
and every SMS and call with its delivery state. No tip content.

Example:
  hotline alerts list --json
`,
	"show": `Usage: hotline alerts show N [--json]

One alert's whole timeline.

Example:
  hotline alerts show 12
`,
	"ack": `Usage: hotline alerts ack N --as NAME

Acknowledges alert N as officer NAME; everyone paged is told by SMS.

Example:
  hotline alerts ack 12 --as "Leyla Aliyeva"
`,
	"close": `Usage: hotline alerts close N --as NAME --yes

Closes alert N as officer NAME; everyone paged is told by SMS.

Example:
  hotline alerts close 12 --as "Leyla Aliyeva" --yes
`,
	"reopen": `Usage: hotline alerts reopen N

Reopens an acknowledged or closed alert: its escalation starts again
from the first step.

Example:
  hotline alerts reopen 12
`,
	"escalate": `Usage: hotline alerts escalate N

Runs alert N's next escalation step now.

Example:
  hotline alerts escalate 12
`,
}

func runAlerts(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	sub, args, code, ok := subcommand(args, alertsUsage, stdout, stderr)
	if !ok {
		return code
	}
	switch sub {
	case "list", "show":
	case "ack", "close", "reopen", "escalate":
		return runAlertAction(ctx, sub, args, stdout, stderr, getenv)
	default:
		fmt.Fprintf(stderr, "hotline alerts: unknown command %q\n\n%s", sub, alertsUsage)
		return 2
	}
	c := newAdminCmd(ctx, "alerts "+sub, alertSubUsage[sub], stdout, stderr, getenv)
	asJSON := c.fs.Bool("json", false, "print JSON")
	pos, code, ok := c.parse(args)
	if !ok {
		return code
	}
	number := 0
	if sub == "show" {
		if len(pos) != 1 {
			return c.usageErr("give one alert number")
		}
		n, err := strconv.Atoi(pos[0])
		if err != nil || n < 1 {
			return c.usageErr("alert number %q is not a number", pos[0])
		}
		number = n
	} else if len(pos) > 0 {
		return c.usageErr("unexpected argument %q", pos[0])
	}
	return c.run(func(ctx context.Context, svc console.AdminService) error {
		list, err := svc.Alerts(ctx)
		if err != nil {
			return err
		}
		if number > 0 {
			for _, a := range list {
				if a.Number == number {
					if *asJSON {
						return c.printJSON(a)
					}
					c.printTimeline(a)
					return nil
				}
			}
			return hotline.Errorf(hotline.ENOTFOUND, "no alert %d", number)
		}
		if *asJSON {
			return c.printJSON(list)
		}
		if len(list) == 0 {
			fmt.Fprintln(c.stdout, "No alerts.")
			return nil
		}
		tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "CODE\tCASE\tPRI\tSTATE\tROUND/STEP\tNEXT STEP\tOPENED\tACKNOWLEDGED\tATTEMPTS")
		for _, a := range list {
			acked := "-"
			if a.AckedAt != nil {
				acked = fmt.Sprintf("%s by %s (%s)", formatAt(*a.AckedAt), orUnknown(a.AckedBy), a.AckedVia)
			}
			attempts := make([]string, 0, len(a.Attempts))
			for _, at := range a.Attempts {
				s := fmt.Sprintf("%s %s %s", at.Kind, orUnknown(at.Officer), at.State)
				if at.Delivery != "" && at.Delivery != string(at.State) {
					s += "/" + at.Delivery
				}
				if at.ErrorCode != 0 {
					s += fmt.Sprintf(" (error %d)", at.ErrorCode)
				}
				attempts = append(attempts, s)
			}
			if len(attempts) == 0 {
				attempts = append(attempts, "none")
			}
			state := string(a.State)
			if a.Exhausted {
				state += " (exhausted)"
			}
			next := "-"
			if a.NextAt != nil {
				next = formatAt(*a.NextAt)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d/%d\t%s\t%s\t%s\t%s\n", a.Code, a.CaseCode, a.Priority, state, a.Round, a.Step,
				next, formatAt(a.OpenedAt), acked, strings.Join(attempts, "; "))
		}
		return tw.Flush()
	})
}

// printTimeline prints one alert's history, oldest first.
func (c *adminCmd) printTimeline(a console.AlertView) {
	fmt.Fprintf(c.stdout, "Alert %s: %s case %s, %s\n", a.Code, a.Priority, a.CaseCode, a.State)
	fmt.Fprintf(c.stdout, "  %s  opened\n", formatAt(a.OpenedAt))
	for _, at := range a.Attempts {
		s := fmt.Sprintf("%s to %s (round %d, step %d): %s", at.Kind, orUnknown(at.Officer), at.Round, at.Step, at.State)
		if at.Delivery != "" && at.Delivery != string(at.State) {
			s += "/" + at.Delivery
		}
		if at.Tries > 1 {
			s += fmt.Sprintf(", %d tries", at.Tries)
		}
		if at.ErrorCode != 0 {
			s += fmt.Sprintf(", error %d", at.ErrorCode)
		}
		if at.LastError != "" {
			s += ": " + at.LastError
		}
		fmt.Fprintf(c.stdout, "  %s  %s\n", formatAt(at.At), s)
	}
	if a.AckedAt != nil {
		fmt.Fprintf(c.stdout, "  %s  acknowledged by %s (%s)\n", formatAt(*a.AckedAt), orUnknown(a.AckedBy), a.AckedVia)
	}
	if a.NextAt != nil {
		fmt.Fprintf(c.stdout, "  %s  next escalation step (%d)\n", formatAt(*a.NextAt), a.Step)
	}
}

// runAlertAction runs alerts ack|close|reopen|escalate N.
func runAlertAction(ctx context.Context, sub string, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	c := newAdminCmd(ctx, "alerts "+sub, alertSubUsage[sub], stdout, stderr, getenv)
	var as *string
	var yes *bool
	if sub == "ack" || sub == "close" {
		as = c.fs.String("as", "", "the officer taking the alert (required)")
	}
	if sub == "close" {
		yes = c.fs.Bool("yes", false, "really close the alert (required)")
	}
	pos, code, ok := c.parse(args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		return c.usageErr("give one alert number")
	}
	number, err := strconv.Atoi(pos[0])
	if err != nil || number < 1 {
		return c.usageErr("alert number %q is not a number", pos[0])
	}
	name := ""
	if as != nil {
		if code, ok := c.require("--as", *as); !ok {
			return code
		}
		name = *as
	}
	if yes != nil && !*yes {
		return c.usageErr("closing an alert needs --yes")
	}
	return c.run(func(ctx context.Context, svc console.AdminService) error {
		v, err := svc.AlertAction(ctx, number, sub, name)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "Alert %s (%s case %s) is %s", v.Code, v.Priority, v.CaseCode, v.State)
		if v.NextAt != nil {
			fmt.Fprintf(c.stdout, "; next step %d at %s", v.Step, formatAt(*v.NextAt))
		}
		fmt.Fprintln(c.stdout, ".")
		return nil
	})
}

func orUnknown(name string) string {
	if name == "" {
		return "(removed officer)"
	}
	return name
}
