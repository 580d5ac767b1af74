package crypto

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"
)

// Envelope format (format 1), as stored in bbolt:
//
//	offset  size  field
//	     0     1  format = 1
//	     1     4  KEK version, big endian
//	     5    24  wrap nonce
//	    29    48  DEK (32 bytes) sealed by the KEK with XChaCha20-Poly1305
//	    77    24  body nonce
//	   101  n+16  body sealed by the DEK with XChaCha20-Poly1305
//
// Every byte is authenticated: the format byte is checked, the version is
// in the DEK wrap's additional data, and nonces and ciphertexts are covered
// by their tags.
//
// Additional data (each field is a 4-byte big-endian length, then the bytes):
//
//	DEK wrap: "hotline dek v1", bucket, key, KEK version (4 bytes)
//	body:     "hotline body v1", bucket, key
//
// Bucket and key bind the envelope to where it is stored, so an envelope
// copied to another record fails to open. The body does not bind the KEK
// version on purpose: Rewrap re-seals only the DEK under a new KEK without
// decrypting or re-sealing the body. The version is still bound through the
// DEK wrap, and the DEK is unique to this envelope.
const (
	envelopeFormat = 1

	offVersion   = 1
	offWrapNonce = offVersion + 4
	offWrapped   = offWrapNonce + nonceSize
	offBodyNonce = offWrapped + keySize + tagSize
	offBody      = offBodyNonce + nonceSize

	// envelopeOverhead is the size of an envelope with an empty body.
	envelopeOverhead = offBody + tagSize

	dekADLabel  = "hotline dek v1"
	bodyADLabel = "hotline body v1"

	// maxNameLen bounds bucket and key names so their length prefixes
	// can never overflow; bbolt's own key limit is far below it.
	maxNameLen = 1 << 24
)

// scratch holds per-call buffers, reused through Keyring.scratch.
type scratch struct {
	dek [keySize]byte
	ad  []byte
}

func (k *Keyring) getScratch() *scratch {
	if s, ok := k.scratch.Get().(*scratch); ok {
		return s
	}
	return new(scratch)
}

func (k *Keyring) putScratch(s *scratch) {
	clear(s.dek[:])
	k.scratch.Put(s)
}

