package crypto

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// PasswordParams is the Argon2id cost of officers' password hashes. The
// default is OWASP's first recommendation for Argon2id (19 MiB, 2 passes,
// 1 lane): a login costs about 30 ms on one core, and a stolen data file
// (whose hashes are sealed anyway) costs an attacker as much per guess.
type PasswordParams struct {
	Time      uint32
	MemoryKiB uint32
	Threads   uint8
}

// DefaultPasswordParams is the cost used for new password hashes.
var DefaultPasswordParams = PasswordParams{Time: 2, MemoryKiB: 19 * 1024, Threads: 1}

const passwordHashLen = 32

// ErrPasswordMismatch is returned by VerifyPassword for a wrong password.
var ErrPasswordMismatch = errors.New("password does not match")

// HashPassword returns an Argon2id hash of password in the PHC string form
// ($argon2id$v=19$m=...,t=...,p=...$salt$hash) with a fresh 16-byte salt.
func HashPassword(password string, p PasswordParams) (string, error) {
	if password == "" {
		return "", errors.New("password: empty")
	}
	salt := make([]byte, minSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: salt: %w", err)
	}
	sum := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, passwordHashLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.MemoryKiB, p.Time, p.Threads, enc.EncodeToString(salt), enc.EncodeToString(sum)), nil
}

// VerifyPassword checks password against a hash from HashPassword in
// constant time. It returns ErrPasswordMismatch for a wrong password and
// another error for a hash it cannot read (whose cost is out of bounds).
func VerifyPassword(hash, password string) error {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return errors.New("password: not an argon2id hash")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return errors.New("password: unsupported argon2 version")
	}
	var p PasswordParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &p.Threads); err != nil {
		return errors.New("password: unreadable parameters")
	}
	if p.Time < 1 || p.Time > maxTime || p.MemoryKiB < 1024 || p.MemoryKiB > maxMemoryKiB || p.Threads < 1 {
		return errors.New("password: parameters out of bounds")
	}
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(parts[4])
	if err != nil || len(salt) < minSaltLen {
		return errors.New("password: unreadable salt")
	}
	want, err := enc.DecodeString(parts[5])
	if err != nil || len(want) < 16 {
		return errors.New("password: unreadable hash")
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(want)))
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return ErrPasswordMismatch
	}
	return nil
}
