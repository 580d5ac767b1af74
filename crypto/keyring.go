package crypto

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"slices"
	"sync"

	"golang.org/x/crypto/chacha20poly1305"
)

// Errors returned (wrapped) by this package; test for them with errors.Is.
var (
	// ErrMalformed means the input is not a well-formed envelope or keyring
	// blob: too short, or an unknown format byte.
	ErrMalformed = errors.New("crypto: malformed input")
	// ErrUnknownVersion means an envelope names a KEK version that is not
	// in the keyring (never created, or retired).
	ErrUnknownVersion = errors.New("crypto: unknown key version")
	// ErrDecrypt means authentication failed: the envelope was altered,
	// truncated, or is being opened under another bucket or key.
	ErrDecrypt = errors.New("crypto: decryption failed")
	// ErrWrongMasterKey means the keyring blob did not authenticate under
	// the given master key. An AEAD cannot tell a wrong key from a
	// corrupted blob, so this covers both.
	ErrWrongMasterKey = errors.New("crypto: wrong master key (or corrupted keyring)")
)

const (
	// keyringFormat is the first byte of a marshalled keyring.
	keyringFormat = 1
	// keyringFormatMinDecrypt is the first byte of a keyring that has a
	// minimum decryption version (4 bytes before the primary).
	keyringFormatMinDecrypt = 2
	// keyringFormatIndexVersions is format 2 followed by the index key
	// versions (after a rotate-index).
	keyringFormatIndexVersions = 3
	// keyringAD is the additional data of the keyring seal. It separates
	// the keyring from every other use of the master key.
	keyringAD = "hotline keyring v1"

	nonceSize = chacha20poly1305.NonceSizeX
	tagSize   = chacha20poly1305.Overhead
)

// kek is one key-encryption key with its AEAD built once, so Seal and Open
// do not rebuild it per record. Entries are immutable once in a Keyring.
type kek struct {
	key  [keySize]byte
	aead cipher.AEAD
}

func newKEK(key [keySize]byte) (*kek, error) {
	aead, err := chacha20poly1305.NewX(key[:])
	if err != nil {
		return nil, err
	}
	return &kek{key: key, aead: aead}, nil
}

// Keyring holds the numbered KEKs (versions 1, 2, ...), which one is
// primary (used for new envelopes), and the index key for keyed hashes.
// Old versions stay so that envelopes sealed under them still open.
//
// A Keyring is safe for concurrent use. It prints as "[redacted]" and
// cannot be marshalled except, sealed, by Marshal. Make one with NewKeyring
// or UnmarshalKeyring; the zero value has no keys.
type Keyring struct {
	mu      sync.RWMutex
	primary uint32
	keks    map[uint32]*kek
	// minDecrypt is the lowest version that still opens envelopes (see
	// SetMinDecrypt); 0 or 1 means every version.
	minDecrypt uint32

	// index is the HMAC key of Index. It is separate from the KEKs so
	// lookups never depend on (or weaken) encryption keys, and it never
	// changes: rotating it would break every stored lookup hash. It is a
	// pointer so that fmt, printing a *Keyring held in another struct's
	// unexported field by reflection, shows an address, not the bytes.
	index *[keySize]byte
	// lookups holds the index key versions above 1 (version 1 is index)
	// that hash phone numbers and Twilio SIDs; see index_rotation.go.
	lookups        map[uint32]*[keySize]byte
	lookupPrimary  uint32 // 0 means version 1
	lookupPrevious uint32 // the version a move is leaving, 0 when none

	// scratch pools per-call buffers (additional data, unwrapped DEK)
	// so that Seal and Open on the hot path allocate only their output.
	scratch sync.Pool
	// tags pools HMAC states keyed with index, for Tag and Index.
	tags sync.Pool
	// lookupMACs pools HMAC states keyed with a lookup version above 1
	// (as keyedMAC, which names its key): a tip hashes its sender and its
	// SID several times, and a fresh HMAC costs two SHA-256 blocks and
	// three allocations before the first byte.
	lookupMACs sync.Pool
}

// keyedMAC is a pooled HMAC state and the key it was made with.
type keyedMAC struct {
	key *[keySize]byte
	mac hash.Hash
}

// NewKeyring returns a keyring with a random KEK version 1 as primary and
// a random index key.
func NewKeyring() (*Keyring, error) {
	var key, index [keySize]byte
	defer clear(key[:])
	if _, err := rand.Read(key[:]); err != nil {
		return nil, fmt.Errorf("keyring: generate key: %w", err)
	}
	if _, err := rand.Read(index[:]); err != nil {
		return nil, fmt.Errorf("keyring: generate index key: %w", err)
	}
	return newKeyring(1, map[uint32][keySize]byte{1: key}, index)
}