func appendField(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

func appendDEKAD(b []byte, bucket, key string, version uint32) []byte {
	b = appendField(b, dekADLabel)
	b = appendField(b, bucket)
	b = appendField(b, key)
	b = binary.BigEndian.AppendUint32(b, 4)
	return binary.BigEndian.AppendUint32(b, version)
}

func appendBodyAD(b []byte, bucket, key string) []byte {
	b = appendField(b, bodyADLabel)
	b = appendField(b, bucket)
	return appendField(b, key)
}

func checkNames(bucket, key string) error {
	if len(bucket) > maxNameLen || len(key) > maxNameLen {
		return errors.New("crypto: bucket or key name too long")
	}
	return nil
}

// Seal encrypts plaintext for the record at bucket/key: a fresh random DEK
// seals the body and the primary KEK wraps the DEK. The envelope only opens
// with the same bucket and key. Sealing the same plaintext twice gives
// unrelated envelopes.
func (k *Keyring) Seal(bucket, key string, plaintext []byte) ([]byte, error) {
	if err := checkNames(bucket, key); err != nil {
		return nil, err
	}
	v, kek, err := k.primaryKEK()
	if err != nil {
		return nil, err
	}
	s := k.getScratch()
	defer k.putScratch(s)
	b := appendDEKAD(s.ad[:0], bucket, key, v)
	n := len(b)
	b = appendBodyAD(b, bucket, key)
	s.ad = b
	dekAD, bodyAD := b[:n], b[n:]

	out := make([]byte, offBody, envelopeOverhead+len(plaintext))
	out[0] = envelopeFormat
	binary.BigEndian.PutUint32(out[offVersion:], v)
	if _, err := rand.Read(s.dek[:]); err != nil {
		return nil, fmt.Errorf("crypto: generate DEK: %w", err)
	}
	if _, err := rand.Read(out[offWrapNonce:offWrapped]); err != nil {
		return nil, fmt.Errorf("crypto: generate nonce: %w", err)
	}
	if _, err := rand.Read(out[offBodyNonce:offBody]); err != nil {
		return nil, fmt.Errorf("crypto: generate nonce: %w", err)
	}
	// Wrap the DEK in place into its slot of out.
	kek.aead.Seal(out[offWrapped:offWrapped], out[offWrapNonce:offWrapped], s.dek[:], dekAD)
	dek, err := chacha20poly1305.NewX(s.dek[:])
	if err != nil {
		return nil, err
	}
	return dek.Seal(out, out[offBodyNonce:offBody], plaintext, bodyAD), nil
}

// Open decrypts an envelope made by Seal (or Rewrap) for the same bucket and
// key. Errors wrap ErrMalformed (not an envelope), ErrUnknownVersion (its
// KEK is not in the keyring) or ErrDecrypt (altered, truncated, or moved from
// another bucket or key). Nothing is returned unless the whole envelope
// authenticates. The envelope is only read, so it may be bbolt memory.
func (k *Keyring) Open(bucket, key string, envelope []byte) ([]byte, error) {
	v, kek, err := k.envelopeKEK(bucket, key, envelope)
	if err != nil {
		return nil, err
	}
	s := k.getScratch()
	defer k.putScratch(s)
	b := appendDEKAD(s.ad[:0], bucket, key, v)
	n := len(b)
	b = appendBodyAD(b, bucket, key)
	s.ad = b
	dekAD, bodyAD := b[:n], b[n:]

	if _, err := kek.aead.Open(s.dek[:0], envelope[offWrapNonce:offWrapped], envelope[offWrapped:offBodyNonce], dekAD); err != nil {
		return nil, fmt.Errorf("%w: key wrap", ErrDecrypt)
	}
	dek, err := chacha20poly1305.NewX(s.dek[:])
	if err != nil {
		return nil, err
	}
	plaintext, err := dek.Open(nil, envelope[offBodyNonce:offBody], envelope[offBody:], bodyAD)
	if err != nil {
		return nil, fmt.Errorf("%w: body", ErrDecrypt)
	}
	return plaintext, nil
}

// envelopeKEK checks the names and the envelope's header and returns the
// KEK version it names with that KEK (Open and Rewrap both start here).
func (k *Keyring) envelopeKEK(bucket, key string, envelope []byte) (uint32, *kek, error) {
	if err := checkNames(bucket, key); err != nil {
		return 0, nil, err
	}
	v, err := EnvelopeVersion(envelope)
	if err != nil {
		return 0, nil, err
	}
	e, err := k.kekFor(v)
	return v, e, err
}

// EnvelopeVersion returns the KEK version an envelope names, without
// decrypting anything. It lets a rewrap job skip envelopes already under the
// primary KEK and tell which versions are still referenced. The version is
// not authenticated until Open or Rewrap succeeds.
func EnvelopeVersion(envelope []byte) (uint32, error) {
	if len(envelope) < envelopeOverhead {
		return 0, fmt.Errorf("%w: envelope of %d bytes is shorter than the minimum %d", ErrMalformed, len(envelope), envelopeOverhead)
	}
	if envelope[0] != envelopeFormat {
		return 0, fmt.Errorf("%w: unknown envelope format %d", ErrMalformed, envelope[0])
	}
	return binary.BigEndian.Uint32(envelope[offVersion:]), nil
}

// Rewrap re-seals only the envelope's DEK under the primary KEK and returns
// the new envelope; the body nonce and ciphertext are copied unchanged and
// never decrypted. The DEK wrap is verified first, so a tampered or moved
// envelope fails with the same errors as Open (a tampered body is only
// detected by Open). An envelope already under the primary is re-wrapped
// with a fresh nonce, which is harmless.
func (k *Keyring) Rewrap(bucket, key string, envelope []byte) ([]byte, error) {
	v, from, err := k.envelopeKEK(bucket, key, envelope)
	if err != nil {
		return nil, err
	}
	pv, to, err := k.primaryKEK()
	if err != nil {
		return nil, err
	}
	s := k.getScratch()
	defer k.putScratch(s)
	b := appendDEKAD(s.ad[:0], bucket, key, v)
	n := len(b)
	b = appendDEKAD(b, bucket, key, pv)
	s.ad = b
	fromAD, toAD := b[:n], b[n:]

	if _, err := from.aead.Open(s.dek[:0], envelope[offWrapNonce:offWrapped], envelope[offWrapped:offBodyNonce], fromAD); err != nil {
		return nil, fmt.Errorf("%w: key wrap", ErrDecrypt)
	}
	out := make([]byte, len(envelope))
	out[0] = envelopeFormat
	binary.BigEndian.PutUint32(out[offVersion:], pv)
	if _, err := rand.Read(out[offWrapNonce:offWrapped]); err != nil {
		return nil, fmt.Errorf("crypto: generate nonce: %w", err)
	}
	to.aead.Seal(out[offWrapped:offWrapped], out[offWrapNonce:offWrapped], s.dek[:], toAD)
	copy(out[offBodyNonce:], envelope[offBodyNonce:])
	return out, nil
}
