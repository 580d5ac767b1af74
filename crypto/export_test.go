package crypto

// NewKeyringForTest builds a keyring from fixed keys. Tests use it to know
// the key bytes (to check they never leak), to give two versions the same
// KEK (to show the version is bound by additional data, not only by the
// key), and to open the committed fuzz seed envelopes.
func NewKeyringForTest(primary uint32, keks map[uint32][32]byte, index [32]byte) (*Keyring, error) {
	return newKeyring(primary, keks, index)
}
