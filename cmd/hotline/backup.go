package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/rs/zerolog"

	"github.com/hotline-az/hotline/config"
	"github.com/hotline-az/hotline/console"
	"github.com/hotline-az/hotline/store"
)

const backupUsage = `Usage: hotline backup --out FILE [--recipient AGE_PUBLIC_KEY ...]

Writes a consistent snapshot of the data file while the server keeps
taking tips (one bbolt read transaction, through the admin socket; with
the server stopped the file is read directly), encrypted with age to the
recipients in backup_recipients (config) or HOTLINE_BACKUP_RECIPIENTS,
or to --recipient (repeatable), which overrides them. Only the matching
age identity, kept offline, opens the backup; restoring it then needs
the master key as well. FILE must not exist.

Make a recipient once, offline:  age-keygen -o backup-identity.txt

Example:
  hotline backup --out /var/backups/hotline-$(date +%F).age
`

const restoreUsage = `Usage: hotline restore --in FILE --data DIR --identity KEYFILE

Decrypts a backup made by 'hotline backup' with the age identity in
KEYFILE into DIR, which must be empty or not exist, then opens every
sealed record with the master key (HOTLINE_MASTER_KEY(_FILE) or
HOTLINE_MASTER_PASSPHRASE(_FILE), or --config) and checks every record's
integrity tag and index entry. If any record does not open or check, the copy is left as DIR/hotline.db.unverified and the exit status
is 1; 'hotline serve' never picks that name up.

Example:
  hotline restore --in hotline-2026-12-01.age --data /var/lib/hotline --identity backup-identity.txt
`

// recipientsFlag collects repeated --recipient values.
type recipientsFlag []string

func (r *recipientsFlag) String() string     { return strings.Join(*r, ",") }
func (r *recipientsFlag) Set(v string) error { *r = append(*r, v); return nil }

func parseRecipients(list []string, source string) ([]age.Recipient, error) {
	var out []age.Recipient
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		r, err := age.ParseX25519Recipient(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not an age public key (age1...): %v", source, s, err)
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no backup recipient: give --recipient age1..., or set backup_recipients in the config or HOTLINE_BACKUP_RECIPIENTS")
	}
	return out, nil
}

// encryptedOut checks the flags of a command that writes an age-encrypted
// file: the file (named by flag) must be given and must not exist yet, and
// the recipients come from --recipient, else the config's backup_recipients.
func (c *adminCmd) encryptedOut(flag, out string, flagRecipients recipientsFlag) ([]age.Recipient, int, bool) {
	if code, ok := c.require(flag, out); !ok {
		return nil, code, false
	}
	var recipients []age.Recipient
	var err error
	if len(flagRecipients) > 0 {
		recipients, err = parseRecipients(flagRecipients, "--recipient")
	} else {
		var cfg config.Config
		cfg, err = config.Load(config.Flags{ConfigFile: *c.config}, c.getenv)
		if err == nil {
			recipients, err = parseRecipients(cfg.BackupRecipients, "backup_recipients")
		}
	}
	if err != nil {
		return nil, c.usageErr("%v", err), false
	}
	if _, err := os.Lstat(out); err == nil {
		return nil, c.usageErr("%s: %s exists; give a new file name", flag, out), false
	}
	return recipients, 0, true
}

func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	c := newAdminCmd(ctx, "backup", backupUsage, stdout, stderr, getenv)
	out := c.fs.String("out", "", "the encrypted backup file to write (must not exist)")
	var flagRecipients recipientsFlag
	c.fs.Var(&flagRecipients, "recipient", "age public key to encrypt to (repeatable; overrides the config)")
	if code, ok := c.parseNoArgs(args); !ok {
		return code
	}
	recipients, code, ok := c.encryptedOut("--out", *out, flagRecipients)
	if !ok {
		return code
	}
	return c.runKeys(func(ctx context.Context, ks console.KeyService) error {
		return writeBackup(ctx, ks, *out, recipients, c.stdout)
	})
}

