package config_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/hotline-az/hotline/config"
)

func TestConsoleDefaults(t *testing.T) {
	cfg := config.Default()
	cfg.Dev = true
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	c := cfg.Console
	if cfg.ConsoleAddr != "127.0.0.1:9091" || c.SessionIdleTimeout.Duration != 30*time.Minute ||
		c.SessionAbsoluteTimeout.Duration != 12*time.Hour || c.SafeReplyWindow.Duration != 24*time.Hour || len(c.TrustedProxy) != 0 {
		t.Fatalf("defaults: %s %+v", cfg.ConsoleAddr, c)
	}
}

// console_addr comes from the file, then HOTLINE_CONSOLE_ADDR, then
// --console-addr (which may turn the console off with "").
func TestConsoleKeysFromFileEnvAndFlag(t *testing.T) {
	file := writeFile(t, "hotline.toml", `
console_addr = "10.0.0.5:9091"
[console]
session_idle_timeout = "15m"
session_absolute_timeout = "8h"
safe_reply_window = "48h"
trusted_proxy = ["10.0.0.1", "10.0.1.0/24"]
`)
	none := func(string) string { return "" }
	cfg, err := config.Load(config.Flags{ConfigFile: file}, none)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Dev = true
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	c := cfg.Console
	if cfg.ConsoleAddr != "10.0.0.5:9091" || c.SessionIdleTimeout.Duration != 15*time.Minute ||
		c.SessionAbsoluteTimeout.Duration != 8*time.Hour || c.SafeReplyWindow.Duration != 48*time.Hour {
		t.Fatalf("from the file: %s %+v", cfg.ConsoleAddr, c)
	}
	proxies, err := c.TrustedProxies()
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32"), netip.MustParsePrefix("10.0.1.0/24")}
	if err != nil || len(proxies) != 2 || proxies[0] != want[0] || proxies[1] != want[1] {
		t.Fatalf("trusted proxies: %v %v", proxies, err)
	}

	env := func(k string) string { return map[string]string{"HOTLINE_CONSOLE_ADDR": "127.0.0.1:7000"}[k] }
	if cfg, _ = config.Load(config.Flags{ConfigFile: file}, env); cfg.ConsoleAddr != "127.0.0.1:7000" {
		t.Errorf("HOTLINE_CONSOLE_ADDR did not override the file: %s", cfg.ConsoleAddr)
	}
	flag := "127.0.0.1:7001"
	if cfg, _ = config.Load(config.Flags{ConfigFile: file, ConsoleAddr: &flag}, env); cfg.ConsoleAddr != flag {
		t.Errorf("--console-addr did not override: %s", cfg.ConsoleAddr)
	}
	off := ""
	if cfg, _ = config.Load(config.Flags{ConfigFile: file, ConsoleAddr: &off}, env); cfg.ConsoleAddr != "" {
		t.Errorf("--console-addr= did not turn the console off: %s", cfg.ConsoleAddr)
	}
}

func TestConsoleValidationNamesTheKey(t *testing.T) {
	for _, tc := range []struct {
		label string
		edit  func(*config.Config)
		key   string
	}{
		{"addr not host:port", func(c *config.Config) { c.ConsoleAddr = "nope" }, "console_addr (HOTLINE_CONSOLE_ADDR, --console-addr)"},
		{"public addr", func(c *config.Config) { c.ConsoleAddr = "203.0.113.5:9091" }, "console_addr (HOTLINE_CONSOLE_ADDR, --console-addr)"},
		{"every interface", func(c *config.Config) { c.ConsoleAddr = "0.0.0.0:9091" }, "console_addr (HOTLINE_CONSOLE_ADDR, --console-addr)"},
		{"same as internal", func(c *config.Config) { c.ConsoleAddr = c.InternalAddr }, "console_addr (HOTLINE_CONSOLE_ADDR, --console-addr)"},
		{"idle too short", func(c *config.Config) { c.Console.SessionIdleTimeout.Duration = time.Second }, "console.session_idle_timeout"},
		{"absolute too long", func(c *config.Config) { c.Console.SessionAbsoluteTimeout.Duration = 30 * 24 * time.Hour }, "console.session_absolute_timeout"},
		{"absolute under idle", func(c *config.Config) {
			c.Console.SessionIdleTimeout.Duration, c.Console.SessionAbsoluteTimeout.Duration = 2*time.Hour, time.Hour
		}, "console.session_absolute_timeout"},
		{"safe reply zero", func(c *config.Config) { c.Console.SafeReplyWindow.Duration = 0 }, "console.safe_reply_window"},
		{"bad proxy", func(c *config.Config) { c.Console.TrustedProxy = []string{"10.0.0.1", "proxy.example.az"} }, "console.trusted_proxy[1]"},
		{"every IPv4 client a proxy", func(c *config.Config) { c.Console.TrustedProxy = []string{"10.0.0.1", "0.0.0.0/0"} }, "console.trusted_proxy[1]"},
		{"every IPv6 client a proxy", func(c *config.Config) { c.Console.TrustedProxy = []string{"::/0"} }, "console.trusted_proxy[0]"},
		{"IPv4 range broader than /8", func(c *config.Config) { c.Console.TrustedProxy = []string{"10.0.0.0/7"} }, "console.trusted_proxy[0]"},
		{"IPv6 range broader than /32", func(c *config.Config) { c.Console.TrustedProxy = []string{"fd00::/16"} }, "console.trusted_proxy[0]"},
		{"public range", func(c *config.Config) { c.Console.TrustedProxy = []string{"203.0.113.0/24"} }, "console.trusted_proxy[0]"},
		{"unspecified address", func(c *config.Config) { c.Console.TrustedProxy = []string{"0.0.0.0"} }, "console.trusted_proxy[0]"},
	} {
		cfg := config.Default()
		cfg.Dev = true
		tc.edit(&cfg)
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.key+":") {
			t.Errorf("%s: got %v, want an error naming %s", tc.label, err, tc.key)
		}
	}
	cfg := config.Default()
	cfg.Dev = true
	cfg.ConsoleAddr = "" // off
	if err := cfg.Validate(); err != nil {
		t.Errorf("console turned off: %v", err)
	}
}

func TestConsoleDurationInFileIsChecked(t *testing.T) {
	file := writeFile(t, "hotline.toml", "[console]\nsession_idle_timeout = \"half an hour\"\n")
	_, err := config.Load(config.Flags{ConfigFile: file}, func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), "session_idle_timeout") {
		t.Fatalf("got %v, want an error naming console.session_idle_timeout", err)
	}
}

// The broadest accepted proxy ranges are /8 (IPv4) and /32 (IPv6), in
// private space; a public single address (a proxy of its own) is fine.
func TestTrustedProxyNarrowEnoughRangesPass(t *testing.T) {
	c := config.DefaultConsole()
	c.TrustedProxy = []string{"10.0.0.0/8", "fd00::/32", "127.0.0.0/8", "198.51.100.7", "::1"}
	if _, err := c.TrustedProxies(); err != nil {
		t.Fatal(err)
	}
}
