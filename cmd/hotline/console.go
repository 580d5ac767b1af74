package main

import (
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/hotline-az/hotline/console/web"
)

// defaultConsoleAddr is where the officer console listens until it moves
// onto the internal listener (internal_addr).
const defaultConsoleAddr = "127.0.0.1:9091"

// startConsole serves the officer console on its own listener at
// m.ConsoleAddr (loopback or a private address only: never the public
// Twilio port). Cookies are Secure except for --dev on loopback.
func (m *Main) startConsole(loc *time.Location) error {
	host, _, err := net.SplitHostPort(m.ConsoleAddr)
	if err != nil {
		return fmt.Errorf("--console-addr %q: %w", m.ConsoleAddr, err)
	}
	ip := net.ParseIP(host)
	if host != "localhost" && (ip == nil || !(ip.IsLoopback() || ip.IsPrivate())) {
		return fmt.Errorf("--console-addr %q: the console listens on loopback or a private address only", m.ConsoleAddr)
	}
	loopback := host == "localhost" || (ip != nil && ip.IsLoopback())
	h, err := web.New(web.Config{
		Store: m.store, Dispatcher: m.dispatcher, Logger: m.Logger, Now: m.Now,
		Secure: !(m.Config.Dev && loopback), Location: loc,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", m.ConsoleAddr)
	if err != nil {
		return fmt.Errorf("listen on %s (console): %w", m.ConsoleAddr, err)
	}
	m.consoleListener = ln
	m.consoleServer = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       20 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       90 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	go m.consoleServer.Serve(ln)
	m.Logger.Info().Str("addr", ln.Addr().String()).Msg("officer console listening")
	return nil
}

// ConsoleURL is the console's base URL once Run has returned ("" when
// it is off).
func (m *Main) ConsoleURL() string {
	if m.consoleListener == nil {
		return ""
	}
	return "http://" + m.consoleListener.Addr().String()
}
