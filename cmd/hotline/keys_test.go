package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/crypto"
	"github.com/hotline-az/hotline/store"
)

// serverAdminEnv runs a server on a new data directory and returns it
// with an adminEnv whose commands reach it through the admin socket.
func serverAdminEnv(t *testing.T) (*testServer, *adminEnv) {
	t.Helper()
	dir := t.TempDir()
	key, _ := crypto.GenerateMasterKey()
	srv := MustRunMain(t, dir, key, io.Discard)
	t.Cleanup(func() { srv.Close() })
	return srv, &adminEnv{dir: dir, key: key, env: map[string]string{"HOTLINE_MASTER_KEY_FILE": filepath.Join(dir, "master.key")}}
}

func keyStatus(t *testing.T, e *adminEnv) store.KeyStatus {
	t.Helper()
	var st store.KeyStatus
	if err := json.Unmarshal([]byte(e.mustCLI(t, "keys", "status", "--json")), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func recordsByVersion(st store.KeyStatus) string {
	var parts []string
	for _, v := range st.Versions {
		parts = append(parts, fmt.Sprintf("v%d:%d", v.Version, v.Records))
	}
	return strings.Join(parts, " ")
}

func TestKeysLifecycleOnARunningServer(t *testing.T) {
	srv, e := serverAdminEnv(t)
	for i := range 3 {
		if code, _ := srv.sendSMS(t, fmt.Sprintf("SM%032d", i), fmt.Sprintf("+99450111%04d", i), "kömək edin"); code != 200 {
			t.Fatalf("SMS %d: %d", i, code)
		}
	}
	if got := recordsByVersion(keyStatus(t, e)); got != "v1:6" {
		t.Fatalf("status before rotate = %q, want v1:6", got)
	}
	if out := e.mustCLI(t, "keys", "rotate"); !strings.Contains(out, "Key version 2 is now primary") {
		t.Fatalf("keys rotate said %q", out)
	}
	// New writes use the new version at once.
	if code, _ := srv.sendSMS(t, fmt.Sprintf("SM%032d", 99), "+994501119999", "new tip"); code != 200 {
		t.Fatal("SMS after rotate failed")
	}
	if got := recordsByVersion(keyStatus(t, e)); got != "v1:6 v2:2" {
		t.Fatalf("status after rotate = %q, want v1:6 v2:2", got)
	}
	e.wantCLIError(t, 1, []string{"key version 1 still protects 6 records", "keys rewrap"}, "keys", "retire", "1", "--yes")
	e.wantCLIError(t, 2, []string{"VERSION: 2 is the primary version"}, "keys", "retire", "2", "--yes")
	e.wantCLIError(t, 2, []string{"VERSION"}, "keys", "retire", "two")

	out := e.mustCLI(t, "keys", "rewrap")
	if !strings.Contains(out, "Rewrapped 6 records to key version 2") {
		t.Fatalf("keys rewrap said %q", out)
	}
	if got := recordsByVersion(keyStatus(t, e)); got != "v1:0 v2:8" {
		t.Fatalf("status after rewrap = %q, want v1:0 v2:8", got)
	}
	if out := e.mustCLI(t, "keys", "min-decrypt", "2"); !strings.Contains(out, "0 records affected") {
		t.Errorf("keys min-decrypt 2 said %q", out)
	}
	// Without --yes the typed confirmation is needed; an empty answer
	// changes nothing.
	e.wantCLIError(t, 1, []string{"not confirmed"}, "keys", "retire", "1")
	var stdout, stderr strings.Builder
	code := run(context.Background(), []string{"keys", "retire", "1", "--data", e.dir}, strings.NewReader("retire v1\n"), &stdout, &stderr, func(k string) string { return e.env[k] })
	if code != 0 || !strings.Contains(stdout.String(), "Key version 1 is destroyed") {
		t.Fatalf("keys retire 1 confirmed: exit %d, %q %q", code, stdout.String(), stderr.String())
	}
	if got := recordsByVersion(keyStatus(t, e)); got != "v2:8" {
		t.Fatalf("status after retire = %q, want v2:8", got)
	}
	var audit []struct{ Action, Object string }
	json.Unmarshal([]byte(e.mustCLI(t, "audit", "list", "--json")), &audit)
	var acts []string
	for _, a := range audit {
		if strings.HasPrefix(a.Action, "keys.") {
			acts = append(acts, a.Action+":"+a.Object)
		}
	}
	if got, want := strings.Join(acts, " "), "keys.rotate:v2 keys.rewrap_start:v2 keys.rewrap:v2 keys.min_decrypt:v2 keys.retire:v1"; got != want {
		t.Errorf("audit = %q, want %q", got, want)
	}
	srv.Close()
	// Every record still opens after a restart, with the old key gone.
	st := mustOpenStore(t, e.dir, e.key)
	defer st.Close()
	n, err := st.OpenEverySealed(func(b, id string, err error) { t.Errorf("%s %s: %v", b, id, err) })
	if err != nil || n != 8 {
		t.Errorf("OpenEverySealed = %d, %v; want 8", n, err)
	}
}

// fillStore writes n tips from n reporters with concurrent writers, so
// group commit keeps it quick.
func fillStore(tb testing.TB, st *store.Store, n int) {
	tb.Helper()
	var wg sync.WaitGroup
	var next atomic.Int64
	var failed atomic.Value
	for range 32 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				_, err := st.RecordInboundSMS(context.Background(), store.InboundSMS{
					MessageSID: fmt.Sprintf("SM%032d", i), From: fmt.Sprintf("+99450%07d", i), Body: "bizi saxlayırlar",
					Triage: hotline.Triage{Priority: hotline.P2, Lang: hotline.LangAz},
				}, nil)
				if err != nil {
					failed.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		tb.Fatal(err)
	}
}

// TestRewrapKilledMidWayResumes kills `hotline keys rewrap` with SIGKILL
// after its first batch, runs it again and checks it finished from where
// it stopped: every record opens and no record is left on version 1.
func TestRewrapKilledMidWayResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	e := newAdminEnv(t)
	st := mustOpenStore(t, e.dir, e.key)
	fillStore(t, st, 1500) // 3000 sealed records
	st.Close()
	e.mustCLI(t, "keys", "rotate")

	cmd := exec.Command(bin, "keys", "rewrap", "--batch", "5", "--data", e.dir)
	cmd.Env = append(os.Environ(), "HOTLINE_MASTER_KEY_FILE="+e.env["HOTLINE_MASTER_KEY_FILE"])
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stderr).ReadString('\n')
	if err != nil || !strings.Contains(line, "rewrap to v2:") {
		cmd.Process.Kill()
		t.Fatalf("first progress line = %q, %v", line, err)
	}
	cmd.Process.Kill()
	cmd.Wait()

	st = mustOpenStore(t, e.dir, e.key)
	ks, err := st.KeyStatus()
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	if ks.Rewrap == nil || ks.Rewrap.Rewrapped == 0 || ks.Versions[0].Records == 0 {
		t.Fatalf("after the kill: status %+v, rewrap %+v; want a pass under way, part done (raise the record count if it finished)", ks.Versions, ks.Rewrap)
	}
	t.Logf("killed after %d of %d records", ks.Rewrap.Rewrapped, ks.Rewrap.Total)
	resumedFrom := ks.Rewrap.Rewrapped

	out := e.mustCLI(t, "keys", "rewrap")
	if !strings.Contains(out, "Rewrapped 3000 records to key version 2") || !strings.Contains(out, "0 failed") {
		t.Errorf("resumed rewrap said %q; want all 3000 counted (%d before the kill)", out, resumedFrom)
	}
	if got := recordsByVersion(keyStatus(t, e)); got != "v1:0 v2:3000" {
		t.Fatalf("after the resumed pass: %q, want v1:0 v2:3000", got)
	}
	st = mustOpenStore(t, e.dir, e.key)
	n, err := st.OpenEverySealed(func(b, id string, err error) { t.Errorf("%s %s: %v", b, id, err) })
	st.Close()
	if err != nil || n != 3000 {
		t.Fatalf("OpenEverySealed = %d, %v; want 3000", n, err)
	}
	e.mustCLI(t, "keys", "retire", "1", "--yes")
}

