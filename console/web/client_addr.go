package web

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientAddr is the address of the browser behind the request, for the
// login throttle and the audit log's keyed tag; it is never logged or
// stored as is. X-Forwarded-For is believed only when the request comes
// from a configured trusted proxy: otherwise anyone could name a fresh
// address with each guess. From a trusted proxy, the client is the
// rightmost address in the header that is not itself a trusted proxy
// (entries left of it were written by the client and prove nothing).
func (h *handler) clientAddr(r *http.Request) string {
	peer := remoteIP(r)
	if len(h.cfg.TrustedProxies) == 0 || !h.trusted(peer) {
		return peer.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		ip, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a malformed hop: stop at the last address we can vouch for
		}
		ip = ip.Unmap()
		if !h.trusted(ip) {
			return ip.String()
		}
		peer = ip
	}
	return peer.String()
}

func (h *handler) trusted(ip netip.Addr) bool {
	for _, p := range h.cfg.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// remoteIP is the TCP peer's address.
func remoteIP(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return ip.Unmap()
}
