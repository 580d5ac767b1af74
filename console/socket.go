package console

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// maxSocketPath is the longest path a unix socket can have on Linux.
const maxSocketPath = 107

// ListenAdminSocket listens on a unix socket at path (in the data
// directory) that only the owner may use (mode 0600). The socket is
// created in a private temporary directory, given its mode, and then
// linked into place, so it is never reachable with a looser mode and the
// process umask is left alone. A socket file left by a server that died is
// removed first, but only if nothing answers on it; if another server is
// listening, or path is some other kind of file, it fails. Closing the
// listener removes the socket file if it is still this one.
func ListenAdminSocket(path string) (net.Listener, error) {
	if len(path) > maxSocketPath {
		return nil, fmt.Errorf("admin socket path %s is longer than %d bytes, the limit for a unix socket: use a shorter data directory", path, maxSocketPath)
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode().Type() != fs.ModeSocket {
			return nil, fmt.Errorf("%s exists and is not a socket: move it out of the data directory", path)
		}
		c, err := net.DialTimeout("unix", path, time.Second)
		if err == nil {
			c.Close()
			return nil, fmt.Errorf("another hotline server is already listening on %s", path)
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("admin socket %s exists but cannot be checked: %w", path, err)
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("remove stale admin socket: %w", err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("admin socket: %w", err)
	}

	tmp, err := os.MkdirTemp(filepath.Dir(path), ".admin-")
	if err != nil {
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	defer os.RemoveAll(tmp)
	tmpPath := filepath.Join(tmp, "s")
	if len(tmpPath) > maxSocketPath {
		return nil, fmt.Errorf("admin socket path %s is too long for a unix socket: use a shorter data directory", path)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmpPath, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	ln.SetUnlinkOnClose(false)
	if err := os.Chmod(tmpPath, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	// Link, not rename: a socket another server created meanwhile is
	// not replaced.
	if err := os.Link(tmpPath, path); err != nil {
		ln.Close()
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("another hotline server is already listening on %s", path)
		}
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	return &socketListener{UnixListener: ln, path: path, file: fi}, nil
}

// socketListener removes its socket file on Close.
type socketListener struct {
	*net.UnixListener
	path string
	file fs.FileInfo
}

// Addr names the socket where clients find it.
func (l *socketListener) Addr() net.Addr { return &net.UnixAddr{Name: l.path, Net: "unix"} }

// Close stops listening and removes the socket file unless another
// server has replaced it.
func (l *socketListener) Close() error {
	err := l.UnixListener.Close()
	if fi, statErr := os.Lstat(l.path); statErr == nil && os.SameFile(fi, l.file) {
		if rmErr := os.Remove(l.path); rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) && err == nil {
			err = rmErr
		}
	}
	return err
}