// TestBackupUnderWriteLoadRestores takes a hot backup through the admin
// socket while tips keep arriving, restores it and checks that the copy
// is consistent, opens everywhere, and that the backup file holds no
// number, body or SID in plaintext.
func TestBackupUnderWriteLoadRestores(t *testing.T) {
	srv, e := serverAdminEnv(t)
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	idFile := filepath.Join(t.TempDir(), "identity.txt")
	os.WriteFile(idFile, []byte(id.String()+"\n"), 0o600)

	const body = "Kömək edin, bizi zirzəmidə saxlayırlar"
	var sent atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				n := w*100000 + i
				if code, _ := srv.sendSMS(t, fmt.Sprintf("SM%032d", n), fmt.Sprintf("+99450%07d", n), body); code != 200 {
					t.Errorf("SMS under load: %d", code)
					return
				}
				sent.Add(1)
			}
		})
	}
	for sent.Load() < 40 {
		// let the load build up before the snapshot
		time.Sleep(5 * time.Millisecond)
	}
	before := sent.Load()
	out := filepath.Join(t.TempDir(), "hotline.age")
	msg := e.mustCLI(t, "backup", "--out", out, "--recipient", id.Recipient().String())
	after := sent.Load()
	close(stop)
	wg.Wait()
	if !strings.Contains(msg, "Backup written to "+out) {
		t.Fatalf("backup said %q", msg)
	}

	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(raw), "age-encryption.org/v1\n") {
		t.Fatalf("backup file does not start with an age header")
	}
	for _, plain := range []string{"+99450", "99450", "0000000", body, "Kömək", "SM000", "messages", "case_codes"} {
		if strings.Contains(string(raw), plain) {
			t.Errorf("backup file holds %q in plaintext", plain)
		}
	}

	restoreTo := filepath.Join(t.TempDir(), "restored")
	restore := func(args ...string) (int, string, string) {
		var stdout, stderr strings.Builder
		code := run(context.Background(), append([]string{"restore"}, args...), strings.NewReader(""), &stdout, &stderr, func(k string) string { return e.env[k] })
		return code, stdout.String(), stderr.String()
	}
	if code, _, stderr := restore("--in", out, "--data", e.dir, "--identity", idFile); code != 2 || !strings.Contains(stderr, "is not empty") {
		t.Errorf("restore into the live data directory: exit %d, %q; want 2, not empty", code, stderr)
	}
	other, _ := age.GenerateX25519Identity()
	otherFile := filepath.Join(t.TempDir(), "other.txt")
	os.WriteFile(otherFile, []byte(other.String()+"\n"), 0o600)
	if code, _, stderr := restore("--in", out, "--data", restoreTo, "--identity", otherFile); code != 1 || !strings.Contains(stderr, "cannot decrypt") {
		t.Errorf("restore with another identity: exit %d, %q; want 1, cannot decrypt", code, stderr)
	}
	os.RemoveAll(restoreTo)
	code, stdout, stderr := restore("--in", out, "--data", restoreTo, "--identity", idFile)
	if code != 0 || !strings.Contains(stdout, "sealed records open with the master key") {
		t.Fatalf("restore: exit %d, %q %q", code, stdout, stderr)
	}

	st := mustOpenStore(t, restoreTo, e.key)
	defer st.Close()
	counts, err := st.SealedCounts()
	if err != nil {
		t.Fatal(err)
	}
	stats, err := st.Stats()
	if err != nil {
		t.Fatal(err)
	}
	// A consistent snapshot: each tip is one case and one message
	// written in one transaction, so the copy has as many of each, and
	// it holds at least every tip answered before the backup began and
	// at most those answered by its end.
	if counts["cases"] != counts["messages"] || int64(counts["messages"]) < before || int64(counts["messages"]) > after {
		t.Errorf("restored counts %v; want cases = messages, between %d and %d", counts, before, after)
	}
	if stats.Cases != counts["cases"] || stats.Messages != counts["messages"] {
		t.Errorf("restored stats %+v do not match the sealed counts %v", stats, counts)
	}
	t.Logf("snapshot holds %d tips (%d answered before it began, %d by its end)", counts["messages"], before, after)
}

