package console

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// SetPassword implements AdminService.
func (c *AdminClient) SetPassword(ctx context.Context, name, password string) error {
	return c.doJSON(ctx, http.MethodPost, "/officers/password", passwordRequest{Name: name, Password: password}, nil)
}

// ResetTOTP implements AdminService.
func (c *AdminClient) ResetTOTP(ctx context.Context, name string) error {
	return c.doJSON(ctx, http.MethodPost, "/officers/reset-totp", nameRequest{Name: name}, nil)
}

// AuditList implements AdminService.
func (c *AdminClient) AuditList(ctx context.Context, since time.Time) ([]AuditEntryView, error) {
	q := url.Values{}
	if !since.IsZero() {
		q.Set("since", since.Format(time.RFC3339Nano))
	}
	var v []AuditEntryView
	err := c.do(ctx, http.MethodGet, "/audit", q, nil, "", &v)
	return v, err
}

// AuditVerify implements AdminService.
func (c *AdminClient) AuditVerify(ctx context.Context) (AuditReport, error) {
	var v AuditReport
	err := c.do(ctx, http.MethodGet, "/audit/verify", nil, nil, "", &v)
	return v, err
}

// Cases implements AdminService.
func (c *AdminClient) Cases(ctx context.Context, openOnly bool) ([]CaseView, error) {
	q := url.Values{}
	if openOnly {
		q.Set("open", "1")
	}
	var v []CaseView
	err := c.do(ctx, http.MethodGet, "/cases", q, nil, "", &v)
	return v, err
}

// ShowCase implements AdminService.
func (c *AdminClient) ShowCase(ctx context.Context, code string) (CaseDetail, error) {
	var v CaseDetail
	err := c.do(ctx, http.MethodGet, "/cases/"+url.PathEscape(code), nil, nil, "", &v)
	return v, err
}
