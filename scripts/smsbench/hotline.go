package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// hotlineProc is a hotline server this benchmark built and started.
type hotlineProc struct {
	cmd         *exec.Cmd
	exited      chan struct{} // closed when the process has exited
	waitErr     error         // set before exited is closed
	logPath     string
	baseURL     string // http://127.0.0.1:port: Twilio's webhooks
	internalURL string // http://127.0.0.1:port: /readyz, /metrics, pprof
}

// buildHotline builds ./cmd/hotline from the repository root into dir.
func buildHotline(ctx context.Context, dir string) (string, error) {
	out, err := exec.CommandContext(ctx, "git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		return "", fmt.Errorf("finding the repository root with git rev-parse: %w", err)
	}
	root := strings.TrimSpace(string(out))
	bin := filepath.Join(dir, "hotline")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/hotline")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/hotline in %s: %w\n%s", root, err, bytes.TrimSpace(out))
	}
	return bin, nil
}

// startHotline starts bin as "hotline serve --dev" on two free loopback
// ports (public and internal), with a fresh data directory and a fresh
// master key under dir, and waits until GET /readyz on the internal port
// answers 200. The process gets only the environment it
// needs: no Twilio credentials from the caller's shell can reach it, so a
// benchmark can never send a real SMS.
func startHotline(ctx context.Context, bin, dir, token string, readyWithin time.Duration) (*hotlineProc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	internalPort, err := freePort()
	if err != nil {
		return nil, err
	}
	dataDir := filepath.Join(dir, "hotline-data")
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	var key [32]byte
	rand.Read(key[:])
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	internalAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(internalPort))
	p := &hotlineProc{
		logPath:     filepath.Join(dir, "hotline.log"),
		baseURL:     "http://" + addr,
		internalURL: "http://" + internalAddr,
		exited:      make(chan struct{}),
	}
	logFile, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child has its own copy

	// The console is not benchmarked, and its fixed default port may be
	// taken by another hotline on the machine.
	p.cmd = exec.Command(bin, "serve", "--dev", "--console-addr=")
	p.cmd.Dir = dir
	p.cmd.Stdout = logFile
	p.cmd.Stderr = logFile
	p.cmd.Env = append(passEnv(),
		"HOTLINE_DATA_DIR="+dataDir,
		"HOTLINE_ADDR="+addr,
		"HOTLINE_INTERNAL_ADDR="+internalAddr,
		"HOTLINE_PUBLIC_URL="+p.baseURL,
		"TWILIO_AUTH_TOKEN="+token,
		"HOTLINE_MASTER_KEY="+base64.StdEncoding.EncodeToString(key[:]),
	)
	p.cmd.SysProcAttr = childProcAttr()
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()
	if err := p.waitReady(ctx, readyWithin); err != nil {
		p.Stop()
		return nil, fmt.Errorf("%w\nlast lines of %s:\n%s", err, p.logPath, tail(p.logPath, 30))
	}
	return p, nil
}

// passEnv is the part of this process's environment the child may see.
func passEnv() []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "TZ", "LANG"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

func (p *hotlineProc) waitReady(ctx context.Context, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if ok, _ := getOK(ctx, client, p.internalURL+"/readyz"); ok {
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("hotline exited before it was ready: %v", p.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("hotline not ready (GET /readyz != 200) within %s: %w", within, context.Cause(ctx))
		case <-tick.C:
		}
	}
}

// getOK reports whether GET url answers 200.
func getOK(ctx context.Context, client *http.Client, url string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return false, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return true, nil
}

// Stop asks the server to shut down (SIGTERM), and kills it if it has not
// exited within 10 seconds. It is safe to call more than once.
func (p *hotlineProc) Stop() error {
	select {
	case <-p.exited:
		return nil
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		p.cmd.Process.Kill()
	}
	select {
	case <-p.exited:
		return nil
	case <-time.After(10 * time.Second):
	}
	p.cmd.Process.Kill()
	<-p.exited
	return fmt.Errorf("hotline did not stop within 10s of SIGTERM; killed")
}

// freePort asks the kernel for a free loopback port. Another process could
// take it before the server binds it; the server then fails to start and the
// benchmark says so.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tail returns the last n lines of the file at path.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
