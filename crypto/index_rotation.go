package crypto

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// The index key versions. Version 1 is the keyring's original index key,
// which also keys integrity tags (Tag) and the hashes of other domains,
// so it never leaves the keyring. RotateIndex adds a version that hashes
// phone numbers and Twilio SIDs from then on; while the store re-hashes
// its lookup entries (a "move"), IndexCandidates gives the hash under
// both versions so that no lookup misses; FinishIndexMove then forgets
// the old version (unless it is 1).

// LookupDomain reports whether hashes of domain follow the primary index
// key version (phone numbers and Twilio SIDs: the values whose hashes an
// attacker holding an old index key could reverse by trying every
// number).
func LookupDomain(domain string) bool {
	return domain == DomainPhone || domain == DomainTwilioSID
}

// lookupState is the index key versions as stored in a format 3 keyring.
type lookupState struct {
	keys              map[uint32]*[keySize]byte
	primary, previous uint32
}

// lookupKeyLocked returns the key of index version v (0 or 1: the
// original index key). k.mu must be held.
func (k *Keyring) lookupKeyLocked(v uint32) *[keySize]byte {
	if v <= 1 {
		return k.index
	}
	if key := k.lookups[v]; key != nil {
		return key
	}
	return k.index
}

// IndexVersions returns the primary index key version and, while a move
// is under way, the version it leaves (0 when none).
func (k *Keyring) IndexVersions() (primary, moving uint32) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return max(k.lookupPrimary, 1), k.lookupPrevious
}

// IndexCandidates returns the hashes a lookup of value must try: the
// primary version's first and, while a move is under way, the old
// version's. Outside LookupDomain it is Index alone.
func (k *Keyring) IndexCandidates(domain, value string) []IndexHash {
	if !LookupDomain(domain) {
		return []IndexHash{k.Index(domain, value)}
	}
	k.mu.RLock()
	primary := k.lookupKeyLocked(k.lookupPrimary)
	var previous *[keySize]byte
	if k.lookupPrevious != 0 {
		previous = k.lookupKeyLocked(k.lookupPrevious)
	}
	k.mu.RUnlock()
	out := []IndexHash{k.indexWith(primary, domain, value)}
	if previous != nil {
		out = append(out, k.indexWith(previous, domain, value))
	}
	return out
}

// IndexMovePair returns value's hash under the version a move leaves
// (from) and under the primary (to). ok is false when no move is under
// way or domain is not a LookupDomain.
func (k *Keyring) IndexMovePair(domain, value string) (from, to IndexHash, ok bool) {
	if !LookupDomain(domain) {
		return from, to, false
	}
	k.mu.RLock()
	if k.lookupPrevious == 0 {
		k.mu.RUnlock()
		return from, to, false
	}
	fromKey, toKey := k.lookupKeyLocked(k.lookupPrevious), k.lookupKeyLocked(k.lookupPrimary)
	k.mu.RUnlock()
	return k.indexWith(fromKey, domain, value), k.indexWith(toKey, domain, value), true
}

// ErrIndexMoveUnderway is returned by RotateIndex while an earlier
// rotation's move has not finished.
var ErrIndexMoveUnderway = errors.New("keyring: an index key move is under way; finish it first")

// RotateIndex adds a random index key version and makes it primary for
// phone numbers and Twilio SIDs, remembering the old version until
// FinishIndexMove. The caller must Marshal and store the keyring.
func (k *Keyring) RotateIndex() (uint32, error) {
	var key [keySize]byte
	if _, err := rand.Read(key[:]); err != nil {
		return 0, fmt.Errorf("keyring: generate index key: %w", err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.lookupPrevious != 0 {
		return 0, ErrIndexMoveUnderway
	}
	highest := max(k.lookupPrimary, 1)
	for v := range k.lookups {
		highest = max(highest, v)
	}
	if highest == math.MaxUint32 {
		return 0, errors.New("keyring: no index key versions left")
	}
	v := highest + 1
	if k.lookups == nil {
		k.lookups = map[uint32]*[keySize]byte{}
	}
	k.lookups[v] = &key
	k.lookupPrevious, k.lookupPrimary = max(k.lookupPrimary, 1), v
	return v, nil
}

// FinishIndexMove ends a move: lookups use the primary version alone and
// the old version's key is dropped (version 1 stays: it keys tags). The
// caller must first have re-hashed every entry, then Marshal and store.
func (k *Keyring) FinishIndexMove() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.lookupPrevious == 0 {
		return errors.New("keyring: no index key move is under way")
	}
	delete(k.lookups, k.lookupPrevious)
	k.lookupPrevious = 0
	return nil
}

// appendLookups serialises the index key versions (format 3 trailer):
//
//	[4 primary][4 previous][4 count] count × ([4 version][32 key])
func (k *Keyring) appendLookups(plain []byte) []byte {
	plain = binary.BigEndian.AppendUint32(plain, max(k.lookupPrimary, 1))
	plain = binary.BigEndian.AppendUint32(plain, k.lookupPrevious)
	plain = binary.BigEndian.AppendUint32(plain, uint32(len(k.lookups)))
	for v, key := range k.lookups {
		plain = binary.BigEndian.AppendUint32(plain, v)
		plain = append(plain, key[:]...)
	}
	return plain
}

func parseLookups(b []byte) (lookupState, error) {
	var st lookupState
	if len(b) < 12 {
		return st, fmt.Errorf("keyring: %w: short index key trailer", ErrMalformed)
	}
	st.primary, st.previous = binary.BigEndian.Uint32(b), binary.BigEndian.Uint32(b[4:])
	n := binary.BigEndian.Uint32(b[8:])
	rest := b[12:]
	if uint64(len(rest)) != uint64(n)*keyringEntry {
		return st, fmt.Errorf("keyring: %w: %d index keys in %d bytes", ErrMalformed, n, len(rest))
	}
	st.keys = make(map[uint32]*[keySize]byte, n)
	for ; len(rest) > 0; rest = rest[keyringEntry:] {
		v := binary.BigEndian.Uint32(rest)
		if v <= 1 {
			return st, fmt.Errorf("keyring: %w: index key version %d stored", ErrMalformed, v)
		}
		key := [keySize]byte(rest[4:keyringEntry])
		st.keys[v] = &key
	}
	for _, v := range []uint32{st.primary, st.previous} {
		if v > 1 && st.keys[v] == nil {
			return st, fmt.Errorf("keyring: %w: index key version %d has no key", ErrMalformed, v)
		}
	}
	return st, nil
}
