package crypto

import (
	"crypto/rand"
	"errors"
	"fmt"

	"golang.org/x/crypto/argon2"
)

// Argon2id limits. The minimums follow RFC 9106 and OWASP guidance; the
// maximums stop a corrupted or tampered parameter record from making start-up
// allocate terabytes or spin for hours.
const (
	minSaltLen   = 16
	minMemoryKiB = 8 * 1024
	maxMemoryKiB = 4 * 1024 * 1024 // 4 GiB
	maxTime      = 100
)

// KDFParams are the Argon2id parameters used to derive a master key from a
// passphrase. They are not secret and are stored next to the data so that
// the same passphrase derives the same key later.
type KDFParams struct {
	Salt      []byte `json:"salt"`
	Time      uint32 `json:"time"`
	MemoryKiB uint32 `json:"memory_kib"`
	Threads   uint8  `json:"threads"`
}

// NewKDFParams returns parameters with a fresh 16-byte random salt and the
// cost of RFC 9106's second recommended option (3 passes over 64 MiB), with
// 2 lanes to suit a small server. It runs once per start, so it can be slow.
func NewKDFParams() (KDFParams, error) {
	salt := make([]byte, minSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return KDFParams{}, fmt.Errorf("kdf: generate salt: %w", err)
	}
	return KDFParams{Salt: salt, Time: 3, MemoryKiB: 64 * 1024, Threads: 2}, nil
}

// validate reports every problem with p at once, so an operator fixes a
// configuration in one go.
func (p KDFParams) validate() error {
	var errs []error
	if len(p.Salt) < minSaltLen {
		errs = append(errs, fmt.Errorf("kdf: salt must be at least %d bytes, got %d", minSaltLen, len(p.Salt)))
	}
	if p.Time < 1 || p.Time > maxTime {
		errs = append(errs, fmt.Errorf("kdf: time must be between 1 and %d, got %d", maxTime, p.Time))
	}
	if p.MemoryKiB < minMemoryKiB || p.MemoryKiB > maxMemoryKiB {
		errs = append(errs, fmt.Errorf("kdf: memory_kib must be between %d and %d, got %d", minMemoryKiB, maxMemoryKiB, p.MemoryKiB))
	}
	if p.Threads < 1 {
		errs = append(errs, fmt.Errorf("kdf: threads must be at least 1, got %d", p.Threads))
	}
	return errors.Join(errs...)
}

// DeriveMasterKey derives a master key from a passphrase with Argon2id. The
// same passphrase and parameters always give the same key. The parameters
// are validated first and an empty passphrase is refused. The caller should
// clear passphrase after use.
func DeriveMasterKey(passphrase []byte, p KDFParams) (MasterKey, error) {
	if len(passphrase) == 0 {
		return MasterKey{}, errors.New("kdf: empty passphrase")
	}
	if err := p.validate(); err != nil {
		return MasterKey{}, err
	}
	out := argon2.IDKey(passphrase, p.Salt, p.Time, p.MemoryKiB, p.Threads, keySize)
	// IDKey returned exactly keySize bytes; the key keeps that array.
	return newMasterKey((*[keySize]byte)(out)), nil
}
