package crypto_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/hotline-az/hotline/crypto"
)

// fastParams are valid but cheap, so tests stay fast.
func fastParams(salt byte) crypto.KDFParams {
	return crypto.KDFParams{Salt: bytes.Repeat([]byte{salt}, 16), Time: 1, MemoryKiB: 8 * 1024, Threads: 1}
}

func TestNewKDFParams(t *testing.T) {
	a, err := crypto.NewKDFParams()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := crypto.NewKDFParams()
	if len(a.Salt) != 16 || a.Time != 3 || a.MemoryKiB != 64*1024 || a.Threads != 2 {
		t.Errorf("NewKDFParams = salt %d bytes, time %d, memory %d KiB, threads %d; want 16, 3, 65536, 2",
			len(a.Salt), a.Time, a.MemoryKiB, a.Threads)
	}
	if bytes.Equal(a.Salt, b.Salt) {
		t.Errorf("two NewKDFParams share a salt %x", a.Salt)
	}
	j, _ := json.Marshal(fastParams(1))
	if want := `{"salt":"AQEBAQEBAQEBAQEBAQEBAQ==","time":1,"memory_kib":8192,"threads":1}`; string(j) != want {
		t.Errorf("json = %s, want %s", j, want)
	}
}

func TestDeriveMasterKey(t *testing.T) {
	pass := []byte("qırmızı alma 7 Köhnə körpü")
	a, err := crypto.DeriveMasterKey(pass, fastParams(1))
	if err != nil {
		t.Fatalf("DeriveMasterKey: %v", err)
	}
	tests := []struct {
		name       string
		passphrase []byte
		params     crypto.KDFParams
		wantEqual  bool
	}{
		{"same passphrase and params", pass, fastParams(1), true},
		{"different salt", pass, fastParams(2), false},
		{"different passphrase", []byte("qırmızı alma 7 köhnə körpü"), fastParams(1), false},
		{"different time", pass, func() crypto.KDFParams { p := fastParams(1); p.Time = 2; return p }(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := crypto.DeriveMasterKey(tt.passphrase, tt.params)
			if err != nil {
				t.Fatalf("DeriveMasterKey: %v", err)
			}
			if got := a.Equal(b); got != tt.wantEqual {
				t.Errorf("keys equal = %v, want %v", got, tt.wantEqual)
			}
		})
	}
}

func TestDeriveMasterKeyErrors(t *testing.T) {
	with := func(f func(*crypto.KDFParams)) crypto.KDFParams {
		p := fastParams(1)
		f(&p)
		return p
	}
	tests := []struct {
		name       string
		passphrase string
		params     crypto.KDFParams
		wantErr    []string
	}{
		{"empty passphrase", "", fastParams(1), []string{"empty passphrase"}},
		{"short salt", "x", with(func(p *crypto.KDFParams) { p.Salt = p.Salt[:15] }), []string{"salt must be at least 16 bytes, got 15"}},
		{"no salt", "x", with(func(p *crypto.KDFParams) { p.Salt = nil }), []string{"got 0"}},
		{"time 0", "x", with(func(p *crypto.KDFParams) { p.Time = 0 }), []string{"time must be between 1 and"}},
		{"time huge", "x", with(func(p *crypto.KDFParams) { p.Time = 1 << 30 }), []string{"time must be between"}},
		{"memory low", "x", with(func(p *crypto.KDFParams) { p.MemoryKiB = 8*1024 - 1 }), []string{"memory_kib must be between 8192"}},
		{"memory huge", "x", with(func(p *crypto.KDFParams) { p.MemoryKiB = 1 << 31 }), []string{"memory_kib must be between"}},
		{"threads 0", "x", with(func(p *crypto.KDFParams) { p.Threads = 0 }), []string{"threads must be at least 1"}},
		{"all at once", "x", crypto.KDFParams{}, []string{"salt", "time", "memory_kib", "threads"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := crypto.DeriveMasterKey([]byte(tt.passphrase), tt.params)
			if err == nil {
				t.Fatalf("DeriveMasterKey error = nil, want one containing %q", tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}
