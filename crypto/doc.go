// Package crypto holds all key material of the hotline and the operations on
// it: the master key, the keyring of key-encryption keys (KEKs), envelope
// encryption of records, and keyed hashes for lookups.
//
// It is the only package that touches key bytes. Key types keep their bytes
// in unexported arrays, print as "[redacted]" and refuse to be serialised by
// encoding/json or encoding.TextMarshaler users, so a key cannot leak through
// a log line or an API response by accident.
//
// The layering follows Vault transit and Tink:
//
//	master key  ──seals──▶  keyring blob (stored in bbolt)
//	KEK vN      ──wraps──▶  per-record random DEK
//	DEK         ──seals──▶  record body
//
// Changing the master key re-seals only the keyring blob; rotating the
// keyring adds a KEK and Rewrap re-wraps DEKs without decrypting bodies.
package crypto
