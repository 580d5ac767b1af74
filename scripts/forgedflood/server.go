package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// devToken signs the real tips; the server is started with it.
const devToken = "floodtoken123"

// server is the hotline process this command started.
type server struct {
	cmd     *exec.Cmd
	exited  chan struct{}
	baseURL string
	logPath string
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// buildHotline builds ./cmd/hotline of this repository into dir.
func buildHotline(ctx context.Context, dir string) (string, error) {
	out, err := exec.CommandContext(ctx, "git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		return "", fmt.Errorf("finding the repository root with git rev-parse: %w", err)
	}
	bin := filepath.Join(dir, "hotline")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/hotline")
	cmd.Dir = strings.TrimSpace(string(out))
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/hotline: %w\n%s", err, bytes.TrimSpace(out))
	}
	return bin, nil
}

// startHotline starts bin as "hotline serve --dev" on a free loopback port
// with a fresh data directory and master key under dir, and waits until
// it answers /healthz. The child sees only the environment it needs, so no
// Twilio credentials of the caller's shell reach it.
func startHotline(ctx context.Context, bin, dir string) (*server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	var key [32]byte
	rand.Read(key[:])
	s := &server{baseURL: "http://" + addr, logPath: filepath.Join(dir, "hotline.log"), exited: make(chan struct{})}
	logFile, err := os.Create(s.logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	s.cmd = exec.Command(bin, "serve", "--dev")
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	s.cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOTLINE_DATA_DIR=" + filepath.Join(dir, "data"),
		"HOTLINE_ADDR=" + addr,
		"HOTLINE_PUBLIC_URL=" + s.baseURL,
		"HOTLINE_MASTER_KEY=" + base64.StdEncoding.EncodeToString(key[:]),
		"TWILIO_AUTH_TOKEN=" + devToken,
	}
	s.cmd.SysProcAttr = childProcAttr()
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	go func() { s.cmd.Wait(); close(s.exited) }()
	client := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		select {
		case <-s.exited:
			return nil, fmt.Errorf("hotline exited at start; its log:\n%s", tail(s.logPath))
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		default:
		}
		if resp, err := client.Get(s.baseURL + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
	}
	s.stop()
	return nil, fmt.Errorf("hotline not answering /healthz within 30s; its log:\n%s", tail(s.logPath))
}

// stop sends SIGTERM and kills the server if it has not exited in 10 s.
func (s *server) stop() {
	select {
	case <-s.exited:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
}

// rss is the server's resident memory now, from /proc (0 where there is none).
func (s *server) rss() int64 { return procStatus(s.pid(), "VmRSS:") }

// cpu is the CPU time (user and system) the server has used, from /proc.
func (s *server) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.pid()))
	if err != nil {
		return 0
	}
	// The fields after the command name (which may hold spaces) start at state.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / clockTicks
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat times: 100 on Linux.
const clockTicks = 100

// peakRSS is the most resident memory the server has had (VmHWM).
func (s *server) peakRSS() int64 { return procStatus(s.pid(), "VmHWM:") }

// procStatus reads a "kB" field of /proc/PID/status, in bytes.
func procStatus(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}

func numCPU() int { return runtime.NumCPU() }

// loadAverage is the machine's 1-minute load average, for the record.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Fields(string(b))[0]
}