func TestChangeMasterNeedsAStoppedServer(t *testing.T) {
	srv, e := serverAdminEnv(t)
	newKey, _ := crypto.GenerateMasterKey()
	newFile := filepath.Join(t.TempDir(), "new.key")
	if err := newKey.WriteFile(newFile); err != nil {
		t.Fatal(err)
	}
	e.wantCLIError(t, 1, []string{"stop it first"}, "keys", "change-master", "--new-key-file", newFile)
	e.wantCLIError(t, 2, []string{"give one of --new-key-file or --new-passphrase-file"}, "keys", "change-master")
	srv.Close()

	if out := e.mustCLI(t, "keys", "change-master", "--new-key-file", newFile); !strings.Contains(out, "no record was touched") {
		t.Fatalf("change-master said %q", out)
	}
	// The old key no longer opens the file; the new one does.
	code, _, stderr := e.cli(t, "keys", "status")
	if code == 0 || !strings.Contains(stderr, "does not open this data file's keyring") {
		t.Errorf("keys status with the old key: exit %d, %q; want refused", code, stderr)
	}
	e.env["HOTLINE_MASTER_KEY_FILE"] = newFile
	if got := recordsByVersion(keyStatus(t, e)); got != "v1:0" {
		t.Errorf("keys status with the new key = %q, want v1:0", got)
	}
}
