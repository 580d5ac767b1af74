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
