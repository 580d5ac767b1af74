package config_test

import (
	"strings"
	"testing"

	"github.com/hotline-az/hotline/config"
)

func TestMinFreeSpace(t *testing.T) {
	none := func(string) string { return "" }
	cfg, err := config.Load(config.Flags{}, none)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MinFreeSpace != 1<<30 {
		t.Fatalf("default: got %d, want 1 GiB", cfg.MinFreeSpace)
	}
	file := writeFile(t, "hotline.toml", "min_free_space = \"500MB\"\n")
	if cfg, err = config.Load(config.Flags{ConfigFile: file}, none); err != nil || cfg.MinFreeSpace != 500_000_000 {
		t.Fatalf("file: got %d, %v, want 500000000", cfg.MinFreeSpace, err)
	}
	env := map[string]string{"HOTLINE_MIN_FREE_SPACE": "2GiB"}
	if cfg, err = config.Load(config.Flags{ConfigFile: file}, func(k string) string { return env[k] }); err != nil || cfg.MinFreeSpace != 2<<30 {
		t.Fatalf("environment over file: got %d, %v, want 2 GiB", cfg.MinFreeSpace, err)
	}
	env["HOTLINE_MIN_FREE_SPACE"] = "lots"
	if _, err = config.Load(config.Flags{}, func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "HOTLINE_MIN_FREE_SPACE") {
		t.Fatalf("a bad size: got %v, want an error naming HOTLINE_MIN_FREE_SPACE", err)
	}
	bad := writeFile(t, "bad.toml", "min_free_space = \"-3\"\n")
	if _, err = config.Load(config.Flags{ConfigFile: bad}, none); err == nil || !strings.Contains(err.Error(), "min_free_space") {
		t.Fatalf("a negative size in the file: got %v, want an error naming min_free_space", err)
	}
}
