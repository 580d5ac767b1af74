package main

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/console"
	"github.com/hotline-az/hotline/crypto"
	"github.com/hotline-az/hotline/store"
)

const keysUsage = `Usage: hotline keys <command> [flags]

Manages the keyring that seals every record: numbered key-encryption keys
(KEKs), one primary. Each record has its own data key wrapped by a KEK;
rotating adds a KEK, rewrapping moves data keys to it without decrypting
any record, and old versions can then be archived and destroyed. Every
command is written to the audit log.

Commands:
  status        versions, primary, records per version, rewrap progress
  rotate        add a KEK version and make it primary (new writes use it at once)
  rewrap        move every record's data key under the primary KEK
  min-decrypt   make versions below N open nothing (reversible)
  retire        destroy version N for good (refused while records use it)
  change-master seal the keyring under a new master key (server stopped)
  rotate-index  move the keyed hashes of phone numbers and SIDs to a new index key

A rotation, step by step:
  hotline keys rotate
  hotline keys rewrap
  hotline keys status          # old version: 0 records
  hotline keys min-decrypt 2   # optional: archive v1 for a while
  hotline keys retire 1
` + adminCommonHelp

const keysStatusUsage = `Usage: hotline keys status [--json]

Lists every KEK version with the number of records it still protects
(read from envelope headers: nothing is decrypted), which is primary,
the minimum decryption version, and an unfinished rewrap.

Example:
  hotline keys status --json
`

const keysRotateUsage = `Usage: hotline keys rotate

Adds a KEK version and makes it primary. On a running server new records
are sealed under it at once; older records keep opening under their
version until 'hotline keys rewrap' moves them.

Example:
  hotline keys rotate
`

const keysRewrapUsage = `Usage: hotline keys rewrap [--batch N]

Re-wraps every record's data key under the primary KEK, in transactions
of --batch records shared with intake, so tips keep flowing. Record
bodies are never decrypted. If it is stopped (or the server dies) it
resumes where it stopped at the next run. Records that fail to open are
named by id and the pass goes on; the exit status is then 1.

On a running server the pass runs in the server: interrupting this
command does not stop it ('hotline keys status' shows its progress).
Progress is a bar on a terminal, one line every few seconds otherwise.

Example:
  hotline keys rewrap
`

const keysMinDecryptUsage = `Usage: hotline keys min-decrypt N

Makes KEK versions below N refuse to open anything, as if destroyed, but
keeps them: 'hotline keys min-decrypt 1' undoes it. Use it to make sure
nothing still needs an old version before retiring it. Prints how many
records become unreadable (0 after a complete rewrap).

Example:
  hotline keys min-decrypt 2
`

const keysRetireUsage = `Usage: hotline keys retire N [--yes]

Destroys KEK version N for good. Refused while any record references it
(run 'hotline keys rewrap' first) and for the primary. Asks you to type
"retire vN" unless --yes is given.

Example:
  hotline keys retire 1
`

const keysChangeMasterUsage = `Usage: hotline keys change-master --new-key-file FILE | --new-passphrase-file FILE

Seals the keyring under a new master key (a 0600 key file of 32 bytes in
base64, or a passphrase file of at least 16 characters stretched with
Argon2id under a fresh salt). No record is touched. The server must be
stopped: the current master key comes from the usual settings
(HOTLINE_MASTER_KEY(_FILE), HOTLINE_MASTER_PASSPHRASE(_FILE), --config),
and afterwards only the new one opens the file, so change the service's
setting before starting it again. Backups taken before still need the
old master key.

Example:
  head -c 32 /dev/urandom | base64 > /etc/hotline/master.key.new
  chmod 600 /etc/hotline/master.key.new
  systemctl stop hotline
  hotline keys change-master --config /etc/hotline/hotline.toml --new-key-file /etc/hotline/master.key.new
  mv /etc/hotline/master.key.new /etc/hotline/master.key
  systemctl start hotline
`

