package console

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/store"
)

// KeyStatus implements KeyService.
func (c *AdminClient) KeyStatus(ctx context.Context) (store.KeyStatus, error) {
	var v store.KeyStatus
	err := c.do(ctx, http.MethodGet, "/keys", nil, nil, "", &v)
	return v, err
}

// RotateKey implements KeyService.
func (c *AdminClient) RotateKey(ctx context.Context) (uint32, error) {
	var v versionAnswer
	err := c.doJSON(ctx, http.MethodPost, "/keys/rotate", struct{}{}, &v)
	return v.Version, err
}

// SetMinDecrypt implements KeyService.
func (c *AdminClient) SetMinDecrypt(ctx context.Context, version uint32) (int, error) {
	var v versionAnswer
	err := c.doJSON(ctx, http.MethodPost, "/keys/min-decrypt", versionRequest{Version: version}, &v)
	return v.Blocked, err
}

// RetireKey implements KeyService.
func (c *AdminClient) RetireKey(ctx context.Context, version uint32) error {
	return c.doJSON(ctx, http.MethodPost, "/keys/retire", versionRequest{Version: version}, nil)
}

// RotateIndex implements KeyService. The move may take longer than the
// socket's usual timeout.
func (c *AdminClient) RotateIndex(ctx context.Context, batch int, _ func(store.IndexMoveProgress)) (store.IndexMoveProgress, error) {
	var p store.IndexMoveProgress
	q := url.Values{}
	if batch > 0 {
		q.Set("batch", strconv.Itoa(batch))
	}
	resp, err := c.stream(ctx, http.MethodPost, "/keys/rotate-index", q)
	if err != nil {
		return p, err
	}
	defer resp.Body.Close()
	return p, json.NewDecoder(resp.Body).Decode(&p)
}

// streamClient is the socket's client without the overall timeout: a
// rewrap or a backup of a large file takes longer than a minute.
func (c *AdminClient) streamClient() *http.Client {
	return &http.Client{Transport: c.hc.Transport}
}

// stream sends a request whose answer is read as it comes.
func (c *AdminClient) stream(ctx context.Context, method, path string, query url.Values) (*http.Response, error) {
	u := "http://admin" + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.streamClient().Do(req)
	if err != nil {
		return nil, fmt.Errorf("admin socket %s: %w", c.path, err)
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		var eb errorBody
		if err := json.NewDecoder(io.LimitReader(resp.Body, maxJSONBody)).Decode(&eb); err != nil || eb.Error.Code == "" {
			return nil, hotline.Errorf(hotline.EINTERNAL, "the server answered HTTP %d on the admin socket", resp.StatusCode)
		}
		return nil, &hotline.Error{Code: eb.Error.Code, Message: eb.Error.Message}
	}
	return resp, nil
}

// RewrapKeys implements KeyService: the pass runs in the server, which
// streams its progress; it goes on if this call is interrupted.
func (c *AdminClient) RewrapKeys(ctx context.Context, batch int, progress func(store.RewrapProgress), failure func(store.RewrapFailure)) (store.RewrapProgress, error) {
	q := url.Values{}
	if batch > 0 {
		q.Set("batch", strconv.Itoa(batch))
	}
	resp, err := c.stream(ctx, http.MethodPost, "/keys/rewrap", q)
	if err != nil {
		return store.RewrapProgress{}, err
	}
	defer resp.Body.Close()
	var last store.RewrapProgress
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var e rewrapEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return last, fmt.Errorf("admin socket: reading rewrap progress: %w", err)
		}
		switch {
		case e.Error != nil:
			return last, &hotline.Error{Code: e.Error.Error.Code, Message: e.Error.Error.Message}
		case e.Failure != nil:
			if failure != nil {
				failure(*e.Failure)
			}
		case e.Progress != nil:
			last = *e.Progress
			if progress != nil {
				progress(last)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return last, fmt.Errorf("admin socket: rewrap progress cut off: %w", err)
	}
	if !last.Done {
		return last, hotline.Errorf(hotline.EINTERNAL, "the server stopped reporting before the rewrap finished; `hotline keys status` shows where it is")
	}
	return last, nil
}

// Backup implements KeyService: the snapshot is taken by the server and
// streamed over the socket.
func (c *AdminClient) Backup(ctx context.Context, w io.Writer) (int64, error) {
	resp, err := c.stream(ctx, http.MethodGet, "/backup", nil)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("admin socket: snapshot cut off after %d bytes: %w", n, err)
	}
	if want := resp.Trailer.Get(snapshotTrailer); want != strconv.FormatInt(n, 10) {
		return n, fmt.Errorf("admin socket: the snapshot is incomplete (%d bytes received, the server reported %q); see the server log", n, want)
	}
	return n, nil
}
