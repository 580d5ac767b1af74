package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/crypto"
	"github.com/hotline-az/hotline/dispatch"
	"github.com/hotline-az/hotline/store"
	"github.com/hotline-az/hotline/twiliotest"
)

// buildBinary compiles hotline once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "hotline")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestKilledMidEscalationResumesOnTime kills the server with SIGKILL
// between the first alert and the backup step, restarts it, and checks
// the backup is alerted on schedule and nobody twice.
func TestKilledMidEscalationResumesOnTime(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	raw := make([]byte, 32)
	for i := range raw {
		raw[i] = byte(i * 7)
	}
	keyB64 := base64.StdEncoding.EncodeToString(raw)
	key, err := crypto.ParseMasterKey(keyB64)
	if err != nil {
		t.Fatal(err)
	}
	const onDuty, backup = "+994501110001", "+994501110002"
	// Officers and rota are set up with the server stopped, as an admin would.
	st, err := store.Open(dir, store.MasterKeySource{Key: &key}, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = st.Update(context.Background(), func(tx *store.Tx) error {
		a, err := tx.AddOfficer(hotline.Officer{Name: "Leyla Aliyeva", Phone: onDuty, Role: hotline.RoleOfficer})
		if err != nil {
			return err
		}
		b, err := tx.AddOfficer(hotline.Officer{Name: "Rashad Mammadov", Phone: backup, Role: hotline.RoleSupervisor})
		if err != nil {
			return err
		}
		rota := dispatch.Rota{TimeZone: "Asia/Baku"}
		for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
			rota.Shifts = append(rota.Shifts, dispatch.Shift{Day: d, Start: "00:00", End: "24:00", Officer: a.ID, Backup: b.ID, Supervisor: b.ID})
		}
		return dispatch.SaveRota(tx, rota)
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	const backupAfter = 4 * time.Second
	cfgFile := filepath.Join(dir, "hotline.toml")
	os.WriteFile(cfgFile, []byte(fmt.Sprintf(`
[escalation.p1]
repeat = 1
[[escalation.p1.step]]
after = "0s"
channels = ["sms"]
target = "on_duty"
[[escalation.p1.step]]
after = "%s"
channels = ["sms"]
target = "backup"
`, backupAfter)), 0o600)

	fake := twiliotest.NewFakeTwilio(t)
	addr, internalAddr := freeAddr(t), freeAddr(t)
	env := append(os.Environ(),
		"HOTLINE_DATA_DIR="+dir, "HOTLINE_ADDR="+addr, "HOTLINE_INTERNAL_ADDR="+internalAddr, "HOTLINE_PUBLIC_URL=http://"+addr,
		"HOTLINE_MASTER_KEY="+keyB64, "TWILIO_ACCOUNT_SID="+fake.AccountSID(), "TWILIO_AUTH_TOKEN="+fake.AuthToken(),
		"TWILIO_PHONE_NUMBER=+994125550000", "HOTLINE_TWILIO_API_URL="+fake.URL())
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "serve", "--config", cfgFile, "--console-addr=")
		cmd.Env = env
		logPath := filepath.Join(t.TempDir(), "server.log")
		logFile, _ := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY, 0o600)
		cmd.Stdout, cmd.Stderr = logFile, logFile
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if resp, err := http.Get("http://" + internalAddr + "/readyz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					return cmd
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		logText, _ := os.ReadFile(logPath)
		t.Fatalf("server did not become ready; its log:\n%s", logText)
		return nil
	}
	countTo := func(to string) int {
		n := 0
		for _, m := range fake.Messages() {
			if m.To == to {
				n++
			}
		}
		return n
	}
	waitFor := func(what string, limit time.Duration, cond func() bool) time.Time {
		deadline := time.Now().Add(limit)
		for time.Now().Before(deadline) {
			if cond() {
				return time.Now()
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("timed out waiting for %s; fake Twilio has %d messages", what, len(fake.Messages()))
		return time.Time{}
	}

	cmd := start()
	form := url.Values{"MessageSid": {twiliotest.NewSID("SM")}, "AccountSid": {fake.AccountSID()}, "From": {"+994557654321"}, "To": {"+994125550000"},
		"Body": {"Kömək edin, bizi zirzəmidə saxlayırlar"}}
	req, _ := twiliotest.NewSignedRequest(fake.AuthToken(), "http://"+addr+"/twilio/sms", "http://"+addr+"/twilio/sms", form)
	tipAt := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("tip: got %d", resp.StatusCode)
	}
	waitFor("the on-duty SMS", 5*time.Second, func() bool { return countTo(onDuty) == 1 })

	// SIGKILL: no clean shutdown, no chance to flush anything.
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	start()

	backupAt := waitFor("the backup SMS after restart", backupAfter+10*time.Second, func() bool { return countTo(backup) == 1 })
	if early := backupAt.Sub(tipAt); early < backupAfter {
		t.Fatalf("backup alerted %s after the tip, before its %s step", early, backupAfter)
	}
	if late := backupAt.Sub(tipAt); late > backupAfter+5*time.Second {
		t.Fatalf("backup alerted %s after the tip: the timer did not survive the restart on time", late)
	}
	time.Sleep(1500 * time.Millisecond)
	if n := countTo(onDuty); n != 1 {
		t.Fatalf("on-duty officer got %d SMS after the restart, want exactly 1", n)
	}
	if !strings.HasPrefix(fake.Messages()[1].Body, "Hotline: new P1 case ") {
		t.Fatalf("backup alert text: %q", fake.Messages()[1].Body)
	}
}

// TestKilledUnderLoadLosesNoAcknowledgedTip SIGKILLs the server while
// webhooks are in flight. Every tip that was answered 200 must be in the
// data file after a restart: Twilio's retry of it is recognised as a
// duplicate, and the message count covers every 200.
func TestKilledUnderLoadLosesNoAcknowledgedTip(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	key, _ := crypto.GenerateMasterKey()
	keyFile := filepath.Join(t.TempDir(), "master.key")
	if err := key.WriteFile(keyFile); err != nil {
		t.Fatal(err)
	}
	addr, internalAddr := freeAddr(t), freeAddr(t)
	const token = "loadtoken123"
	env := append(os.Environ(), "HOTLINE_DATA_DIR="+dir, "HOTLINE_ADDR="+addr, "HOTLINE_INTERNAL_ADDR="+internalAddr, "HOTLINE_PUBLIC_URL=http://"+addr,
		"HOTLINE_MASTER_KEY_FILE="+keyFile, "TWILIO_ACCOUNT_SID=AC"+strings.Repeat("0", 32), "TWILIO_AUTH_TOKEN="+token,
		"TWILIO_PHONE_NUMBER=+994125550000", "HOTLINE_TWILIO_API_URL=http://127.0.0.1:9")
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "serve", "--console-addr=")
		cmd.Env = env
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if resp, err := http.Get("http://" + internalAddr + "/readyz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					return cmd
				}
			}
		}
		t.Fatal("server did not become ready")
		return nil
	}
	send := func(client *http.Client, sid string, i int) (int, string) {
		form := url.Values{"MessageSid": {sid}, "AccountSid": {"AC" + strings.Repeat("0", 32)}, "From": {fmt.Sprintf("+9945570%05d", i%40)}, "To": {"+994125550000"},
			"Body": {fmt.Sprintf("Salam, sual %d: xaricdə iş təklifi gəlib, necə yoxlayım?", i)}}
		req, _ := twiliotest.NewSignedRequest(token, "http://"+addr+"/twilio/sms", "http://"+addr+"/twilio/sms", form)
		resp, err := client.Do(req)
		if err != nil {
			return 0, ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	cmd := start()
	type answered struct{ sid, reply string }
	acked := make(chan answered, 100000)
	stop := make(chan struct{})
	done := make(chan struct{})
	var seq atomic.Int64
	const workers = 16
	for w := 0; w < workers; w++ {
		go func() {
			defer func() { done <- struct{}{} }()
			client := &http.Client{Timeout: 5 * time.Second}
			for {
				select {
				case <-stop:
					return
				default:
				}
				i := int(seq.Add(1))
				sid := fmt.Sprintf("SM%032x", i)
				if status, reply := send(client, sid, i); status == 200 {
					acked <- answered{sid, reply}
				}
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGKILL) // mid-traffic: some requests are half done
	cmd.Wait()
	close(stop)
	for w := 0; w < workers; w++ {
		<-done
	}
	close(acked)
	var all []answered
	for a := range acked {
		all = append(all, a)
	}
	if len(all) < 50 {
		t.Fatalf("only %d tips answered before the kill; the test needs traffic", len(all))
	}

	start()
	client := &http.Client{Timeout: 5 * time.Second}
	for _, a := range all {
		// Twilio's retry of an acknowledged tip must get the same answer.
		if status, reply := send(client, a.sid, 0); status != 200 || reply != a.reply {
			t.Fatalf("tip %s was answered 200 before the kill but its retry got %d %q (first answer %q)", a.sid, status, reply, a.reply)
		}
	}
	resp, err := http.Get("http://" + internalAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var stored int
	for _, line := range strings.Split(string(m), "\n") {
		if v, ok := strings.CutPrefix(line, "hotline_messages "); ok {
			fmt.Sscan(v, &stored)
		}
	}
	if stored < len(all) {
		t.Fatalf("%d tips were answered 200 but only %d are stored", len(all), stored)
	}
	t.Logf("%d tips answered before SIGKILL, all found after restart (%d stored, the rest were durable but unanswered)", len(all), stored)
}
