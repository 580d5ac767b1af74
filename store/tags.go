package store

import (
	"bytes"
	"crypto/hmac"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	bolt "go.etcd.io/bbolt"
)

// Integrity of plaintext metadata.
//
// Fields that must be read without opening anything (priority, status,
// state, which officer or case a row belongs to) stay plaintext JSON, but
// someone who can write the data file must not be able to change or move
// them without a key. Three mechanisms cover them:
//
//   - Records that change over time (cases, alerts, outbox jobs, officers,
//     settings, pending alerts, console accounts, sessions, case workflow,
//     notes) end in a tag: HMAC-SHA256 under the keyring's index key
//     (crypto.Keyring.Tag) of the bucket, the record's key and its JSON,
//     truncated to 128 bits. The tag is appended as a last "mac" member so
//     readers without a key (stats) still parse the record as before.
//   - A message never changes, so its case and its metadata are bound into
//     the additional data of its sealed body: moved to another case, or
//     with its priority edited, it no longer opens.
//   - An index entry that points at a record (reporter → case, case code →
//     case, alert number → alert) either carries a tag too (reporters) or
//     is checked against the record it finds, whose own tag names its id,
//     code or number.
//
// What this cannot catch: a whole record (or the whole file) put back as an
// older copy of itself, and deletions. The README's "What is plaintext"
// table lists each field and why it is plain.

// ErrTampered is wrapped by every integrity failure: a record, or a link
// between records, that was changed outside hotline (or damaged). Restore
// the last backup; `hotline check` names the records.
var ErrTampered = errors.New("the data file was changed outside hotline or is damaged")

// domainRecordMAC separates record tags from the index hashes made with the
// same key (phone numbers, SIDs, officer names).
const domainRecordMAC = "record-mac v1"

// macLen is the stored length of a record tag (HMAC-SHA256 truncated to
// 128 bits, as RFC 2104 allows).
const macLen = 16

// macMember is how a tag ends a record: `,"mac":"<24 base64 chars>"}`.
var (
	macMemberPrefix = []byte(`,"mac":"`)
	macMemberLen    = len(macMemberPrefix) + base64.StdEncoding.EncodedLen(macLen) + len(`"}`)
)

// bindKey joins parts into one string with a length before each, so no two
// lists of parts give the same string. It names what a sealed message body
// is bound to.
func bindKey(parts ...string) string {
	var b []byte
	for _, p := range parts {
		b = binary.BigEndian.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
	}
	return string(b)
}

// recordMAC tags body as the value of key in bucket.
func (s *Store) recordMAC(bucket, key, body []byte) []byte {
	h := s.keyring.Tag(domainRecordMAC, bucket, key, body)
	return h[:macLen]
}

// tagJSON marshals v (a JSON object) and appends its tag as a last member.
func (s *Store) tagJSON(bucket, key []byte, v any) ([]byte, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if len(body) < 2 || body[0] != '{' || body[len(body)-1] != '}' {
		return nil, fmt.Errorf("store: %s record is not a JSON object", bucket)
	}
	untagged := body[:len(body)-1]
	mac := s.recordMAC(bucket, key, untagged)
	out := make([]byte, 0, len(untagged)+macMemberLen)
	out = append(out, untagged...)
	out = append(out, macMemberPrefix...)
	out = base64.StdEncoding.AppendEncode(out, mac)
	return append(out, `"}`...), nil
}

// putTagged stores v under key with its tag.
func (s *Store) putTagged(b *bolt.Bucket, bucket, key []byte, v any) error {
	data, err := s.tagJSON(bucket, key, v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}

// checkTag verifies the tag that ends data, stored under key in bucket.
func (s *Store) checkTag(bucket, key, data []byte) error {
	n := len(data) - macMemberLen
	if n < 1 || !bytes.Equal(data[n:n+len(macMemberPrefix)], macMemberPrefix) || data[len(data)-2] != '"' || data[len(data)-1] != '}' {
		return fmt.Errorf("%w: %s record %s has no integrity tag", ErrTampered, bucket, keyName(key))
	}
	var mac [macLen]byte
	if _, err := base64.StdEncoding.Decode(mac[:], data[n+len(macMemberPrefix):len(data)-2]); err != nil {
		return fmt.Errorf("%w: %s record %s has a malformed integrity tag", ErrTampered, bucket, keyName(key))
	}
	if !hmac.Equal(mac[:], s.recordMAC(bucket, key, data[:n])) {
		return fmt.Errorf("%w: %s record %s does not match its integrity tag (edited, or moved from another key)", ErrTampered, bucket, keyName(key))
	}
	return nil
}

// getTagged reads the record under key, checks its tag and decodes it.
// A missing record is ENOTFOUND, as with getJSON.
func (s *Store) getTagged(b *bolt.Bucket, bucket, key []byte, v any) error {
	data := b.Get(key)
	if data == nil {
		return notFound(bucket)
	}
	if err := s.checkTag(bucket, key, data); err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

// hasTag reports whether data ends in a tag member (checked or not): the
// migration uses it to tell records it already rewrote.
func hasTag(data []byte) bool {
	n := len(data) - macMemberLen
	return n >= 1 && bytes.Equal(data[n:n+len(macMemberPrefix)], macMemberPrefix)
}

// tagValue returns an opaque value (an index entry's target id, a
// setting) followed by its raw tag.
func (s *Store) tagValue(bucket, key, value []byte) []byte {
	v := make([]byte, 0, len(value)+macLen)
	v = append(v, value...)
	return append(v, s.recordMAC(bucket, key, value)...)
}

// checkValue verifies a value made by tagValue and returns it without
// its tag (a sub-slice of stored: copy it out of the transaction).
func (s *Store) checkValue(bucket, key, stored []byte) ([]byte, error) {
	if len(stored) < macLen {
		return nil, fmt.Errorf("%w: %s entry %s has no integrity tag", ErrTampered, bucket, keyName(key))
	}
	value, mac := stored[:len(stored)-macLen], stored[len(stored)-macLen:]
	if !hmac.Equal(mac, s.recordMAC(bucket, key, value)) {
		return nil, fmt.Errorf("%w: %s entry %s does not match its integrity tag (edited or re-pointed)", ErrTampered, bucket, keyName(key))
	}
	return value, nil
}

// keyName shows ids as they are and binary keys (hashes) as a length,
// so an error never quotes a keyed hash.
func keyName(k []byte) string {
	for _, c := range k {
		if c < 0x20 || c > 0x7e {
			return "(" + strconv.Itoa(len(k)) + "-byte key)"
		}
	}
	return string(k)
}
