package crypto_test

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/hotline-az/hotline/crypto"
)

// encodings returns the ways a key's bytes could show up in text.
func encodings(raw []byte) map[string]string {
	return map[string]string{
		"raw":          string(raw),
		"hex":          hex.EncodeToString(raw),
		"HEX":          strings.ToUpper(hex.EncodeToString(raw)),
		"base64":       base64.RawStdEncoding.EncodeToString(raw),
		"base64url":    base64.RawURLEncoding.EncodeToString(raw),
		"decimal list": strings.Trim(fmt.Sprint(raw), "[]"),
		"go syntax":    strings.Trim(fmt.Sprintf("%#v", raw), "[]byte{}"),
	}
}

func TestNoKeyMaterialInOutput(t *testing.T) {
	master, err := crypto.ParseMasterKey(base64.StdEncoding.EncodeToString(rawKey))
	if err != nil {
		t.Fatal(err)
	}
	k := MustFixedKeyring(t, 2)
	var secrets [][]byte
	for _, b := range []byte{0x11, 0x22, 0x33} {
		a := fill(b)
		secrets = append(secrets, a[:])
	}
	secrets = append(secrets, rawKey)

	// A struct holding keys in exported and unexported fields, as a
	// config or server struct might.
	type holder struct {
		Master  crypto.MasterKey
		master  crypto.MasterKey
		Keyring *crypto.Keyring
		keyring *crypto.Keyring
	}
	h := holder{master, master, k, k}

	var outputs []string
	const verbs = "%v %+v %#v %s %x %X %d %q"
	for _, v := range []any{master, &master, k, h, &h} {
		outputs = append(outputs, fmt.Sprintf(verbs, v, v, v, v, v, v, v, v))
		outputs = append(outputs, fmt.Sprint(v), fmt.Sprintln(v))
	}
	for _, v := range []any{master, k, h} {
		j, err := json.Marshal(v)
		outputs = append(outputs, string(j), fmt.Sprint(err))
	}
	var log strings.Builder
	for _, handler := range []slog.Handler{slog.NewTextHandler(&log, nil), slog.NewJSONHandler(&log, nil)} {
		slog.New(handler).Info("oops", "master", master, "keyring", k)
	}
	outputs = append(outputs, log.String())

	for _, out := range outputs {
		for _, raw := range secrets {
			for name, enc := range encodings(raw) {
				if strings.Contains(out, enc) {
					t.Errorf("output contains key bytes (%s):\n%s", name, out)
				}
			}
		}
	}
	if got := fmt.Sprintf("%v %s %#v", master, k, master); got != "[redacted] [redacted] [redacted]" {
		t.Errorf("formatted = %q, want %q", got, "[redacted] [redacted] [redacted]")
	}
	for _, v := range []any{master, k} {
		if _, err := json.Marshal(v); err == nil {
			t.Errorf("json.Marshal(%T) error = nil, want one", v)
		}
	}
	if _, err := master.MarshalText(); err == nil {
		t.Errorf("MarshalText error = nil, want one")
	}
}
