package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"
)

// profileHotline keeps c workers sending webhooks to t (untimed: the
// figures are taken before) while it fetches a CPU profile of the given
// length from the hotline's internal listener (net/http/pprof), and
// writes the profile to path. It returns how many webhooks were answered
// meanwhile, so the profile's times can be divided per tip.
func profileHotline(ctx context.Context, client *http.Client, msgs *messages, t target, c int, internalURL string, seconds int, path string) (answered int, err error) {
	loadCtx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var res *result
	wg.Add(1)
	go func() {
		defer wg.Done()
		res = load(loadCtx, client, msgs, t, c, maxCount)
	}()
	defer func() {
		stopLoad()
		wg.Wait()
		answered = res.Requests - res.Errors
	}()

	url := fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", internalURL, seconds)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	// Not the load's client: its timeout is shorter than a profile.
	resp, err := (&http.Client{Timeout: time.Duration(seconds)*time.Second + time.Minute}).Do(req)
	if err != nil {
		return 0, fmt.Errorf("fetching a CPU profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return 0, fmt.Errorf("GET %s: %s: %s", url, resp.Status, b)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return 0, err
	}
	return 0, f.Close()
}
