package leaktest_test

import (
	"reflect"
	"testing"

	"github.com/hotline-az/hotline/internal/leaktest"
)

func TestPhoneForms(t *testing.T) {
	got := leaktest.PhoneForms("+994501234567")
	want := []string{"+994501234567", "994501234567", "0501234567", "501234567"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestRuns(t *testing.T) {
	got := leaktest.Runs("kömək!", 5)
	want := []string{"kömək", "ömək!"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestCheckFindsNeedles(t *testing.T) {
	var b leaktest.Buffer
	b.Write([]byte("a +994501234567 b"))
	ft := &fakeT{TB: t}
	leaktest.Check(ft, "log", b.String(), "501234567", "absent")
	if ft.errors != 1 {
		t.Fatalf("got %d errors, want 1", ft.errors)
	}
}

type fakeT struct {
	testing.TB
	errors int
}

func (f *fakeT) Helper()               {}
func (f *fakeT) Errorf(string, ...any) { f.errors++ }

// CheckNoRun finds a run of n bytes at any offset, and nothing shorter.
func TestCheckNoRun(t *testing.T) {
	secret := make([]byte, 1000)
	for i := range secret {
		secret[i] = byte(i*7 + i/256)
	}
	for _, start := range []int{0, 1, 31, 500, 1000 - 64} {
		hay := append(append([]byte("head"), secret[start:start+64]...), "tail"...)
		ft := &fakeT{TB: t}
		leaktest.CheckNoRun(ft, "file", hay, secret, 64)
		if ft.errors != 1 {
			t.Errorf("a 64-byte run from offset %d: %d errors, want 1", start, ft.errors)
		}
	}
	ft := &fakeT{TB: t}
	leaktest.CheckNoRun(ft, "file", append([]byte("x"), secret[100:130]...), secret, 64)
	if ft.errors != 0 {
		t.Errorf("a 30-byte run: %d errors, want 0", ft.errors)
	}
}
