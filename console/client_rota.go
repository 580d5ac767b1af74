package console

import (
	"context"
	"net/http"
	"net/url"
)

// RotaRemoveShift implements AdminService.
func (c *AdminClient) RotaRemoveShift(ctx context.Context, day, start string) (RotaView, error) {
	var v RotaView
	err := c.do(ctx, http.MethodDelete, "/rota/shifts", url.Values{"day": {day}, "start": {start}}, nil, "", &v)
	return v, err
}

// RotaCancelOverride implements AdminService.
func (c *AdminClient) RotaCancelOverride(ctx context.Context, id string) (OverrideView, error) {
	var v OverrideView
	err := c.do(ctx, http.MethodDelete, "/rota/overrides/"+url.PathEscape(id), nil, nil, "", &v)
	return v, err
}

// UpdateOfficer implements AdminService.
func (c *AdminClient) UpdateOfficer(ctx context.Context, u OfficerUpdate) (OfficerView, error) {
	var v OfficerView
	err := c.doJSON(ctx, http.MethodPatch, "/officers", u, &v)
	return v, err
}
