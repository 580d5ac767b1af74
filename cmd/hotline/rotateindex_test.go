package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/store"
)

// TestRotateIndexKilledMidWayThenServerKeepsThreading kills `hotline keys
// rotate-index` with SIGKILL after its first batch, runs it again to the
// end, then starts the server: a reporter who texts joins their old case
// and a retried webhook of their first text is still a duplicate.
func TestRotateIndexKilledMidWayThenServerKeepsThreading(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	e := newAdminEnv(t)
	st := mustOpenStore(t, e.dir, e.key)
	fillStore(t, st, 1500) // 1500 reporter and 1500 dedup entries
	const reporter, firstSID = "+994509990007", "SM" + "feedface000000000000000000000007"
	first, err := st.RecordInboundSMS(context.Background(), store.InboundSMS{
		MessageSID: firstSID, From: reporter, Body: "bizi saxlayırlar", Window: 7 * 24 * time.Hour,
		Triage: hotline.Triage{Priority: hotline.P2, Lang: hotline.LangAz},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()

	cmd := exec.Command(bin, "keys", "rotate-index", "--batch", "5", "--data", e.dir)
	cmd.Env = append(os.Environ(), "HOTLINE_MASTER_KEY_FILE="+e.env["HOTLINE_MASTER_KEY_FILE"])
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stderr).ReadString('\n')
	if err != nil || !strings.Contains(line, "rotate-index to v2:") {
		cmd.Process.Kill()
		t.Fatalf("first progress line = %q, %v", line, err)
	}
	cmd.Process.Kill()
	cmd.Wait()

	if ks := keyStatus(t, e); ks.IndexMove == nil || ks.IndexMove.Moved == 0 || ks.IndexPrimary != 2 {
		t.Fatalf("after the kill: index primary %d, move %+v; want v2 with a move under way (raise the entry count if it finished)", ks.IndexPrimary, ks.IndexMove)
	}
	out := e.mustCLI(t, "keys", "rotate-index")
	if !strings.Contains(out, "Index key version 2 is primary") {
		t.Fatalf("resumed rotate-index said %q", out)
	}
	if ks := keyStatus(t, e); ks.IndexMove != nil || ks.IndexPrimary != 2 {
		t.Fatalf("after the resumed move: index primary %d, move %+v; want v2, none under way", ks.IndexPrimary, ks.IndexMove)
	}
	if out := e.mustCLI(t, "check"); !strings.Contains(out, "ok") {
		t.Errorf("check after rotate-index said %q", out)
	}

	srv := MustRunMain(t, e.dir, e.key, io.Discard)
	defer srv.Close()
	code, reply := srv.sendSMS(t, "SM"+"feedface000000000000000000000099", reporter, "it is me again")
	if code != 200 || !strings.Contains(reply, first.Case.Code) {
		t.Errorf("a text after rotate-index: %d %q; want the reporter's old case %s", code, reply, first.Case.Code)
	}
	code, reply = srv.sendSMS(t, firstSID, reporter, "bizi saxlayırlar")
	if code != 200 || !strings.Contains(reply, first.Case.Code) {
		t.Errorf("a retried webhook after rotate-index: %d %q; want the first answer (case %s)", code, reply, first.Case.Code)
	}
	if c, err := srv.Store().CaseByCode(first.Case.Code); err != nil || c.Messages != 2 {
		t.Errorf("the reporter's case holds %d messages (%v); want 2: the text joined, the retry wrote nothing", c.Messages, err)
	}
}