// newKeyring builds a keyring from explicit keys; used by NewKeyring,
// UnmarshalKeyring and tests that need fixed keys.
func newKeyring(primary uint32, keys map[uint32][keySize]byte, index [keySize]byte) (*Keyring, error) {
	if _, ok := keys[primary]; !ok {
		return nil, fmt.Errorf("keyring: primary version %d has no key", primary)
	}
	k := &Keyring{primary: primary, keks: make(map[uint32]*kek, len(keys)), index: &index}
	for v, key := range keys {
		if v == 0 {
			return nil, errors.New("keyring: key version 0 is not allowed")
		}
		e, err := newKEK(key)
		if err != nil {
			return nil, err
		}
		k.keks[v] = e
	}
	return k, nil
}

// Primary returns the version of the KEK that seals new envelopes.
func (k *Keyring) Primary() uint32 {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.primary
}

// Versions returns all KEK versions in the keyring, ascending.
func (k *Keyring) Versions() []uint32 {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.versionsLocked()
}

func (k *Keyring) versionsLocked() []uint32 {
	vs := make([]uint32, 0, len(k.keks))
	for v := range k.keks {
		vs = append(vs, v)
	}
	slices.Sort(vs)
	return vs
}

// Rotate adds a new random KEK with the next version number (highest + 1)
// and makes it primary. Existing envelopes
// keep opening under their old version until rewrapped. The caller must
// Marshal and store the keyring afterwards for the rotation to persist.
func (k *Keyring) Rotate() (uint32, error) {
	var key [keySize]byte
	defer clear(key[:])
	if _, err := rand.Read(key[:]); err != nil {
		return 0, fmt.Errorf("keyring: generate key: %w", err)
	}
	e, err := newKEK(key)
	if err != nil {
		return 0, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	var highest uint32
	for v := range k.keks {
		highest = max(highest, v)
	}
	if highest == math.MaxUint32 {
		return 0, errors.New("keyring: no key versions left")
	}
	v := highest + 1
	k.keks[v] = e
	k.primary = v
	return v, nil
}

// kekFor returns the KEK of version v.
func (k *Keyring) kekFor(v uint32) (*kek, error) {
	k.mu.RLock()
	e, archived := k.keks[v], v < k.minDecrypt
	k.mu.RUnlock()
	if e == nil {
		return nil, fmt.Errorf("%w: %d", ErrUnknownVersion, v)
	}
	if archived {
		return nil, fmt.Errorf("%w: %d is below the minimum decryption version", ErrArchivedVersion, v)
	}
	return e, nil
}

// primaryKEK returns the primary version and its KEK.
func (k *Keyring) primaryKEK() (uint32, *kek, error) {
	k.mu.RLock()
	v, e := k.primary, k.keks[k.primary]
	k.mu.RUnlock()
	if e == nil {
		return 0, nil, fmt.Errorf("%w: primary %d (empty keyring?)", ErrUnknownVersion, v)
	}
	return v, e, nil
}

// Keyring serialisation, before sealing (all integers big endian):
//
//	[4 primary][32 index key][4 count] count × ([4 version][32 KEK])
//
// Format 2 puts [4 minimum decryption version] before the primary.
//
// Sealed blob:
//
//	[1 format=1|2][24 nonce][XChaCha20-Poly1305(master, serialised, AD keyringAD)]
const (
	keyringHeader  = 4 + keySize + 4
	keyringEntry   = 4 + keySize
	keyringMinBlob = 1 + nonceSize + tagSize
)

// Marshal serialises the whole keyring and seals it under the master key.
// The result is what the store keeps in bbolt; it reveals nothing but its
// length (which grows with the number of versions). Changing the master key
// means calling Marshal with the new one; no record is touched.
func (k *Keyring) Marshal(master MasterKey) ([]byte, error) {
	if master.isZero() {
		return nil, errors.New("keyring: master key is the zero value (not initialised)")
	}
	k.mu.RLock()
	vs := k.versionsLocked()
	if len(vs) == 0 {
		k.mu.RUnlock()
		return nil, errors.New("keyring: no keys (use NewKeyring)")
	}
	format := byte(keyringFormat)
	plain := make([]byte, 0, 4+keyringHeader+len(vs)*keyringEntry+12+len(k.lookups)*keyringEntry)
	if k.lookupPrimary > 1 || len(k.lookups) > 0 {
		// Format 3 adds the index key versions after the KEKs.
		format = keyringFormatIndexVersions
		plain = binary.BigEndian.AppendUint32(plain, k.minDecrypt)
	} else if k.minDecrypt > 1 {
		// Format 2 adds the minimum decryption version; a keyring that
		// never set one stays format 1, readable by older binaries.
		format = keyringFormatMinDecrypt
		plain = binary.BigEndian.AppendUint32(plain, k.minDecrypt)
	}
	plain = binary.BigEndian.AppendUint32(plain, k.primary)
	plain = append(plain, k.index[:]...)
	plain = binary.BigEndian.AppendUint32(plain, uint32(len(vs)))
	for _, v := range vs {
		plain = binary.BigEndian.AppendUint32(plain, v)
		plain = append(plain, k.keks[v].key[:]...)
	}
	if format == keyringFormatIndexVersions {
		plain = k.appendLookups(plain)
	}
	k.mu.RUnlock()
	defer clear(plain)

	aead, err := chacha20poly1305.NewX(master.bytes())
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+nonceSize, 1+nonceSize+len(plain)+tagSize)
	out[0] = format
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("keyring: generate nonce: %w", err)
	}
	return aead.Seal(out, out[1:], plain, []byte(keyringAD)), nil
}

