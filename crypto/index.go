package crypto

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"io"
)

// Domains for Index. Each kind of value gets its own domain so that equal
// strings of different kinds never share a hash.
const (
	// DomainPhone is for E.164 phone numbers of reporters.
	DomainPhone = "phone"
	// DomainTwilioSID is for Twilio message, call and recording SIDs.
	DomainTwilioSID = "twilio-sid"
)

// IndexHash is a keyed hash of a sensitive value, used as a lookup key in
// place of the value (for example to thread messages by phone number).
// Without the index key it cannot be reversed or recomputed, even by
// trying every phone number.
type IndexHash [32]byte

// Index returns HMAC-SHA256 under the keyring's index key of the
// length-prefixed domain followed by value. The same keyring, domain and
// value always give the same hash; the prefix keeps ("ab", "c") and
// ("a", "bc") apart. Normalise value (e.g. to E.164) before hashing.
//
// Phone numbers and Twilio SIDs (LookupDomain) are hashed under the
// primary index key version, which RotateIndex changes; other domains
// always use version 1.
func (k *Keyring) Index(domain, value string) IndexHash {
	key := k.index
	if LookupDomain(domain) {
		k.mu.RLock()
		key = k.lookupKeyLocked(k.lookupPrimary)
		k.mu.RUnlock()
	}
	return k.indexWith(key, domain, value)
}

// indexWith hashes under key, which must be k.index or one of k.lookups,
// reusing a pooled HMAC state for it.
func (k *Keyring) indexWith(key *[keySize]byte, domain, value string) IndexHash {
	var mac hash.Hash
	if key == k.index {
		mac = k.indexMAC()
		defer k.tags.Put(mac)
	} else {
		// A state made for another version (before a rotation) is
		// dropped, not reused.
		km, ok := k.lookupMACs.Get().(*keyedMAC)
		if ok && km.key == key {
			km.mac.Reset()
		} else {
			km = &keyedMAC{key: key, mac: hmac.New(sha256.New, key[:])}
		}
		mac = km.mac
		defer k.lookupMACs.Put(km)
	}
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(domain)))
	mac.Write(n[:])
	io.WriteString(mac, domain)
	io.WriteString(mac, value)
	var h IndexHash
	mac.Sum(h[:0])
	return h
}

// String returns the hash in lower-case hex. Hashes are not secret, but
// unlike the value they stand for they reveal nothing about it.
func (h IndexHash) String() string {
	return hex.EncodeToString(h[:])
}