const keysRotateIndexUsage = `Usage: hotline keys rotate-index [--batch N]

Adds an index key version and re-hashes, from their sealed values, the
keyed hashes that find a reporter's case by phone number, an officer by
phone, a retried webhook by its MessageSid and an alert by its Twilio
SID. Until the move ends, every lookup tries both versions, so threading
and retry dedup keep working; it runs in the server in transactions of
--batch entries shared with intake (with the server stopped it runs
here and prints a line after each batch). If it is stopped (or the server dies),
running it again finishes the move. Afterwards the old index key no
longer recomputes any stored hash (version 1, the original key, stays:
it also keys the records' integrity tags).

Officer-command dedup entries (no SID is kept to re-hash them from)
stay under the old version and stop matching when the move ends; they
expire with the dedup log (30 days).

Example:
  hotline keys rotate-index
`

func runKeys(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	sub, args, code, ok := subcommand(args, keysUsage, stdout, stderr)
	if !ok {
		return code
	}
	switch sub {
	case "status":
		c := newAdminCmd(ctx, "keys status", keysStatusUsage, stdout, stderr, getenv)
		asJSON := c.fs.Bool("json", false, "print JSON")
		if code, ok := c.parseNoArgs(args); !ok {
			return code
		}
		return c.runKeys(func(ctx context.Context, ks console.KeyService) error {
			st, err := ks.KeyStatus(ctx)
			if err != nil {
				return err
			}
			if *asJSON {
				return c.printJSON(st)
			}
			printKeyStatus(c.stdout, st)
			return nil
		})
	case "rotate":
		c := newAdminCmd(ctx, "keys rotate", keysRotateUsage, stdout, stderr, getenv)
		if code, ok := c.parseNoArgs(args); !ok {
			return code
		}
		return c.runKeys(func(ctx context.Context, ks console.KeyService) error {
			v, err := ks.RotateKey(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "Key version %d is now primary: new records are sealed under it.\nRun 'hotline keys rewrap' to move older records to it.\n", v)
			return nil
		})
	case "rewrap":
		c := newAdminCmd(ctx, "keys rewrap", keysRewrapUsage, stdout, stderr, getenv)
		batch := c.fs.Int("batch", store.DefaultRewrapBatch, "records per transaction")
		if code, ok := c.parseNoArgs(args); !ok {
			return code
		}
		if *batch < 1 || *batch > 100_000 {
			return c.usageErr("--batch: must be a number from 1 to 100000")
		}
		return c.runKeys(func(ctx context.Context, ks console.KeyService) error {
			return c.rewrap(ctx, ks, *batch)
		})
	case "min-decrypt":
		c := newAdminCmd(ctx, "keys min-decrypt", keysMinDecryptUsage, stdout, stderr, getenv)
		v, code, ok := c.parseVersion(args)
		if !ok {
			return code
		}
		return c.runKeys(func(ctx context.Context, ks console.KeyService) error {
			blocked, err := ks.SetMinDecrypt(ctx, v)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "Versions below %d no longer open anything (%d records affected).\n", v, blocked)
			if blocked > 0 {
				fmt.Fprintf(c.stdout, "Those records cannot be read until 'hotline keys min-decrypt %d' or a lower version.\n", max(v-1, 1))
			}
			return nil
		})
	case "retire":
		c := newAdminCmd(ctx, "keys retire", keysRetireUsage, stdout, stderr, getenv)
		yes := c.fs.Bool("yes", false, "do not ask for confirmation")
		v, code, ok := c.parseVersion(args)
		if !ok {
			return code
		}
		if !*yes {
			want := fmt.Sprintf("retire v%d", v)
			fmt.Fprintf(c.stderr, "This destroys key version %d for good: a record still sealed under it can never be read again\n(backups taken before keep their own copy of the keyring).\nType %q to go on: ", v, want)
			line, _ := bufio.NewReader(stdin).ReadString('\n')
			if strings.TrimSpace(line) != want {
				fmt.Fprintf(c.stderr, "hotline keys retire: not confirmed; nothing was changed\n")
				return 1
			}
		}
		return c.runKeys(func(ctx context.Context, ks console.KeyService) error {
			if err := ks.RetireKey(ctx, v); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "Key version %d is destroyed.\n", v)
			return nil
		})
	case "rotate-index":
		c := newAdminCmd(ctx, "keys rotate-index", keysRotateIndexUsage, stdout, stderr, getenv)
		batch := c.fs.Int("batch", store.DefaultIndexMoveBatch, "entries per transaction")
		if code, ok := c.parseNoArgs(args); !ok {
			return code
		}
		if *batch < 1 || *batch > 100_000 {
			return c.usageErr("--batch: must be a number from 1 to 100000")
		}
		return c.runKeys(func(ctx context.Context, ks console.KeyService) error {
			start := time.Now()
			p, err := ks.RotateIndex(ctx, *batch, func(p store.IndexMoveProgress) {
				fmt.Fprintf(c.stderr, "rotate-index to v%d: %d entries re-hashed, at %s\n", p.Version, p.Moved, cmp.Or(p.Bucket, "the end"))
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "Index key version %d is primary: %d entries re-hashed in %s, %d dropped (number already purged), %d left to expire.\n",
				p.Version, p.Moved, time.Since(start).Round(time.Millisecond), p.Dropped, p.Kept)
			return nil
		})
	case "change-master":
		c := newAdminCmd(ctx, "keys change-master", keysChangeMasterUsage, stdout, stderr, getenv)
		keyFile := c.fs.String("new-key-file", "", "file holding the new master key (base64, mode 0600)")
		passFile := c.fs.String("new-passphrase-file", "", "file holding the new master passphrase (mode 0600)")
		if code, ok := c.parseNoArgs(args); !ok {
			return code
		}
		var next store.MasterKeySource
		switch {
		case (*keyFile == "") == (*passFile == ""):
			return c.usageErr("give one of --new-key-file or --new-passphrase-file")
		case *keyFile != "":
			k, err := crypto.ReadMasterKeyFile(*keyFile)
			if err != nil {
				return c.usageErr("--new-key-file: %v", err)
			}
			next.Key = &k
		default:
			p, err := crypto.ReadPassphraseFile(*passFile)
			if err != nil {
				return c.usageErr("--new-passphrase-file: %v", err)
			}
			next.Passphrase = p
		}
		return c.run(func(ctx context.Context, svc console.AdminService) error {
			admin, ok := svc.(*console.Admin)
			if !ok {
				return hotline.Errorf(hotline.ECONFLICT, "the server is running on this data directory: stop it first (the new master key is read here, never sent over the admin socket, and the server must restart with it)")
			}
			if err := admin.ChangeMaster(ctx, next); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "The keyring is now sealed under the new master key; no record was touched.\nConfigure the service with the new key before starting it: the old one no longer opens this file.\n")
			return nil
		})
	}
	fmt.Fprintf(stderr, "hotline keys: unknown command %q\n\n%s", sub, keysUsage)
	return 2
}

