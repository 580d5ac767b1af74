package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hotline-az/hotline/store"
)

// TestPurgeAndCompactCommands: purge asks for --dry-run or --yes, runs in
// the server with the server's policy (the default: only the 90-day
// number drop, nothing due on a new file), compact is refused while the
// server runs and works once it is stopped.
func TestPurgeAndCompactCommands(t *testing.T) {
	srv, e := serverAdminEnv(t)
	if code, _ := srv.sendSMS(t, "SM"+strings.Repeat("4", 32), "+994501112233", "kömək edin"); code != 200 {
		t.Fatal("SMS failed")
	}
	e.wantCLIError(t, 2, []string{"give exactly one of --dry-run or --yes"}, "purge")
	e.wantCLIError(t, 2, []string{"give exactly one of --dry-run or --yes"}, "purge", "--dry-run", "--yes")
	out := e.mustCLI(t, "purge", "--dry-run")
	if !strings.Contains(out, "dry run: nothing changed") || !strings.Contains(out, "cases to delete:                   0") {
		t.Errorf("purge --dry-run said %q", out)
	}
	var rep store.PurgeReport
	if err := json.Unmarshal([]byte(e.mustCLI(t, "purge", "--yes", "--json")), &rep); err != nil || rep.DryRun || len(rep.Deleted)+len(rep.Closed)+len(rep.NumbersDropped) != 0 {
		t.Errorf("purge --yes on a new file = %+v, %v; want nothing removed", rep, err)
	}
	// rotate-index through the running server: the reporter's next text
	// still joins their case.
	if out := e.mustCLI(t, "keys", "rotate-index"); !strings.Contains(out, "Index key version 2 is primary: 2 entries re-hashed") {
		t.Errorf("keys rotate-index on a running server said %q", out)
	}
	_, first := srv.sendSMS(t, "SM"+strings.Repeat("4", 32), "+994501112233", "kömək edin")
	_, again := srv.sendSMS(t, "SM"+strings.Repeat("5", 32), "+994501112233", "yenə mənəm")
	code := regexp.MustCompile(`[ACDEFHJKMNPQRTWXY34679]{6}`)
	if c := code.FindString(first); c == "" || c != code.FindString(again) {
		t.Errorf("after rotate-index: the retry answered %q, the next text %q; want the same case reference", first, again)
	}
	e.wantCLIError(t, 1, []string{"stop it first"}, "compact")
	srv.Close()
	out = e.mustCLI(t, "compact")
	if !strings.Contains(out, "Compacted "+e.dir) {
		t.Errorf("compact said %q", out)
	}
	if _, err := os.Stat(filepath.Join(e.dir, store.FileName)); err != nil {
		t.Fatal(err)
	}
	st := mustOpenStore(t, e.dir, e.key)
	defer st.Close()
	if n, err := st.OpenEverySealed(func(b, id string, err error) { t.Errorf("%s %s: %v", b, id, err) }); err != nil || n != 3 {
		t.Errorf("after compaction OpenEverySealed = %d, %v; want 3 (a case, two messages)", n, err)
	}
}
