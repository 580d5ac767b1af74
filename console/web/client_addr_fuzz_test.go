package web

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// FuzzClientAddr: X-Forwarded-For is outside input. Whatever it holds,
// the client is the TCP peer or an address the header names, never a
// trusted proxy unless every hop is one, and a request from an untrusted
// peer is never moved by the header at all.
func FuzzClientAddr(f *testing.F) {
	f.Add("10.0.0.1:5000", "203.0.113.7")
	f.Add("10.0.0.1:5000", "198.51.100.4, 203.0.113.7")
	f.Add("10.0.0.1:5000", "203.0.113.7, 10.0.0.2")
	f.Add("10.0.0.1:5000", "not an ip, 10.0.0.2")
	f.Add("192.0.2.9:5000", "203.0.113.7")
	f.Add("[::ffff:10.0.0.1]:5000", "::ffff:203.0.113.7")
	f.Add("garbage", ",,,")
	h := &handler{cfg: Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24")}}}
	f.Fuzz(func(t *testing.T, remote, xff string) {
		r := &http.Request{RemoteAddr: remote, Header: http.Header{"X-Forwarded-For": {xff}}}
		got := h.clientAddr(r)
		peer := remoteIP(r)
		if !h.trusted(peer) {
			if got != peer.String() {
				t.Fatalf("untrusted peer %q moved to %q by X-Forwarded-For %q", remote, got, xff)
			}
			return
		}
		if got == peer.String() {
			return
		}
		ip, err := netip.ParseAddr(got)
		if err != nil {
			t.Fatalf("client %q is not an address", got)
		}
		named := false
		for _, hop := range strings.Split(xff, ",") {
			if a, err := netip.ParseAddr(strings.TrimSpace(hop)); err == nil && a.Unmap() == ip {
				named = true
			}
		}
		if !named {
			t.Fatalf("client %q is neither the peer nor in X-Forwarded-For %q", got, xff)
		}
	})
}

// FuzzTOTPStep: a typed code is outside input; a step is accepted only
// for the code of that step.
func FuzzTOTPStep(f *testing.F) {
	f.Add("123456")
	f.Add("")
	f.Add("12345٦")
	f.Add("0000000")
	const secret = "JBSWY3DPEHPK3PXP"
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, code string) {
		step, ok := totpStep(code, secret, now)
		if !ok {
			return
		}
		if d := step - now.Unix()/30; d < -totpSkew || d > totpSkew {
			t.Fatalf("step %d is outside the skew", step)
		}
		if again, ok2 := totpStep(code, secret, time.Unix(step*30, 0)); !ok2 || again != step {
			t.Fatalf("code %q accepted for step %d but not at that step", code, step)
		}
	})
}