// runKeys is run for the key commands.
func (c *adminCmd) runKeys(f func(ctx context.Context, ks console.KeyService) error) int {
	return c.run(func(ctx context.Context, svc console.AdminService) error {
		ks, ok := svc.(console.KeyService)
		if !ok {
			return fmt.Errorf("this admin service cannot manage keys")
		}
		return f(ctx, ks)
	})
}

// parseVersion parses a command that takes one version number.
func (c *adminCmd) parseVersion(args []string) (uint32, int, bool) {
	pos, code, ok := c.parse(args)
	if !ok {
		return 0, code, false
	}
	if len(pos) != 1 {
		return 0, c.usageErr("give one key version number (see 'hotline keys status')"), false
	}
	v, err := strconv.ParseUint(strings.TrimPrefix(pos[0], "v"), 10, 32)
	if err != nil || v == 0 {
		return 0, c.usageErr("VERSION: %q is not a key version number (1, 2, ...)", pos[0]), false
	}
	return uint32(v), 0, true
}

func printKeyStatus(w io.Writer, st store.KeyStatus) {
	fmt.Fprintf(w, "Primary version:            %d\nMinimum decryption version: %d\n\n", st.Primary, st.MinDecrypt)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tRECORDS\tSTATE")
	for _, v := range st.Versions {
		state := "usable"
		switch {
		case v.Primary:
			state = "primary"
		case v.Archived:
			state = "archived (opens nothing)"
		}
		fmt.Fprintf(tw, "%d\t%d\t%s\n", v.Version, v.Records, state)
	}
	tw.Flush()
	if st.Missing > 0 {
		fmt.Fprintf(w, "\n%d records name a key version that is not in the keyring: they cannot be opened.\n", st.Missing)
	}
	if st.Malformed > 0 {
		fmt.Fprintf(w, "\n%d sealed values are not readable envelopes: run 'hotline check'.\n", st.Malformed)
	}
	fmt.Fprintf(w, "\nIndex key version (phone numbers, SIDs): %d\n", st.IndexPrimary)
	if m := st.IndexMove; m != nil {
		fmt.Fprintf(w, "Index key move to version %d under way: %d entries re-hashed, at %s.\nRun 'hotline keys rotate-index' to finish it if it is not running.\n", m.Version, m.Moved, m.Bucket)
	}
	if r := st.Rewrap; r != nil {
		fmt.Fprintf(w, "\nRewrap to version %d under way: %d of %d records, %d failed, started %s.\nRun 'hotline keys rewrap' to finish it if it is not running.\n",
			r.Target, r.Rewrapped, r.Total, r.Failed, r.Started.Format(time.RFC3339))
	} else if old := oldRecords(st); old > 0 {
		fmt.Fprintf(w, "\n%d records are under older versions: 'hotline keys rewrap' moves them.\n", old)
	}
}