// UnmarshalKeyring opens a blob made by Marshal. A wrong master key (or a
// corrupted blob) gives an error wrapping ErrWrongMasterKey; a blob that is
// not a keyring at all gives ErrMalformed.
func UnmarshalKeyring(master MasterKey, blob []byte) (*Keyring, error) {
	if master.isZero() {
		return nil, errors.New("keyring: master key is the zero value (not initialised)")
	}
	if len(blob) < keyringMinBlob {
		return nil, fmt.Errorf("keyring: %w: %d bytes is too short", ErrMalformed, len(blob))
	}
	if blob[0] != keyringFormat && blob[0] != keyringFormatMinDecrypt && blob[0] != keyringFormatIndexVersions {
		return nil, fmt.Errorf("keyring: %w: unknown format %d", ErrMalformed, blob[0])
	}
	aead, err := chacha20poly1305.NewX(master.bytes())
	if err != nil {
		return nil, err
	}
	plain, err := aead.Open(nil, blob[1:1+nonceSize], blob[1+nonceSize:], []byte(keyringAD))
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", ErrWrongMasterKey)
	}
	defer clear(plain)
	var minDecrypt uint32
	if blob[0] == keyringFormatMinDecrypt || blob[0] == keyringFormatIndexVersions {
		if len(plain) < 4 {
			return nil, fmt.Errorf("keyring: %w: short header", ErrMalformed)
		}
		minDecrypt, plain = binary.BigEndian.Uint32(plain), plain[4:]
	}

	// The blob authenticated, so a bad layout here is a bug in Marshal or
	// a future format, not an attack; still check every length.
	if len(plain) < keyringHeader {
		return nil, fmt.Errorf("keyring: %w: short header", ErrMalformed)
	}
	primary := binary.BigEndian.Uint32(plain)
	var index [keySize]byte
	copy(index[:], plain[4:])
	n := binary.BigEndian.Uint32(plain[4+keySize:])
	rest := plain[keyringHeader:]
	var lookups lookupState
	if blob[0] == keyringFormatIndexVersions {
		if uint64(len(rest)) < uint64(n)*keyringEntry {
			return nil, fmt.Errorf("keyring: %w: %d keys in %d bytes", ErrMalformed, n, len(rest))
		}
		var err error
		if lookups, err = parseLookups(rest[uint64(n)*keyringEntry:]); err != nil {
			return nil, err
		}
		rest = rest[:uint64(n)*keyringEntry]
	}
	if n == 0 || uint64(len(rest)) != uint64(n)*keyringEntry {
		return nil, fmt.Errorf("keyring: %w: %d keys in %d bytes", ErrMalformed, n, len(rest))
	}
	keys := make(map[uint32][keySize]byte, n)
	for ; len(rest) > 0; rest = rest[keyringEntry:] {
		v := binary.BigEndian.Uint32(rest)
		if _, dup := keys[v]; dup {
			return nil, fmt.Errorf("keyring: %w: version %d twice", ErrMalformed, v)
		}
		keys[v] = [keySize]byte(rest[4:keyringEntry])
	}
	k, err := newKeyring(primary, keys, index)
	clear(index[:])
	for v := range keys {
		keys[v] = [keySize]byte{}
	}
	if err != nil {
		return nil, fmt.Errorf("keyring: %w: %w", ErrMalformed, err)
	}
	if minDecrypt > primary {
		return nil, fmt.Errorf("keyring: %w: minimum decryption version %d above the primary %d", ErrMalformed, minDecrypt, primary)
	}
	k.minDecrypt = minDecrypt
	k.lookups, k.lookupPrimary, k.lookupPrevious = lookups.keys, lookups.primary, lookups.previous
	return k, nil
}

// String returns "[redacted]": a keyring holds keys.
func (*Keyring) String() string { return redacted }

// GoString returns "[redacted]" so that %#v does not dump the keys.
func (*Keyring) GoString() string { return redacted }

// Format prints "[redacted]" for every verb.
func (*Keyring) Format(f fmt.State, _ rune) { io.WriteString(f, redacted) }

// MarshalJSON always fails: use Marshal, which seals the keyring.
func (*Keyring) MarshalJSON() ([]byte, error) { return nil, errNoMarshal }

// MarshalText always fails: use Marshal, which seals the keyring.
func (*Keyring) MarshalText() ([]byte, error) { return nil, errNoMarshal }
