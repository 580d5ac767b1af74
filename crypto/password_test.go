package crypto_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/hotline-az/hotline/crypto"
)

func TestPasswordHash(t *testing.T) {
	p := crypto.PasswordParams{Time: 1, MemoryKiB: 1024, Threads: 1}
	hash, err := crypto.HashPassword("correct horse battery staple", p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=1024,t=1,p=1$") || strings.Contains(hash, "horse") {
		t.Fatalf("hash %q is not a PHC argon2id string without the password", hash)
	}
	if err := crypto.VerifyPassword(hash, "correct horse battery staple"); err != nil {
		t.Fatalf("right password: %v", err)
	}
	if err := crypto.VerifyPassword(hash, "correct horse battery stapler"); !errors.Is(err, crypto.ErrPasswordMismatch) {
		t.Fatalf("wrong password: got %v, want ErrPasswordMismatch", err)
	}
	again, _ := crypto.HashPassword("correct horse battery staple", p)
	if again == hash {
		t.Fatalf("two hashes of one password are equal: the salt is not random")
	}
	if _, err := crypto.HashPassword("", p); err == nil {
		t.Fatalf("an empty password was hashed")
	}
	for _, bad := range []string{
		"", "plain", "$argon2i$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaA",
		strings.Replace(hash, "m=1024", "m=99999999", 1), // cost out of bounds: refused, not run
		strings.Replace(hash, "t=1", "t=0", 1),
		hash[:len(hash)-20],
	} {
		if err := crypto.VerifyPassword(bad, "correct horse battery staple"); err == nil || errors.Is(err, crypto.ErrPasswordMismatch) && bad != hash[:len(hash)-20] {
			t.Errorf("VerifyPassword(%q) = %v, want an unreadable-hash error", bad, err)
		}
	}
}