func oldRecords(st store.KeyStatus) int {
	n := 0
	for _, v := range st.Versions {
		if !v.Primary {
			n += v.Records
		}
	}
	return n
}

// rewrap runs the pass with a progress bar on a terminal and plain lines
// otherwise, and names every record that failed.
func (c *adminCmd) rewrap(ctx context.Context, ks console.KeyService, batch int) error {
	var bar *progressbar.ProgressBar
	f, isFile := c.stderr.(*os.File)
	onTerminal := isFile && term.IsTerminal(int(f.Fd()))
	start := time.Now()
	var lastLine time.Time
	var failures int
	progress := func(p store.RewrapProgress) {
		if onTerminal {
			if bar == nil {
				bar = progressbar.NewOptions(p.Total,
					progressbar.OptionSetWriter(c.stderr),
					progressbar.OptionSetDescription(fmt.Sprintf("rewrap to v%d", p.Target)),
					progressbar.OptionShowCount(),
					progressbar.OptionShowIts(),
					progressbar.OptionSetItsString("records"),
					progressbar.OptionSetPredictTime(true),
					progressbar.OptionThrottle(100*time.Millisecond),
				)
			}
			bar.Set(p.Rewrapped + p.Failed)
			return
		}
		if time.Since(lastLine) >= 2*time.Second || p.Done {
			lastLine = time.Now()
			fmt.Fprintf(c.stderr, "rewrap to v%d: %d of %d records (%s), %d failed, %.0f records/s\n",
				p.Target, p.Rewrapped+p.Failed, p.Total, percent(p.Rewrapped+p.Failed, p.Total), p.Failed, rate(p.Rewrapped, time.Since(start)))
		}
	}
	failure := func(f store.RewrapFailure) {
		failures++
		if bar != nil {
			bar.Clear()
		}
		fmt.Fprintf(c.stderr, "failed: %s %s: %s\n", f.Bucket, f.ID, f.Error)
	}
	p, err := ks.RewrapKeys(ctx, batch, progress, failure)
	if bar != nil {
		bar.Finish()
		fmt.Fprintln(c.stderr)
	}
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	fmt.Fprintf(c.stdout, "Rewrapped %d records to key version %d in %s (%.0f records/s); %d failed.\n",
		p.Rewrapped, p.Target, elapsed.Round(time.Millisecond), rate(p.Rewrapped, elapsed), p.Failed)
	if p.Failed > 0 {
		return hotline.Errorf(hotline.EINTERNAL, "%d records could not be rewrapped (named above): run 'hotline check'; they keep the old key version from being retired", p.Failed)
	}
	return nil
}

func percent(n, total int) string {
	if total == 0 {
		return "100%"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(total))
}

func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}
