package main

import (
	"context"
	"io"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/triage"
)

// loadTriager returns the built-in rules, or the rules file named in config.
func loadTriager(path string) (hotline.Triager, error) {
	if path == "" {
		return triage.Default(), nil
	}
	return triage.LoadFile(path)
}

func runTriage(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) > 0 && args[0] == "corrections" {
		return runTriageCorrections(context.Background(), args[1:], stdout, stderr, getenv)
	}
	return triage.RunCLI(args, stdin, stdout, stderr, getenv("HOTLINE_TRIAGE_RULES"))
}
