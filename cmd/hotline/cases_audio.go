package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/dustin/go-humanize"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/console"
)

const casesAudioUsage = `Usage: hotline cases audio CODE --out FILE [--recording N]

Writes a case's voicemail, decrypted, to FILE (created with mode 0600; an
existing file is never overwritten). A case with several recordings needs
--recording N (1 is the oldest; 'hotline cases show CODE' lists them).
Every opening is written to the audit log as case.audio.

The audio is the caller's voice: keep the file on an encrypted disk and
delete it when done.

Example:
  hotline cases audio K7QA3M --out /root/K7QA3M-1.wav
`

func runCasesAudio(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	c := newAdminCmd(ctx, "cases audio", casesAudioUsage, stdout, stderr, getenv)
	out := c.fs.String("out", "", "file to write the audio to (required; must not exist)")
	n := c.fs.Int("recording", 1, "which recording of the case, from 1 (oldest)")
	pos, code, ok := c.parse(args)
	if !ok {
		return code
	}
	switch {
	case len(pos) != 1:
		return c.usageErr("give one case CODE")
	case *out == "":
		return c.usageErr("--out: give the file to write the audio to")
	case *n < 1:
		return c.usageErr("--recording: must be 1 or more")
	}
	if _, err := os.Lstat(*out); err == nil {
		return c.usageErr("--out: %s exists; give a new file", *out)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return c.usageErr("--out: %v", err)
	}
	return c.run(func(ctx context.Context, svc console.AdminService) error {
		audio, ok := svc.(console.CaseAudioService)
		if !ok {
			return hotline.Errorf(hotline.EINTERNAL, "this admin service cannot read audio")
		}
		// Written beside FILE under a temporary name and renamed only once
		// the audio opened whole, so FILE is never a partial recording.
		tmp, err := os.CreateTemp(filepath.Dir(*out), ".hotline-audio-*")
		if err != nil {
			return hotline.Errorf(hotline.EINVALID, "--out: %v", err)
		}
		defer os.Remove(tmp.Name())
		if err := tmp.Chmod(0o600); err != nil {
			tmp.Close()
			return err
		}
		v, err := audio.CaseAudio(ctx, pos[0], *n, tmp)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		if err := os.Link(tmp.Name(), *out); err != nil {
			return hotline.Errorf(hotline.EINVALID, "--out: %v", err)
		}
		fmt.Fprintf(c.stdout, "Wrote recording %d of case %s to %s (%s).\n", v.Number, pos[0], *out, humanize.IBytes(uint64(v.Size)))
		return nil
	})
}
