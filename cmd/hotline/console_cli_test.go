package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/console"
	"github.com/hotline-az/hotline/internal/leaktest"
	"github.com/hotline-az/hotline/store"
)

// cliWithStdin runs `hotline args... --data DIR` with stdin.
func (e *adminEnv) cliWithStdin(stdin string, args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	args = append(args, "--data", e.dir)
	code := run(context.Background(), args, strings.NewReader(stdin), &stdout, &stderr, func(k string) string { return e.env[k] })
	return code, stdout.String(), stderr.String()
}

// TestConsoleCommandsOverTheSocket: passwd, reset-totp, cases and audit
// through a running server's admin socket (no key in the CLI's
// environment), then audit verify on the stopped file after tampering.
func TestConsoleCommandsOverTheSocket(t *testing.T) {
	e := newAdminEnv(t)
	st := mustOpenStore(t, e.dir, e.key)
	logs := &leaktest.Buffer{}
	ln, err := console.ListenAdminSocket(filepath.Join(e.dir, console.AdminSocketName))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: console.NewAdminHandler(console.NewAdmin(st, nil, nil), zerolog.New(logs))}
	go srv.Serve(ln)
	keyEnv := e.env
	e.env = map[string]string{}

	const password = "a passphrase of five words"
	const tip = "They keep us in the warehouse and took our passports"
	e.mustCLI(t, "officers", "add", "--name", "Leyla Aliyeva", "--phone", "+994501110001", "--role", "officer")
	if code, out, errOut := e.cliWithStdin(password+"\n", "officers", "passwd", "Leyla Aliyeva", "--password-stdin"); code != 0 || !strings.Contains(out, "Password set for Leyla Aliyeva") {
		t.Fatalf("passwd: exit %d %q %q", code, out, errOut)
	}
	if code, _, errOut := e.cliWithStdin("short\n", "officers", "passwd", "Leyla Aliyeva", "--password-stdin"); code != 2 || !strings.Contains(errOut, "at least 12 characters") {
		t.Fatalf("short password: exit %d %q", code, errOut)
	}
	if code, _, errOut := e.cliWithStdin("", "officers", "passwd", "Leyla Aliyeva"); code != 2 || !strings.Contains(errOut, "--password-stdin") {
		t.Fatalf("passwd without a terminal: exit %d %q", code, errOut)
	}
	if code, _, errOut := e.cliWithStdin(password+"\n", "officers", "passwd", "Nobody Here", "--password-stdin"); code != 1 || !strings.Contains(errOut, `no officer named "Nobody Here"`) {
		t.Fatalf("passwd for an unknown officer: exit %d %q", code, errOut)
	}
	if out := e.mustCLI(t, "officers", "reset-totp", "Leyla Aliyeva"); !strings.Contains(out, "TOTP reset for Leyla Aliyeva") {
		t.Fatalf("reset-totp: %q", out)
	}
	if out := e.mustCLI(t, "cases", "list"); !strings.Contains(out, "No cases.") {
		t.Fatalf("cases list on an empty file: %q", out)
	}
	res, err := st.RecordInboundSMS(context.Background(), store.InboundSMS{
		MessageSID: "SM" + strings.Repeat("1", 32), From: "+994557654321", Body: tip, Window: time.Hour,
		Triage: hotline.Triage{Priority: hotline.P1, Category: hotline.CategoryLabor, Lang: hotline.LangEn, Matched: []string{"confined"}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	code := res.Case.Code
	list := e.mustCLI(t, "cases", "list", "--open")
	if !strings.Contains(list, code) || strings.Contains(list, "warehouse") {
		t.Fatalf("cases list: want the code and no text:\n%s", list)
	}
	show := e.mustCLI(t, "cases", "show", strings.ToLower(code))
	if !strings.Contains(show, tip) || !strings.Contains(show, "triage: confined") || strings.Contains(show, "557654321") {
		t.Fatalf("cases show:\n%s", show)
	}
	audit := e.mustCLI(t, "audit", "list")
	for _, want := range []string{"admin.password_set", "admin.totp_reset", "case.open", code} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit list lacks %q:\n%s", want, audit)
		}
	}
	// Times carry the rota zone's offset (Asia/Baku), as alerts list shows them.
	if !regexp.MustCompile(`\n1 +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+04 `).MatchString(audit) {
		t.Errorf("audit list AT lacks the +04 offset:\n%s", audit)
	}
	if out := e.mustCLI(t, "audit", "verify"); !strings.Contains(out, "audit log intact: 3 entries") {
		t.Fatalf("audit verify: %q", out)
	}
	leaktest.Check(t, "admin socket log", logs.String(), password, tip, "Leyla Aliyeva")

	// Stop the server; verify reads the file itself. Change one byte of
	// one entry, then remove one: both exit 1 and say what broke.
	srv.Close()
	st.Close()
	e.env = keyEnv
	tamper := func(fn func(b *bolt.Bucket) error) {
		db, err := bolt.Open(filepath.Join(e.dir, store.FileName), 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.Update(func(tx *bolt.Tx) error { return fn(tx.Bucket([]byte("audit"))) }); err != nil {
			t.Fatal(err)
		}
	}
	seq := func(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }
	var original []byte
	tamper(func(b *bolt.Bucket) error {
		original = bytes.Clone(b.Get(seq(3)))
		v := bytes.Clone(original)
		i := bytes.Index(v, []byte(code))
		v[i] ^= 1
		return b.Put(seq(3), v)
	})
	if c, out, _ := e.cli(t, "audit", "verify"); c != 1 || !strings.Contains(out, "entry 3: content does not match its hash (changed)") {
		t.Fatalf("verify after a changed byte: exit %d\n%s", c, out)
	}
	tamper(func(b *bolt.Bucket) error {
		if err := b.Put(seq(3), original); err != nil { // back as it was
			return err
		}
		return b.Delete(seq(2))
	})
	if c, out, _ := e.cli(t, "audit", "verify"); c != 1 || !strings.Contains(out, "entries 2 to 2 are missing (removed)") {
		t.Fatalf("verify after a removed entry: exit %d\n%s", c, out)
	}
}
