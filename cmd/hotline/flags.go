package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
)

// parseFlags parses args into fs, whose Usage must write to fs.Output().
// Help asked for (-h, --help) goes to stdout with exit code 0, as for
// 'hotline help'; a bad flag goes to stderr, with the usage, and exit
// code 2. ok is true when the command should go on.
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (code int, ok bool) {
	// The flag package prints before it returns, so hold what it prints
	// until the error says where it belongs.
	var out bytes.Buffer
	fs.SetOutput(&out)
	defer fs.SetOutput(stderr)
	err := fs.Parse(args)
	switch {
	case err == nil:
		return 0, true
	case errors.Is(err, flag.ErrHelp):
		stdout.Write(out.Bytes())
		return 0, false
	default:
		stderr.Write(out.Bytes())
		return 2, false
	}
}
