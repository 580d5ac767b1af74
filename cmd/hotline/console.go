package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/hotline-az/hotline/console/web"
)

// startConsole serves the officer console on its own listener at
// m.ConsoleAddr (loopback or a private address only: never the public
// Twilio port). Cookies are Secure except for --dev on loopback. If the
// listener dies, /readyz says so (consoleStopped).
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
	cc := m.Config.Console
	proxies, err := cc.TrustedProxies()
	if err != nil {
		return err
	}
	h, err := web.New(web.Config{
		Store: m.store, Dispatcher: m.dispatcher, Logger: m.Logger, Now: m.Now,
		Secure: !(m.Config.Dev && loopback), Location: loc,
		IdleTimeout: cc.SessionIdleTimeout.Duration, AbsoluteTimeout: cc.SessionAbsoluteTimeout.Duration,
		SafeReplyWindow: cc.SafeReplyWindow.Duration, TrustedProxies: proxies, Escalation: m.Config.Escalation,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", m.ConsoleAddr)
	if err != nil {
		return listenError(m.ConsoleAddr, "console_addr", err)
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
	m.consoleDone = make(chan struct{})
	go func() {
		err := m.consoleServer.Serve(ln)
		if !errors.Is(err, http.ErrServerClosed) {
			m.Logger.Error().Err(err).Msg("officer console stopped: officers cannot log in until the server restarts")
		}
		m.consoleErr = err
		close(m.consoleDone)
	}()
	m.Logger.Info().Str("addr", ln.Addr().String()).Msg("officer console listening")
	return nil
}

// consoleStopped is a readiness check: an error once the console's
// listener stopped serving.
func (m *Main) consoleStopped() error {
	select {
	case <-m.consoleDone:
		return fmt.Errorf("officer console: %w", m.consoleErr)
	default:
		return nil
	}
}

// ConsoleURL is the console's base URL once Run has returned ("" when
// it is off).
func (m *Main) ConsoleURL() string {
	if m.consoleListener == nil {
		return ""
	}
	return "http://" + m.consoleListener.Addr().String()
}
