package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// baselineServerEnv, when set to a file path, makes this program serve the
// baseline on that bbolt file instead of benchmarking: smsbench starts
// itself that way so that the baseline, like the hotline, runs in its own
// process and does not share a Go runtime (scheduler, GC) with the load
// generator.
const baselineServerEnv = "SMSBENCH_BASELINE_SERVER"

// baseline is the floor under test, wherever it runs.
type baseline struct {
	url     string // http://127.0.0.1:port
	pid     int    // its own process, or 0 in-process
	commits func() (int64, error)
	stop    func() error
}

// startBaselineInProcess serves the baseline from this process.
func startBaselineInProcess(path string) (*baseline, error) {
	store, err := openGroupCommitter(path)
	if err != nil {
		return nil, err
	}
	handler, err := newBaselineHandler(store)
	if err != nil {
		store.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		store.Close()
		return nil, err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	return &baseline{
		url:     "http://" + ln.Addr().String(),
		commits: func() (int64, error) { return store.Commits(), nil },
		stop: func() error {
			srv.Close()
			return store.Close()
		},
	}, nil
}

// startBaselineProcess starts this program again as a baseline server on
// path and waits for the address it listens on.
func startBaselineProcess(ctx context.Context, path string) (*baseline, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self)
	cmd.Env = append(passEnv(), baselineServerEnv+"="+path)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = childProcAttr()
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the baseline process: %w", err)
	}
	exited := make(chan struct{})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			addr <- strings.TrimPrefix(sc.Text(), "listening ")
		}
		io.Copy(io.Discard, out)
	}()
	go func() {
		cmd.Wait()
		close(exited)
	}()
	stop := func() error {
		select {
		case <-exited:
			return nil
		default:
		}
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
			return nil
		case <-time.After(10 * time.Second):
		}
		cmd.Process.Kill()
		<-exited
		return errors.New("baseline process did not stop within 10s of SIGTERM; killed")
	}
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case <-exited:
		return nil, errors.New("the baseline process exited before it listened")
	case <-ctx.Done():
		stop()
		return nil, context.Cause(ctx)
	case <-time.After(30 * time.Second):
		stop()
		return nil, errors.New("the baseline process did not listen within 30s")
	}
	client := &http.Client{Timeout: 5 * time.Second}
	return &baseline{
		url: base,
		pid: cmd.Process.Pid,
		commits: func() (int64, error) {
			resp, err := client.Get(base + "/commits")
			if err != nil {
				return 0, err
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				return 0, err
			}
			return strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		},
		stop: stop,
	}, nil
}

// serveBaseline is the baseline process: it serves POST /twilio/sms and
// GET /commits on a free loopback port, prints "listening ADDR", and stops
// on SIGTERM or when its parent dies. It returns the exit status.
func serveBaseline(path string) int {
	store, err := openGroupCommitter(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "smsbench baseline: %v\n", err)
		return 1
	}
	defer store.Close()
	handler, err := newBaselineHandler(store)
	if err != nil {
		fmt.Fprintf(os.Stderr, "smsbench baseline: %v\n", err)
		return 1
	}
	mux := http.NewServeMux()
	mux.Handle(webhookPath, handler)
	mux.HandleFunc("GET /commits", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, store.Commits())
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintf(os.Stderr, "smsbench baseline: %v\n", err)
		return 1
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		srv.Shutdown(context.Background())
	}()
	fmt.Printf("listening %s\n", ln.Addr())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(os.Stderr, "smsbench baseline: %v\n", err)
		return 1
	}
	return 0
}
