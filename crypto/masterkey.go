package crypto

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

const (
	keySize = 32

	// base64Len is the length of a padded standard base64 master key.
	base64Len = (keySize + 2) / 3 * 4

	// redacted is what every key type prints instead of its bytes.
	redacted = "[redacted]"

	// maxSecretFileSize bounds what a key or passphrase file may hold: a
	// key file holds 44 bytes of base64 and a passphrase is typed by hand,
	// so anything much larger is something else.
	maxSecretFileSize = 1024
)

// errNoMarshal is returned by the Marshal methods of key types so that
// encoding/json (and anything using encoding.TextMarshaler, such as loggers)
// fails loudly instead of writing key bytes.
var errNoMarshal = errors.New("crypto: key material cannot be marshalled")

// MasterKey is the root secret: it seals the keyring and nothing else. It
// never enters the bbolt file; it comes from the environment, a 0600 key
// file or a passphrase through Argon2id.
//
// The bytes are unexported and every printing or marshalling path is
// redacted, so a MasterKey can be passed around (and logged by mistake)
// without revealing it. The zero value is not a valid key. Compare keys
// with Equal, not ==.
type MasterKey struct {
	// k is two pointers away from the bytes, on purpose. When a MasterKey
	// sits in an unexported field of another struct, fmt cannot call its
	// Format method and prints the field by reflection instead: an array
	// would print in full, a pointer to it prints as an address, but %s or
	// %q (bad verbs for a pointer) reprint that pointer at top level, where
	// fmt follows it once more. Two levels only ever print as addresses.
	// The array is never modified after construction, so copies of a
	// MasterKey may share it.
	k **[keySize]byte
}

// newMasterKey wraps b, which the MasterKey then owns.
func newMasterKey(b *[keySize]byte) MasterKey {
	return MasterKey{&b}
}

// bytes returns the key bytes; the zero MasterKey reads as all zeros.
func (m MasterKey) bytes() []byte {
	if m.k == nil {
		return make([]byte, keySize)
	}
	return (*m.k)[:]
}

// GenerateMasterKey returns a new random master key from crypto/rand.
func GenerateMasterKey() (MasterKey, error) {
	k := new([keySize]byte)
	if _, err := rand.Read(k[:]); err != nil {
		return MasterKey{}, fmt.Errorf("master key: generate: %w", err)
	}
	return newMasterKey(k), nil
}

// ParseMasterKey decodes a master key from base64 text (standard or
// URL-safe alphabet, padded or raw; surrounding white space is ignored).
// It must decode to exactly 32 bytes. Error messages never include the
// input, which is a secret.
func ParseMasterKey(b64 string) (MasterKey, error) {
	s := strings.TrimSpace(b64)
	if s == "" {
		return MasterKey{}, errors.New("master key: empty, must be base64 of 32 bytes")
	}
	// Any alphabet is accepted because operators paste keys from tools
	// that disagree (openssl, Go, browsers); padding makes them unambiguous.
	encodings := [...]*base64.Encoding{
		base64.StdEncoding, base64.URLEncoding,
		base64.RawStdEncoding, base64.RawURLEncoding,
	}
	// Anything this long cannot be a 32-byte key in any of them; refusing
	// it early also bounds the decode buffer.
	if len(s) > 2*base64Len {
		return MasterKey{}, fmt.Errorf("master key: must be base64 of %d bytes, got %d characters", keySize, len(s))
	}
	var buf [2 * base64Len]byte
	defer clear(buf[:])
	for _, enc := range encodings {
		n, err := enc.Decode(buf[:], []byte(s))
		if err != nil {
			continue
		}
		if n != keySize {
			return MasterKey{}, fmt.Errorf("master key: must be base64 of %d bytes, got %d bytes", keySize, n)
		}
		return newMasterKey((*[keySize]byte)(bytes.Clone(buf[:n]))), nil
	}
	return MasterKey{}, fmt.Errorf("master key: must be base64 of %d bytes, got %d characters that are not valid base64", keySize, len(s))
}

// ReadMasterKeyFile reads a master key from a file holding its base64 text
// (a trailing newline is fine). It refuses a file that group or others may
// read or write: a key readable by other accounts is already compromised,
// and failing at start-up is the moment an operator can fix it.
func ReadMasterKeyFile(path string) (MasterKey, error) {
	b, err := readSecretFile(path, "master key file")
	if err != nil {
		return MasterKey{}, err
	}
	defer clear(b)
	m, err := ParseMasterKey(string(b))
	if err != nil {
		return MasterKey{}, fmt.Errorf("master key file %s: %w", path, err)
	}
	return m, nil
}

