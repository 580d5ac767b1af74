package crypto_test

import (
	"encoding/binary"
	"sync"
	"testing"

	"github.com/hotline-az/hotline/crypto"
)

func TestTagIsIndexOfLengthPrefixedParts(t *testing.T) {
	kr, err := crypto.NewKeyring()
	if err != nil {
		t.Fatal(err)
	}
	other, _ := crypto.NewKeyring()
	parts := [][]byte{[]byte("cases"), []byte("18ed65d9"), []byte(`{"priority":"P1"`), nil}
	var joined []byte
	for _, p := range parts {
		joined = binary.BigEndian.AppendUint32(joined, uint32(len(p)))
		joined = append(joined, p...)
	}
	want := kr.Index("record-mac v1", string(joined))
	var wg sync.WaitGroup
	for range 8 { // pooled HMAC states are reset between uses
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				if got := kr.Tag("record-mac v1", parts...); got != want {
					t.Errorf("Tag: got %s, want Index of the joined parts %s", got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	if kr.Tag("record-mac v1", []byte("ab"), []byte("c")) == kr.Tag("record-mac v1", []byte("a"), []byte("bc")) {
		t.Fatal("parts are not separated")
	}
	if other.Tag("record-mac v1", parts...) == want {
		t.Fatal("another keyring gave the same tag")
	}
}
