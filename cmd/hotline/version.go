package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
)

const versionUsage = `Usage: hotline version

Prints the version: the one stamped at build time with
  -ldflags "-X main.Version=v1.2.3"
or else the module version Go recorded (a tag, or a pseudo-version such as
v0.0.0-20260312101500-9f47bb4c0a1b built from a git checkout), then the
git revision the binary was built from, when Go recorded one, and the Go
version.
`

// runVersion implements "hotline version".
func runVersion(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "-h", "-help", "--help":
			fmt.Fprint(stdout, versionUsage)
			return 0
		}
		fmt.Fprintf(stderr, "hotline version: unexpected argument %q\n\n%s", args[0], versionUsage)
		return 2
	}
	info, _ := debug.ReadBuildInfo()
	fmt.Fprint(stdout, versionText(Version, info))
	return 0
}

// versionText describes the build: the stamped version if there is one,
// else the main module's; the VCS revision, its time and whether the tree
// was modified; the Go version. info may be nil (a binary built without
// module support).
func versionText(stamped string, info *debug.BuildInfo) string {
	version := stamped
	if version == "" && info != nil {
		version = info.Main.Version
	}
	if version == "" {
		version = "(devel)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "hotline %s\n", version)
	if info == nil {
		fmt.Fprintf(&b, "built with %s\n", runtime.Version())
		return b.String()
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		var notes []string
		if t := settings["vcs.time"]; t != "" {
			notes = append(notes, "committed "+t)
		}
		if settings["vcs.modified"] == "true" {
			notes = append(notes, "with uncommitted changes")
		}
		fmt.Fprintf(&b, "revision %s", rev)
		if len(notes) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(notes, ", "))
		}
		b.WriteString("\n")
	}
	goVersion := info.GoVersion
	if goVersion == "" {
		goVersion = runtime.Version()
	}
	fmt.Fprintf(&b, "built with %s\n", goVersion)
	return b.String()
}
