package crypto_test

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotline-az/hotline/crypto"
)

// rawKey has bytes that encode to '+', '/', '-' and '_' in base64, so the
// alphabets give different text.
var rawKey = func() []byte {
	b := make([]byte, 32)
	for i := range b {
		b[i] = byte(0xfb + i*7)
	}
	return b
}()

func TestParseMasterKey(t *testing.T) {
	want, err := crypto.ParseMasterKey(base64.StdEncoding.EncodeToString(rawKey))
	if err != nil {
		t.Fatalf("ParseMasterKey: %v", err)
	}
	std := base64.StdEncoding.EncodeToString(rawKey)
	tests := []struct {
		name    string
		in      string
		wantErr string // substring; "" means success
	}{
		{"standard", std, ""},
		{"trailing newline", std + "\n", ""},
		{"CRLF and spaces", "  " + std + "\r\n", ""},
		{"url-safe", base64.URLEncoding.EncodeToString(rawKey), ""},
		{"raw standard", base64.RawStdEncoding.EncodeToString(rawKey), ""},
		{"raw url-safe", base64.RawURLEncoding.EncodeToString(rawKey), ""},
		{"empty", "", "master key: empty"},
		{"only spaces", " \n", "master key: empty"},
		{"31 bytes", base64.StdEncoding.EncodeToString(rawKey[:31]), "master key: must be base64 of 32 bytes, got 31 bytes"},
		{"33 bytes", base64.StdEncoding.EncodeToString(append(rawKey, 1)), "master key: must be base64 of 32 bytes, got 33 bytes"},
		{"not base64", "correct horse battery staple!!", "not valid base64"},
		{"hex", strings.Repeat("ab", 32), "got 48 bytes"},
		{"huge", strings.Repeat("A", 1<<20), "got 1048576 characters"},
		{"64 bytes", base64.StdEncoding.EncodeToString(append(rawKey, rawKey...)), "got 64 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := crypto.ParseMasterKey(tt.in)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ParseMasterKey error = %v, want nil", err)
				}
				if !got.Equal(want) {
					t.Errorf("ParseMasterKey gave a different key than the standard encoding")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("ParseMasterKey error = %v, want one containing %q", err, tt.wantErr)
			}
			if s := strings.TrimSpace(tt.in); len(s) > 0 && strings.Contains(err.Error(), s[:min(len(s), 8)]) {
				t.Errorf("error %q contains the input", err)
			}
		})
	}
}

func TestMasterKeyEqual(t *testing.T) {
	a, _ := crypto.GenerateMasterKey()
	b, _ := crypto.GenerateMasterKey()
	tests := []struct {
		name string
		x, y crypto.MasterKey
		want bool
	}{
		{"same", a, a, true},
		{"different", a, b, false},
		{"zero and zero", crypto.MasterKey{}, crypto.MasterKey{}, true},
		{"key and zero", a, crypto.MasterKey{}, false},
	}
	for _, tt := range tests {
		if got := tt.x.Equal(tt.y); got != tt.want {
			t.Errorf("%s: Equal = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func writeKeyFile(t *testing.T, mode os.FileMode, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "master.key")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	// Chmod after writing: the umask would otherwise mask the mode.
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReadMasterKeyFile(t *testing.T) {
	want, _ := crypto.ParseMasterKey(base64.StdEncoding.EncodeToString(rawKey))
	good := base64.StdEncoding.EncodeToString(rawKey) + "\n"
	tests := []struct {
		name    string
		mode    os.FileMode
		content string
		wantErr []string // substrings; nil means success
	}{
		{"0600", 0o600, good, nil},
		{"0400", 0o400, good, nil},
		{"0644", 0o644, good, []string{"mode 0644", "group or others"}},
		{"0640", 0o640, good, []string{"mode 0640"}},
		{"0602", 0o602, good, []string{"mode 0602"}},
		{"0620", 0o620, good, []string{"mode 0620"}},
		{"31 bytes", 0o600, base64.StdEncoding.EncodeToString(rawKey[:31]), []string{"got 31 bytes"}},
		{"empty", 0o600, "", []string{"empty"}},
		{"too big", 0o600, strings.Repeat("A", 4096), []string{"not a master key file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeKeyFile(t, tt.mode, tt.content)
			got, err := crypto.ReadMasterKeyFile(path)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("ReadMasterKeyFile error = %v, want nil", err)
				}
				if !got.Equal(want) {
					t.Errorf("ReadMasterKeyFile returned a different key")
				}
				return
			}
			if err == nil {
				t.Fatalf("ReadMasterKeyFile error = nil, want one containing %q", tt.wantErr)
			}
			for _, w := range append(tt.wantErr, path) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error = %q, want it to contain %q", err, w)
				}
			}
		})
	}
	t.Run("missing", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "nope")
		if _, err := crypto.ReadMasterKeyFile(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("error = %v, want one naming %s", err, path)
		}
	})
}

