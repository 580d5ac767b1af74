package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/hotline-az/hotline/config"
	"github.com/hotline-az/hotline/console"
	"github.com/hotline-az/hotline/store"
)

const statsUsage = `Usage: hotline stats [--json] [--data DIR] [--config FILE]

Prints counts of cases and messages (total, by channel, by priority) as
JSON. It reads only plaintext metadata and needs no key. While the server
runs it asks it over the admin socket; on a stopped server's data directory
it reads the file directly. The directory is --data, else
$HOTLINE_DATA_DIR, else data_dir of the --config file.

Example:
  hotline stats --config /etc/hotline/hotline.toml

Flags:
`

func runStats(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("stats", flag.ContinueOnError)
	data := fs.String("data", "", "data directory (default $HOTLINE_DATA_DIR)")
	configFile := fs.String("config", "", "TOML configuration file (as for serve): its data_dir is used if --data and $HOTLINE_DATA_DIR are not set")
	asJSON := fs.Bool("json", true, "print JSON (the only format for now)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), statsUsage)
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "hotline stats: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	_ = asJSON
	dir := *data
	if dir == "" {
		dir = getenv("HOTLINE_DATA_DIR")
	}
	if dir == "" && *configFile != "" {
		cfg, err := config.Load(config.Flags{ConfigFile: *configFile}, getenv)
		if err != nil {
			fmt.Fprintf(stderr, "hotline stats: %v\n", err)
			return 2
		}
		dir = cfg.DataDir
	}
	if dir == "" {
		dir = defaultDataDir()
	}
	if dir == "" {
		fmt.Fprintln(stderr, "hotline stats: --data is required (or set HOTLINE_DATA_DIR, or give --config)")
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
