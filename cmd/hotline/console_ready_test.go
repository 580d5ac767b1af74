package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/hotline-az/hotline/crypto"
)

// The console's listener dying leaves tips flowing but officers locked
// out: /readyz must say so.
func TestReadyzFailsWhenTheConsoleStops(t *testing.T) {
	key, _ := crypto.GenerateMasterKey()
	dir := t.TempDir()
	srv := MustRunMain(t, dir, key, io.Discard)
	srv.Close() // only to reuse its config: start again with the console on
	m := &Main{Config: srv.Config, Logger: zerolog.Nop(), ConsoleAddr: "127.0.0.1:0"}
	if err := m.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ready := "http://" + m.InternalAddr() + "/readyz"
	if status, body, _ := get(t, ready); status != http.StatusOK {
		t.Fatalf("/readyz with the console up: %d %q", status, body)
	}
	m.consoleListener.Close() // the console's Serve returns
	<-m.consoleDone
	status, body, _ := get(t, ready)
	if status != http.StatusServiceUnavailable || !strings.Contains(body, "officer console stopped") {
		t.Fatalf("/readyz with the console dead: got %d %q, want 503 naming the console", status, body)
	}
}
