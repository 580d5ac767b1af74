package config

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"
)

// Console configures the officer console (the [console] table).
type Console struct {
	// SessionIdleTimeout ends a session nobody used for this long.
	SessionIdleTimeout Duration `toml:"session_idle_timeout"`
	// SessionAbsoluteTimeout ends every session this long after login.
	SessionAbsoluteTimeout Duration `toml:"session_absolute_timeout"`
	// SafeReplyWindow: a reply later than this after the reporter's last
	// message needs the officer to confirm a warning.
	SafeReplyWindow Duration `toml:"safe_reply_window"`
	// TrustedProxy lists the reverse proxies in front of the console
	// (addresses or CIDR ranges). Only a request from one of them has its
	// X-Forwarded-For believed, for the login throttle and the audit log.
	TrustedProxy []string `toml:"trusted_proxy"`
}

// DefaultConsoleAddr is where the officer console listens by default.
const DefaultConsoleAddr = "127.0.0.1:9091"

// DefaultConsole returns the console settings used where nothing else is
// said: sessions end after 30 idle minutes or 12 hours, replies after
// 24 hours of silence need a confirmation, no proxy is trusted.
func DefaultConsole() Console {
	return Console{
		SessionIdleTimeout:     Duration{30 * time.Minute},
		SessionAbsoluteTimeout: Duration{12 * time.Hour},
		SafeReplyWindow:        Duration{24 * time.Hour},
	}
}

// TrustedProxies parses TrustedProxy (validated with the config): a bare
// address is a range of one.
func (c Console) TrustedProxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for i, s := range c.TrustedProxy {
		s = strings.TrimSpace(s)
		p, err := netip.ParsePrefix(s)
		if err != nil {
			ip, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("console.trusted_proxy[%d]: %q is not an IP address or CIDR range like 10.0.0.5 or 10.0.0.0/24", i, s)
			}
			ip = ip.Unmap()
			p = netip.PrefixFrom(ip, ip.BitLen())
		}
		p = p.Masked()
		if problem := proxyRangeProblem(p); problem != "" {
			return nil, fmt.Errorf("console.trusted_proxy[%d]: %q %s", i, s, problem)
		}
		out = append(out, p)
	}
	return out, nil
}

// Narrowest accepted trusted_proxy ranges: a broader one (0.0.0.0/0,
// ::/0) would let anyone forge X-Forwarded-For and so dodge the login
// throttle and write any address into the audit log.
const (
	minProxyBitsV4 = 8
	minProxyBitsV6 = 32
)

// proxyRangeProblem says why p cannot be a trusted proxy range ("" if it
// can): it must be narrow, and a range of more than one address must lie
// in loopback, private or link-local space, where the console listens.
func proxyRangeProblem(p netip.Prefix) string {
	a := p.Addr()
	minBits := minProxyBitsV6
	if a.Is4() {
		minBits = minProxyBitsV4
	}
	if p.Bits() < minBits {
		return fmt.Sprintf("is too broad: a proxy range must be /%d or narrower, so that clients cannot claim any address", minBits)
	}
	if a.IsUnspecified() {
		return "is the unspecified address, not a proxy"
	}
	if p.IsSingleIP() {
		return ""
	}
	last := lastAddr(p)
	for _, x := range []netip.Addr{a, last} {
		if !x.IsLoopback() && !x.IsPrivate() && !x.IsLinkLocalUnicast() {
			return "is a public range: name the proxy's own address, or a loopback or private range"
		}
	}
	return ""
}

// lastAddr is the highest address of p (masked).
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// validateConsole checks console_addr and the [console] table.
func (c Config) validateConsole(bad func(field, format string, args ...any)) {
	const addrField = "console_addr (HOTLINE_CONSOLE_ADDR, --console-addr)"
	if c.ConsoleAddr != "" { // "" turns the console off
		host, port, err := net.SplitHostPort(c.ConsoleAddr)
		switch {
		case err != nil:
			bad(addrField, "must be host:port, or \"\" to turn the console off, got %q", c.ConsoleAddr)
		case port != "0" && (c.ConsoleAddr == c.Addr || c.ConsoleAddr == c.InternalAddr):
			bad(addrField, "must differ from addr and internal_addr, got %q", c.ConsoleAddr)
		case !isLoopback(host) && !isPrivate(host):
			bad(addrField, "%q is not a loopback or private address: the console is for the office network only, never the internet", c.ConsoleAddr)
		}
	}
	k := c.Console
	idle, abs, safe := k.SessionIdleTimeout.Duration, k.SessionAbsoluteTimeout.Duration, k.SafeReplyWindow.Duration
	if idle < time.Minute || idle > 24*time.Hour {
		bad("console.session_idle_timeout", "must be between 1m and 24h, got %s", idle)
	}
	if abs < time.Minute || abs > 7*24*time.Hour {
		bad("console.session_absolute_timeout", "must be between 1m and 168h, got %s", abs)
	} else if abs < idle {
		bad("console.session_absolute_timeout", "must not be shorter than console.session_idle_timeout (%s), got %s", idle, abs)
	}
	if safe < time.Hour || safe > 90*24*time.Hour {
		bad("console.safe_reply_window", "must be between 1h and 2160h (90 days), got %s", safe)
	}
	if _, err := k.TrustedProxies(); err != nil {
		field, msg, _ := strings.Cut(err.Error(), ": ")
		bad(field, "%s", msg)
	}
}