// MinPassphraseLen is the fewest characters a master passphrase may have.
// Argon2id makes each guess costly, which keeps 16 random characters far
// out of reach of an offline search, but not a word or a short phrase.
const MinPassphraseLen = 16

// CheckPassphrase refuses a passphrase shorter than MinPassphraseLen
// characters (runes, not bytes). The message gives the length, never the
// passphrase.
func CheckPassphrase(passphrase []byte) error {
	if n := utf8.RuneCount(passphrase); n < MinPassphraseLen {
		return fmt.Errorf("the passphrase has %d characters, it needs at least %d: anyone with a copy of the data file can try passphrases offline, and a short one falls to guessing despite Argon2id (a key file is safer still)", n, MinPassphraseLen)
	}
	return nil
}

// ReadPassphraseFile reads a master passphrase from a file, with the
// checks of ReadMasterKeyFile (a regular file, no group or other bits,
// checked on the open file) and CheckPassphrase. The trailing line break
// is not part of the passphrase. The caller should clear the result after
// use.
func ReadPassphraseFile(path string) ([]byte, error) {
	b, err := readSecretFile(path, "master passphrase file")
	if err != nil {
		return nil, err
	}
	p := bytes.TrimRight(b, "\r\n")
	if err := CheckPassphrase(p); err != nil {
		clear(b)
		return nil, fmt.Errorf("master passphrase file %s: %w", path, err)
	}
	return p, nil
}

// readSecretFile returns the contents of a small file holding a secret,
// refusing anything but a regular file that only its owner may read or
// write. what names the file in errors ("master key file").
func readSecretFile(path, what string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer f.Close()
	// Stat the open file, not the path, so the check and the read see
	// the same file.
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s %s: not a regular file", what, path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%s %s has mode %04o: it must not be readable or writable by group or others (chmod 600 %s)", what, path, perm, path)
	}
	buf := make([]byte, maxSecretFileSize+1)
	n, err := io.ReadFull(f, buf)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		clear(buf)
		return nil, fmt.Errorf("%s %s: %w", what, path, err)
	}
	if n > maxSecretFileSize {
		clear(buf)
		return nil, fmt.Errorf("%s %s: larger than %d bytes, not a %s", what, path, maxSecretFileSize, what)
	}
	return buf[:n], nil
}

// WriteFile writes the key as base64 plus a newline to a new file with mode
// 0600 and syncs it (and its directory) to disk. It refuses to overwrite an
// existing file, because overwriting a key file loses the only copy of a
// key that may still seal data.
func (m MasterKey) WriteFile(path string) (err error) {
	if m.isZero() {
		return errors.New("master key file: refusing to write the zero (uninitialised) key")
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("master key file: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(path)
		}
	}()
	// Chmod in case the umask was unusual; it can only have removed bits,
	// but an owner-unreadable key file would fail later in a confusing way.
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("master key file %s: %w", path, err)
	}
	var buf [base64Len + 1]byte
	defer clear(buf[:])
	base64.StdEncoding.Encode(buf[:base64Len], m.bytes())
	buf[base64Len] = '\n'
	if _, err := f.Write(buf[:]); err != nil {
		return fmt.Errorf("master key file %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("master key file %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("master key file %s: %w", path, err)
	}
	// Sync the directory too, so the new name survives a crash.
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return fmt.Errorf("master key file %s: sync directory: %w", path, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("master key file %s: sync directory: %w", path, err)
	}
	return nil
}

// Equal reports whether m and o are the same key, in constant time so the
// comparison leaks nothing about where they differ.
func (m MasterKey) Equal(o MasterKey) bool {
	return subtle.ConstantTimeCompare(m.bytes(), o.bytes()) == 1
}

// isZero reports whether m is the zero value, which is never a real key
// (it is what an uninitialised variable holds).
func (m MasterKey) isZero() bool {
	return m.Equal(MasterKey{})
}

// String returns "[redacted]" so that a key never reaches a log.
func (MasterKey) String() string { return redacted }

// GoString returns "[redacted]" so that %#v does not dump the key bytes.
func (MasterKey) GoString() string { return redacted }

// Format prints "[redacted]" for every verb; without it, verbs such as %x
// or %d would format the struct's fields.
func (MasterKey) Format(f fmt.State, _ rune) { io.WriteString(f, redacted) }

// MarshalJSON always fails: a master key must never be serialised.
func (MasterKey) MarshalJSON() ([]byte, error) { return nil, errNoMarshal }

// MarshalText always fails: a master key must never be serialised.
func (MasterKey) MarshalText() ([]byte, error) { return nil, errNoMarshal }
