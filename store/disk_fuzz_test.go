package store_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/crypto"
	"github.com/hotline-az/hotline/store"
)

// fuzzFile is a small sound data file shared by every fuzz input.
var fuzzFile struct {
	once  sync.Once
	bytes []byte
	key   crypto.MasterKey
}

// FuzzDamagedFile changes one byte of a real data file (and may cut it
// short) and opens it every way the hotline does: serve's Open followed
// by a tip, stats' ReadStats and Check. Each may refuse the file; none may
// panic, fault or hang, which would stop the hotline. The seeds in
// testdata/fuzz name what they change (a page's type or overflow count, a
// leaf key's size, a meta page, the file's length).
func FuzzDamagedFile(f *testing.F) {
	f.Fuzz(func(t *testing.T, off uint32, xor byte, cut uint32) {
		fuzzFile.once.Do(func() {
			dir := t.TempDir()
			k, err := crypto.GenerateMasterKey()
			if err != nil {
				t.Fatal(err)
			}
			fillStore(t, dir, k, 120)
			fuzzFile.key = k
			fuzzFile.bytes = readFile(t, filepath.Join(dir, store.FileName))
		})
		b := append([]byte(nil), fuzzFile.bytes...)
		b[int(off)%len(b)] ^= xor
		b = b[:len(b)-int(cut)%len(b)]
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, store.FileName), b, 0o600); err != nil {
			t.Fatal(err)
		}
		key := fuzzFile.key
		if s, err := store.Open(dir, store.MasterKeySource{Key: &key}, store.Options{Logger: zerolog.Nop()}); err == nil {
			_, _ = s.RecordInboundSMS(context.Background(), sms("SMfuzz", "+994501112233", "salam", hotline.P3), nil)
			_, _ = s.Stats()
			s.Close()
		}
		_, _ = store.ReadStats(dir)
		_, _ = store.Check(dir, store.MasterKeySource{Key: &key}, store.Options{})
	})
}