// writeBackup streams the snapshot through age into FILE.partial, syncs
// it and renames it into place, so FILE only ever exists complete.
func writeBackup(ctx context.Context, ks console.KeyService, out string, recipients []age.Recipient, stdout io.Writer) error {
	start := time.Now()
	partial := out + ".partial"
	f, err := os.OpenFile(partial, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create the backup file: %w", err)
	}
	done := false
	defer func() {
		if !done {
			f.Close()
			os.Remove(partial)
		}
	}()
	enc, err := age.Encrypt(store.BackupWriter(ctx, f), recipients...)
	if err != nil {
		return err
	}
	n, err := ks.Backup(ctx, enc)
	if err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	info, err := f.Stat()
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(partial, out); err != nil {
		return err
	}
	done = true
	if d, err := os.Open(filepath.Dir(out)); err == nil {
		d.Sync()
		d.Close()
	}
	fmt.Fprintf(stdout, "Backup written to %s: %s encrypted (snapshot %s) to %d recipient(s) in %s.\n",
		out, byteSize(info.Size()), byteSize(n), len(recipients), time.Since(start).Round(time.Millisecond))
	return nil
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

func runRestore(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	flags := flag.NewFlagSet("restore", flag.ContinueOnError)
	in := flags.String("in", "", "the encrypted backup file")
	data := flags.String("data", "", "the data directory to restore into (empty or new)")
	identity := flags.String("identity", "", "the age identity file (AGE-SECRET-KEY-1...)")
	cfgFile := flags.String("config", "", "TOML configuration file (for the master key settings)")
	flags.Usage = func() {
		fmt.Fprint(flags.Output(), restoreUsage)
		fmt.Fprintln(flags.Output(), "\nFlags:")
		flags.PrintDefaults()
	}
	if code, ok := parseFlags(flags, args, stdout, stderr); !ok {
		return code
	}
	usageErr := func(format string, args ...any) int {
		fmt.Fprintf(stderr, "hotline restore: %s\nRun 'hotline restore -h' for help.\n", fmt.Sprintf(format, args...))
		return 2
	}
	if flags.NArg() > 0 {
		return usageErr("unexpected argument %q", flags.Arg(0))
	}
	var missing []string
	for _, p := range [][2]string{{"--in", *in}, {"--data", *data}, {"--identity", *identity}} {
		if p[1] == "" {
			missing = append(missing, p[0])
		}
	}
	if len(missing) > 0 {
		return usageErr("%s required", strings.Join(missing, ", "))
	}
	if entries, err := os.ReadDir(*data); err == nil && len(entries) > 0 {
		return usageErr("--data: %s is not empty; restore into an empty or new directory", *data)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return usageErr("--data: %v", err)
	}
	cfg, err := config.Load(config.Flags{ConfigFile: *cfgFile, DataDir: *data}, getenv)
	if err != nil {
		return usageErr("%v", err)
	}
	key, err := masterKeySource(cfg)
	if err != nil {
		return usageErr("the master key is needed to check the restored records: %v; set HOTLINE_MASTER_KEY, HOTLINE_MASTER_KEY_FILE or HOTLINE_MASTER_PASSPHRASE(_FILE)", err)
	}
	idFile, err := os.Open(*identity)
	if err != nil {
		return usageErr("--identity: %v", err)
	}
	ids, err := age.ParseIdentities(idFile)
	idFile.Close()
	if err != nil {
		return usageErr("--identity: %s holds no age identity: %v", *identity, err)
	}
	start := time.Now()
	n, err := restoreBackup(*in, *data, ids, key, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "hotline restore: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "Restored %s into %s in %s: all %d sealed records open with the master key.\n",
		*in, *data, time.Since(start).Round(time.Millisecond), n)
	return 0
}

// restoreBackup decrypts in into dir/hotline.db and opens every sealed
// record; a copy that does not check clean is renamed out of the way.
func restoreBackup(in, dir string, ids []age.Identity, key store.MasterKeySource, stdout, stderr io.Writer) (int, error) {
	src, err := os.Open(in)
	if err != nil {
		return 0, fmt.Errorf("--in: %w", err)
	}
	defer src.Close()
	plain, err := age.Decrypt(src, ids...)
	if err != nil {
		return 0, fmt.Errorf("--in: cannot decrypt %s with this identity: %w", in, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, err
	}
	path := filepath.Join(dir, store.FileName)
	tmp := path + ".restoring"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, err
	}
	if _, err := io.Copy(f, plain); err != nil {
		f.Close()
		os.Remove(tmp)
		return 0, fmt.Errorf("--in: %s is damaged or cut off: %w", in, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return 0, err
	}
	if err := f.Close(); err != nil {
		return 0, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return 0, err
	}
	unverified := func(why error) (int, error) {
		os.Rename(path, path+".unverified")
		return 0, fmt.Errorf("%w; the copy is left as %s.unverified", why, path)
	}
	log := zerolog.New(stderr).Level(zerolog.WarnLevel)
	st, err := store.Open(dir, key, store.Options{Logger: log, LockTimeout: time.Second})
	if err != nil {
		return unverified(fmt.Errorf("the restored file does not open: %w", err))
	}
	var problems int
	n, err := st.OpenEverySealed(func(bucket, id string, err error) {
		problems++
		fmt.Fprintf(stderr, "does not open: %s %s: %v\n", bucket, id, err)
	})
	if err == nil {
		// Tags, bindings and index entries, as 'hotline check' reads them.
		_, err = st.VerifyRecords(func(bucket, id string, err error) {
			problems++
			fmt.Fprintf(stderr, "damaged: %s %s: %v\n", bucket, id, err)
		})
	}
	if err == nil {
		err = st.Close()
	} else {
		st.Close()
	}
	if err != nil {
		return unverified(err)
	}
	if problems > 0 {
		return unverified(fmt.Errorf("%d sealed records do not open with this master key", problems))
	}
	return n, nil
}
