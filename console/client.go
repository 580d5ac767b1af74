package console

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/hotline-az/hotline/store"

	"github.com/hotline-az/hotline"
)

// AdminClient is AdminService over a running server's admin socket. Errors
// the server reports come back as the same *hotline.Error that Admin
// returns in-process.
type AdminClient struct {
	path string
	hc   *http.Client
}

// NewAdminClient returns a client for the admin socket at path. It does
// not connect until a method is called; see DialAdmin.
func NewAdminClient(path string) *AdminClient {
	dialer := &net.Dialer{Timeout: 2 * time.Second}
	return &AdminClient{
		path: path,
		hc: &http.Client{
			Timeout: time.Minute,
			Transport: &http.Transport{
				DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
					return dialer.DialContext(ctx, "unix", path)
				},
				DisableCompression: true,
				MaxIdleConns:       2,
				IdleConnTimeout:    30 * time.Second,
			},
		},
	}
}

// DialAdmin returns a client if a server answers on the admin socket at
// path, or the connection error (fs.ErrNotExist when there is no socket,
// syscall.ECONNREFUSED when it was left by a server that stopped).
func DialAdmin(path string) (*AdminClient, error) {
	c, err := net.DialTimeout("unix", path, 2*time.Second)
	if err != nil {
		return nil, err
	}
	c.Close()
	return NewAdminClient(path), nil
}

// Close releases idle connections.
func (c *AdminClient) Close() error {
	c.hc.CloseIdleConnections()
	return nil
}

// do sends one request; a JSON error answer becomes a *hotline.Error.
func (c *AdminClient) do(ctx context.Context, method, path string, query url.Values, body io.Reader, contentType string, out any) error {
	u := "http://admin" + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("admin socket %s: %w", c.path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return decodeError(resp)
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("admin socket: reading the answer: %w", err)
	}
	return nil
}

// decodeError turns an error answer into the *hotline.Error it carries.
func decodeError(resp *http.Response) error {
	var eb errorBody
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxJSONBody)).Decode(&eb); err != nil || eb.Error.Code == "" {
		return hotline.Errorf(hotline.EINTERNAL, "the server answered HTTP %d on the admin socket", resp.StatusCode)
	}
	return &hotline.Error{Code: eb.Error.Code, Message: eb.Error.Message}
}

func (c *AdminClient) doJSON(ctx context.Context, method, path string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return c.do(ctx, method, path, nil, bytes.NewReader(b), "application/json", out)
}

// AddOfficer implements AdminService.
func (c *AdminClient) AddOfficer(ctx context.Context, name, phone, role string) (OfficerView, error) {
	var v OfficerView
	err := c.doJSON(ctx, http.MethodPost, "/officers", addOfficerRequest{Name: name, Phone: phone, Role: role}, &v)
	return v, err
}

// ListOfficers implements AdminService.
func (c *AdminClient) ListOfficers(ctx context.Context, withPhones bool) ([]OfficerView, error) {
	q := url.Values{}
	if withPhones {
		q.Set("phones", "1")
	}
	var v []OfficerView
	err := c.do(ctx, http.MethodGet, "/officers", q, nil, "", &v)
	return v, err
}

// RemoveOfficer implements AdminService.
func (c *AdminClient) RemoveOfficer(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, "/officers", url.Values{"name": {name}}, nil, "", nil)
}

// RotaZone implements AdminService.
func (c *AdminClient) RotaZone(ctx context.Context) (string, error) {
	var z zoneBody
	err := c.do(ctx, http.MethodGet, "/rota/zone", nil, nil, "", &z)
	return z.TimeZone, err
}

// RotaShow implements AdminService.
func (c *AdminClient) RotaShow(ctx context.Context, at time.Time) (RotaView, error) {
	q := url.Values{}
	if !at.IsZero() {
		q.Set("at", at.Format(time.RFC3339Nano))
	}
	var v RotaView
	err := c.do(ctx, http.MethodGet, "/rota", q, nil, "", &v)
	return v, err
}

// RotaSet implements AdminService.
func (c *AdminClient) RotaSet(ctx context.Context, shift ShiftSpec) (RotaView, error) {
	var v RotaView
	err := c.doJSON(ctx, http.MethodPost, "/rota/shifts", shift, &v)
	return v, err
}

// RotaOverride implements AdminService.
func (c *AdminClient) RotaOverride(ctx context.Context, officer, backup string, from, to time.Time) (OverrideView, error) {
	var v OverrideView
	err := c.doJSON(ctx, http.MethodPost, "/rota/overrides", overrideRequest{Officer: officer, Backup: backup, From: from, To: to}, &v)
	return v, err
}

// RotaImport implements AdminService.
func (c *AdminClient) RotaImport(ctx context.Context, name string, file io.Reader) (RotaView, error) {
	var v RotaView
	err := c.do(ctx, http.MethodPut, "/rota", url.Values{"name": {name}}, file, "application/toml", &v)
	return v, err
}

// Alerts implements AdminService.
func (c *AdminClient) Alerts(ctx context.Context) ([]AlertView, error) {
	var v []AlertView
	err := c.do(ctx, http.MethodGet, "/alerts", nil, nil, "", &v)
	return v, err
}

// AlertAction implements AdminService.
func (c *AdminClient) AlertAction(ctx context.Context, number int, action, as string) (AlertView, error) {
	var v AlertView
	err := c.doJSON(ctx, http.MethodPost, "/alerts/"+strconv.Itoa(number)+"/"+url.PathEscape(action), alertActionRequest{As: as}, &v)
	return v, err
}

// Stats implements AdminService.
func (c *AdminClient) Stats(ctx context.Context) (store.Stats, error) {
	var v store.Stats
	err := c.do(ctx, http.MethodGet, "/stats", nil, nil, "", &v)
	return v, err
}
