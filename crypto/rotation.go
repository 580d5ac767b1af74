package crypto

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"maps"
)

// ErrArchivedVersion means an envelope names a KEK version below the
// keyring's minimum decryption version: the key is still there, but it no
// longer opens anything until the minimum is lowered again.
var ErrArchivedVersion = errors.New("crypto: key version archived")

// MinDecrypt returns the lowest KEK version that opens envelopes (1 when
// every version does).
func (k *Keyring) MinDecrypt() uint32 {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return max(k.minDecrypt, 1)
}

// SetMinDecrypt makes versions below v refuse to open or rewrap envelopes
// (ErrArchivedVersion), as Vault transit's min_decryption_version does.
// It is reversible: the keys stay in the keyring. v must name a version
// in the keyring and may not be above the primary. The caller must
// Marshal and store the keyring for the change to persist.
func (k *Keyring) SetMinDecrypt(v uint32) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if v == 0 {
		return errors.New("keyring: the minimum decryption version starts at 1")
	}
	if v > k.primary {
		return fmt.Errorf("keyring: minimum decryption version %d is above the primary version %d", v, k.primary)
	}
	if _, ok := k.keks[v]; !ok {
		return fmt.Errorf("%w: %d", ErrUnknownVersion, v)
	}
	k.minDecrypt = v
	return nil
}

// Retire destroys KEK version v: envelopes still naming it can never be
// opened again. It refuses the primary version. The caller must first make
// sure nothing references v, then Marshal and store the keyring.
func (k *Keyring) Retire(v uint32) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.keks[v]; !ok {
		return fmt.Errorf("%w: %d", ErrUnknownVersion, v)
	}
	if v == k.primary {
		return fmt.Errorf("keyring: version %d is the primary; rotate first", v)
	}
	// The entry is dropped, not zeroed: a Clone may share it until the
	// change is stored and adopted. Once unreferenced it is garbage.
	delete(k.keks, v)
	return nil
}

// Clone returns an independent copy of the keyring, so a change (Rotate,
// SetMinDecrypt, Retire) can be stored before live code sees it; Adopt
// then makes it live.
func (k *Keyring) Clone() *Keyring {
	k.mu.RLock()
	defer k.mu.RUnlock()
	c := &Keyring{primary: k.primary, minDecrypt: k.minDecrypt, keks: make(map[uint32]*kek, len(k.keks)), index: k.index}
	for v, e := range k.keks {
		c.keks[v] = e
	}
	c.lookups, c.lookupPrimary, c.lookupPrevious = maps.Clone(k.lookups), k.lookupPrimary, k.lookupPrevious
	return c
}

// Adopt makes k hold from's versions, primary and minimum decryption
// version, atomically for concurrent Seal and Open calls. Both must share
// the index key (from is a Clone of k, or k stored and read back), since
// every lookup hash depends on it.
func (k *Keyring) Adopt(from *Keyring) error {
	from.mu.RLock()
	primary, minDecrypt, index := from.primary, from.minDecrypt, from.index
	lookups, lookupPrimary, lookupPrevious := maps.Clone(from.lookups), from.lookupPrimary, from.lookupPrevious
	keks := make(map[uint32]*kek, len(from.keks))
	for v, e := range from.keks {
		keks[v] = e
	}
	from.mu.RUnlock()
	if subtle.ConstantTimeCompare(index[:], k.index[:]) != 1 {
		return errors.New("keyring: cannot adopt a keyring with another index key")
	}
	if keks[primary] == nil {
		return fmt.Errorf("%w: primary %d", ErrUnknownVersion, primary)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.primary, k.minDecrypt, k.keks = primary, minDecrypt, keks
	k.lookups, k.lookupPrimary, k.lookupPrevious = lookups, lookupPrimary, lookupPrevious
	return nil
}