func TestWriteFile(t *testing.T) {
	key, err := crypto.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "master.key")
	if err := key.WriteFile(path); err != nil {
		t.Fatalf("WriteFile: %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fi.Mode().Perm(), os.FileMode(0o600); got != want {
		t.Errorf("mode = %04o, want %04o", got, want)
	}
	content, _ := os.ReadFile(path)
	if len(content) != 45 || content[44] != '\n' {
		t.Errorf("file is %d bytes %q..., want 44 bytes of base64 and a newline", len(content), content[:min(len(content), 4)])
	}
	got, err := crypto.ReadMasterKeyFile(path)
	if err != nil || !got.Equal(key) {
		t.Errorf("ReadMasterKeyFile after WriteFile: equal = %v, err = %v; want true, nil", got.Equal(key), err)
	}

	other, _ := crypto.GenerateMasterKey()
	if err := other.WriteFile(path); err == nil {
		t.Errorf("WriteFile over an existing file: error = nil, want one")
	}
	if again, _ := os.ReadFile(path); string(again) != string(content) {
		t.Errorf("existing key file was changed by a refused WriteFile")
	}
}

func TestWriteFileZeroKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	if err := (crypto.MasterKey{}).WriteFile(path); err == nil {
		t.Errorf("WriteFile of the zero key: error = nil, want one")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("WriteFile of the zero key left a file: stat error = %v", err)
	}
}

func TestReadMasterKeyFileRefusesNonRegularFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := crypto.ReadMasterKeyFile(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("ReadMasterKeyFile(a directory) error = %v, want one saying it is not a regular file", err)
	}
}

func TestCheckPassphrase(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr string // substring; "" means accepted
	}{
		{"16 ASCII", "correct horse ba", ""},
		{"long", "correct horse battery staple", ""},
		{"15 ASCII", "correct horse b", "has 15 characters, it needs at least 16"},
		{"empty", "", "has 0 characters"},
		// 8 letters of two bytes each: 16 bytes but 8 characters.
		{"counts characters, not bytes", "əəəəşşşş", "has 8 characters"},
		{"16 Azerbaijani letters", "əəəəşşşşğğğğüüüü", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := crypto.CheckPassphrase([]byte(tt.in))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckPassphrase error = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("CheckPassphrase error = %v, want one containing %q", err, tt.wantErr)
			}
			if tt.in != "" && strings.Contains(err.Error(), tt.in) {
				t.Errorf("error %q contains the passphrase", err)
			}
		})
	}
}

func TestReadPassphraseFile(t *testing.T) {
	const good = "correct horse battery staple"
	tests := []struct {
		name    string
		mode    os.FileMode
		content string
		want    string
		wantErr []string // substrings; nil means success
	}{
		{"0600 with newline", 0o600, good + "\n", good, nil},
		{"0400 with CRLF", 0o400, good + "\r\n", good, nil},
		{"no newline", 0o600, good, good, nil},
		{"inner spaces kept", 0o600, "  " + good + "  \n", "  " + good + "  ", nil},
		{"0644", 0o644, good, "", []string{"mode 0644", "group or others", "chmod 600"}},
		{"0640", 0o640, good, "", []string{"mode 0640"}},
		{"0604", 0o604, good, "", []string{"mode 0604"}},
		{"short", 0o600, "hunter2hunter2\n", "", []string{"has 14 characters, it needs at least 16"}},
		{"empty", 0o600, "", "", []string{"has 0 characters"}},
		{"only a newline", 0o600, "\n", "", []string{"has 0 characters"}},
		{"too big", 0o600, strings.Repeat("A", 4096), "", []string{"not a master passphrase file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeKeyFile(t, tt.mode, tt.content)
			got, err := crypto.ReadPassphraseFile(path)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("ReadPassphraseFile error = %v, want nil", err)
				}
				if string(got) != tt.want {
					t.Errorf("ReadPassphraseFile = %q, want %q", got, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("ReadPassphraseFile error = nil, want one containing %q", tt.wantErr)
			}
			for _, w := range append(tt.wantErr, "master passphrase file", path) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error = %q, want it to contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q contains the passphrase", err)
			}
		})
	}
	t.Run("directory", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Chmod(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if _, err := crypto.ReadPassphraseFile(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("error = %v, want one saying it is not a regular file", err)
		}
	})
	t.Run("missing", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "nope")
		if _, err := crypto.ReadPassphraseFile(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("error = %v, want one naming %s", err, path)
		}
	})
}
