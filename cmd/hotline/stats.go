package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/hotline-az/hotline/console"
	"github.com/hotline-az/hotline/store"
)

func runStats(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("stats", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "data directory (default $HOTLINE_DATA_DIR)")
	asJSON := fs.Bool("json", true, "print JSON (the only format for now)")
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: hotline stats [--json] [--data DIR]

Prints counts of cases and messages (total, by channel, by priority) as
JSON. It reads only plaintext metadata and needs no key. While the server
runs it asks it over the admin socket; on a stopped server's data directory
it reads the file directly.
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	_ = asJSON
	dir := *data
	if dir == "" {
		dir = getenv("HOTLINE_DATA_DIR")
	}
	if dir == "" {
		fmt.Fprintln(stderr, "hotline stats: --data is required (or set HOTLINE_DATA_DIR)")
		return 2
	}
	// A running server answers on its admin socket; a stopped one's file
	// is read directly, without a key.
	var st store.Stats
	if client, err := console.DialAdmin(filepath.Join(dir, console.AdminSocketName)); err == nil {
		defer client.Close()
		st, err = client.Stats(context.Background())
		if err != nil {
			fmt.Fprintf(stderr, "hotline stats: %v\n", err)
			return 1
		}
	} else if st, err = store.ReadStats(dir); err != nil {
		fmt.Fprintf(stderr, "hotline stats: %v\n", err)
		return 1
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(st); err != nil {
		fmt.Fprintf(stderr, "hotline stats: %v\n", err)
		return 1
	}
	return 0
}
