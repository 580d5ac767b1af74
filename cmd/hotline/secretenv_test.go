package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotline-az/hotline/config"
)

func TestTakeSecretEnvRemovesTheKeyFromTheEnvironment(t *testing.T) {
	const keyText = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	t.Setenv("HOTLINE_MASTER_KEY", keyText)
	t.Setenv("HOTLINE_MASTER_PASSPHRASE", "correct horse battery staple")
	t.Setenv("HOTLINE_DATA_DIR", "/srv/hotline")

	getenv := takeSecretEnv()

	for _, name := range []string{"HOTLINE_MASTER_KEY", "HOTLINE_MASTER_PASSPHRASE"} {
		if v, ok := os.LookupEnv(name); ok {
			t.Errorf("%s is still in the process environment (%d characters)", name, len(v))
		}
		for _, kv := range os.Environ() {
			if strings.HasPrefix(kv, name+"=") {
				t.Errorf("os.Environ still holds %s", name)
			}
		}
	}
	if got := os.Getenv("HOTLINE_DATA_DIR"); got != "/srv/hotline" {
		t.Errorf("HOTLINE_DATA_DIR = %q, want it left alone", got)
	}
	// The commands still read what was there, through getenv.
	cfg, err := config.Load(config.Flags{}, getenv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MasterKey != keyText || cfg.MasterPassphrase != "correct horse battery staple" || cfg.DataDir != "/srv/hotline" {
		t.Errorf("config from the returned getenv: key %v, passphrase %v, data_dir %q; want both secrets and /srv/hotline",
			cfg.MasterKey == keyText, cfg.MasterPassphrase != "", cfg.DataDir)
	}
}

func TestMasterKeySourceChecksThePassphrase(t *testing.T) {
	loose := filepath.Join(t.TempDir(), "passphrase")
	if err := os.WriteFile(loose, []byte("correct horse battery staple\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(loose, 0o644); err != nil {
		t.Fatal(err)
	}
	short := filepath.Join(t.TempDir(), "passphrase")
	if err := os.WriteFile(short, []byte("hunter2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(t.TempDir(), "passphrase")
	if err := os.WriteFile(good, []byte("correct horse battery staple\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		cfg     config.Config
		wantErr string // substring; "" means accepted
	}{
		{"short variable", config.Config{MasterPassphrase: "hunter2"}, "HOTLINE_MASTER_PASSPHRASE: the passphrase has 7 characters, it needs at least 16"},
		{"short file", config.Config{MasterPassphraseFile: short}, "master_passphrase_file: master passphrase file " + short + ": the passphrase has 7 characters"},
		{"loose file", config.Config{MasterPassphraseFile: loose}, "has mode 0644"},
		{"good variable", config.Config{MasterPassphrase: "correct horse battery staple"}, ""},
		{"good file", config.Config{MasterPassphraseFile: good}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := masterKeySource(tt.cfg)
			if tt.wantErr == "" {
				if err != nil || string(src.Passphrase) != "correct horse battery staple" {
					t.Fatalf("masterKeySource = %d-byte passphrase, %v; want the passphrase, nil", len(src.Passphrase), err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("masterKeySource error = %v, want one containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error repeats the passphrase: %v", err)
			}
		})
	}
}
