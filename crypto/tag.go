package crypto

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"io"
)

// indexMAC returns a pooled HMAC state keyed with k.index, reset; put it
// back in k.tags when done.
func (k *Keyring) indexMAC() hash.Hash {
	if m, ok := k.tags.Get().(hash.Hash); ok {
		m.Reset()
		return m
	}
	// k.index never changes after construction, so no lock is needed.
	return hmac.New(sha256.New, k.index[:])
}

// Tag returns HMAC-SHA256 under the keyring's index key of the
// length-prefixed domain followed by each part with a 4-byte big-endian
// length before it: the same hash as Index(domain, joined parts). The
// store uses it to tag plaintext records so they cannot be changed or
// moved without the key. Unlike Index it reuses its HMAC state and takes
// the parts as bytes, so tagging a record on the write path costs no
// copies.
func (k *Keyring) Tag(domain string, parts ...[]byte) IndexHash {
	m := k.indexMAC()
	defer k.tags.Put(m)
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(domain)))
	m.Write(n[:])
	io.WriteString(m, domain)
	for _, p := range parts {
		binary.BigEndian.PutUint32(n[:], uint32(len(p)))
		m.Write(n[:])
		m.Write(p)
	}
	var h IndexHash
	m.Sum(h[:0])
	return h
}
