package config_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotline-az/hotline/config"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPrecedenceFileEnvFlags(t *testing.T) {
	file := writeFile(t, "hotline.toml", `
addr = "127.0.0.1:9000"
data_dir = "/from/file"
public_url = "https://file.example.az"
case_window = "72h"
[twilio]
phone_number = "+994125550000"
numbers = ["+994125550001"]
`)
	env := map[string]string{"HOTLINE_DATA_DIR": "/from/env", "TWILIO_AUTH_TOKEN": "tok"}
	cfg, err := config.Load(config.Flags{ConfigFile: file, Addr: "127.0.0.1:9999"}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:9999" || cfg.DataDir != "/from/env" || cfg.PublicURL != "https://file.example.az" ||
		cfg.CaseWindow.Duration != 72*time.Hour || cfg.Twilio.AuthToken != "tok" || cfg.Twilio.PhoneNumber != "+994125550000" ||
		len(cfg.Twilio.Numbers) != 1 || cfg.Twilio.Numbers[0] != "+994125550001" {
		t.Fatalf("got %+v", cfg)
	}
}

func TestUnknownFieldIsNamed(t *testing.T) {
	file := writeFile(t, "hotline.toml", "adress = \"x\"\n")
	_, err := config.Load(config.Flags{ConfigFile: file}, func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), "adress") {
		t.Fatalf("got %v, want an error naming the unknown field", err)
	}
}

func TestValidateListsEveryProblem(t *testing.T) {
	cfg := config.Default()
	cfg.Addr = "nope"
	cfg.PublicURL = "http://hotline.example.az"
	cfg.MasterKey = "dG9vIHNob3J0"
	cfg.CaseWindow.Duration = time.Minute
	cfg.LogLevel = "loud"
	cfg.Replies = map[string]string{"fr": "Merci", "en": "no code here"}
	cfg.Twilio = config.Twilio{AccountSID: "AC123", PhoneNumber: "12", APIURL: "::", SecondaryAuthToken: "old-token"}
	err := cfg.Validate()
	if err == nil {
		t.Fatal("invalid config accepted")
	}
	for _, field := range []string{"addr (HOTLINE_ADDR, --addr)", "public_url (HOTLINE_PUBLIC_URL): must use https", "master key (HOTLINE_MASTER_KEY)",
		"case_window", "log_level", "replies.fr", "replies.en", "twilio.account_sid", "twilio.auth_token", "twilio.secondary_auth_token (TWILIO_SECONDARY_AUTH_TOKEN): must be letters and digits",
		"twilio.phone_number", "twilio.api_url"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("error does not name %q:\n%v", field, err)
		}
	}
	if strings.Contains(err.Error(), "dG9vIHNob3J0") {
		t.Error("the error repeats the secret master key")
	}
}

func TestDevNeedsNothing(t *testing.T) {
	cfg := config.Default()
	cfg.Dev = true
	if err := cfg.Validate(); err != nil {
		t.Fatalf("dev config: %v", err)
	}
}

func TestNormalizePhone(t *testing.T) {
	for in, want := range map[string]string{
		"+994501234567":     "+994501234567",
		"0501234567":        "+994501234567",
		"+994 50 123 45 67": "+994501234567",
		"+1 (555) 867-5310": "+15558675310",
	} {
		got, err := config.NormalizePhone(in)
		if err != nil || got != want {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "abc", "12"} {
		if _, err := config.NormalizePhone(bad); err == nil {
			t.Errorf("NormalizePhone(%q) accepted", bad)
		}
	}
}

func TestEscalationFromFile(t *testing.T) {
	file := writeFile(t, "hotline.toml", `
[escalation]
time_zone = "Europe/Berlin"
[escalation.p1]
repeat = 2
round_gap = "1m"
[[escalation.p1.step]]
after = "0s"
channels = ["sms", "call"]
target = "on_duty"
[[escalation.p1.step]]
after = "30s"
channels = ["call"]
target = "officer:Leyla Aliyeva"
`)
	cfg, err := config.Load(config.Flags{ConfigFile: file, Dev: true}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	p1 := cfg.Escalation.P1
	if cfg.Escalation.TimeZone != "Europe/Berlin" || len(p1.Steps) != 2 || p1.Steps[1].After.Duration != 30*time.Second ||
		p1.Steps[1].Target != "officer:Leyla Aliyeva" || p1.Repeat != 2 {
		t.Fatalf("got %+v", cfg.Escalation)
	}
	if len(cfg.Escalation.P2.Steps) != 3 {
		t.Fatalf("P2 should keep its default steps, got %+v", cfg.Escalation.P2)
	}
}

func TestEscalationErrorsNameTheStep(t *testing.T) {
	cfg := config.Default()
	cfg.Dev = true
	cfg.Escalation.TimeZone = "Mars/Olympus"
	cfg.Escalation.P1.Steps[1].Channels = []string{"pigeon"}
	cfg.Escalation.P1.Steps[2].After.Duration = time.Minute
	cfg.Escalation.P2.Steps[0].Target = "everyone"
	err := cfg.Validate()
	for _, want := range []string{"escalation.time_zone", "escalation.p1.step[1].channels", "escalation.p1.step[2].after", "escalation.p2.step[0].target"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
}

func TestSenderKey(t *testing.T) {
	for in, want := range map[string]string{
		"+994501234567":     "+994501234567", // as Twilio sends it
		" 0501234567 ":      "+994501234567", // national, read as Azerbaijani
		"+994 50 123 45 67": "+994501234567",
		"HOTLINE":           "HOTLINE", // an alphanumeric sender is kept, not refused
	} {
		if got := config.SenderKey(in); got != want {
			t.Errorf("SenderKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestInternalAddrMustStayOffTheInternet(t *testing.T) {
	for _, tc := range []struct {
		addr      string
		allow     bool
		wantError string // "" means accepted
	}{
		{"127.0.0.1:9090", false, ""},
		{"localhost:9090", false, ""},
		{"[::1]:9090", false, ""},
		{"10.1.2.3:9090", false, ""},
		{"192.168.0.7:9090", false, ""},
		{"[fd00::7]:9090", false, ""},
		{"0.0.0.0:9090", false, "listens on every interface"},
		{":9090", false, "listens on every interface"},
		{"[::]:9090", false, "listens on every interface"},
		{"203.0.113.5:9090", false, "--allow-public-internal"},
		{"metrics.example.az:9090", false, "is not a loopback or private"},
		{"203.0.113.5:9090", true, ""},
		{"nope", true, "must be host:port"},
		{"127.0.0.1:8080", false, "must differ from addr"},
		{"127.0.0.1:0", false, ""}, // tests: addr 127.0.0.1:0 too, each gets a free port
	} {
		cfg := config.Default()
		cfg.Dev = true
		cfg.InternalAddr = tc.addr
		cfg.AllowPublicInternal = tc.allow
		err := cfg.Validate()
		switch {
		case tc.wantError == "" && err != nil:
			t.Errorf("internal_addr %q (allow %v): refused: %v", tc.addr, tc.allow, err)
		case tc.wantError != "" && (err == nil || !strings.Contains(err.Error(), tc.wantError) ||
			!strings.Contains(err.Error(), "internal_addr (HOTLINE_INTERNAL_ADDR, --internal-addr)")):
			t.Errorf("internal_addr %q (allow %v): got %v, want an error naming the field and saying %q", tc.addr, tc.allow, err, tc.wantError)
		}
	}
}

func TestInternalAddrFromEnvAndFlag(t *testing.T) {
	env := map[string]string{"HOTLINE_INTERNAL_ADDR": "10.0.0.2:9100"}
	cfg, err := config.Load(config.Flags{}, func(k string) string { return env[k] })
	if err != nil || cfg.InternalAddr != "10.0.0.2:9100" {
		t.Fatalf("from env: got %q, %v", cfg.InternalAddr, err)
	}
	cfg, err = config.Load(config.Flags{InternalAddr: "127.0.0.1:9999", AllowPublicInternal: true}, func(k string) string { return env[k] })
	if err != nil || cfg.InternalAddr != "127.0.0.1:9999" || !cfg.AllowPublicInternal {
		t.Fatalf("flag over env: got %q allow=%v, %v", cfg.InternalAddr, cfg.AllowPublicInternal, err)
	}
	if def := config.Default().InternalAddr; def != "127.0.0.1:9090" {
		t.Fatalf("default internal_addr %q, want 127.0.0.1:9090", def)
	}
}

func TestValidateChecksThePassphrase(t *testing.T) {
	const good = "correct horse battery staple"
	loose := writeFile(t, "loose", good+"\n")
	if err := os.Chmod(loose, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		passphrase string
		file       string
		wantErr    string // substring; "" means valid
	}{
		{"good variable", good, "", ""},
		{"good file", "", writeFile(t, "good", good+"\n"), ""},
		{"short variable", "hunter2", "", "master passphrase (HOTLINE_MASTER_PASSPHRASE): the passphrase has 7 characters, it needs at least 16"},
		{"short file", "", writeFile(t, "short", "hunter2\n"), "master_passphrase_file (HOTLINE_MASTER_PASSPHRASE_FILE): master passphrase file"},
		{"file readable by others", "", loose, "has mode 0644"},
		{"missing file", "", filepath.Join(t.TempDir(), "nope"), "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Dev leaves everything else optional, so only the passphrase is judged.
			cfg := config.Default()
			cfg.Dev = true
			cfg.MasterPassphrase, cfg.MasterPassphraseFile = tt.passphrase, tt.file
			err := cfg.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate error = %v, want one containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error repeats the passphrase: %v", err)
			}
		})
	}
}

func TestValidateRefusesAnAuthTokenTwilioWouldRefuse(t *testing.T) {
	cfg := config.Default()
	cfg.Dev = true
	cfg.Twilio.AuthToken = "walkthrough-token"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "twilio.auth_token (TWILIO_AUTH_TOKEN): must be letters and digits") {
		t.Fatalf("Validate error = %v, want one naming twilio.auth_token", err)
	}
	if strings.Contains(fmt.Sprint(cfg.Validate()), "walkthrough") {
		t.Error("the error repeats the token")
	}
	cfg.Twilio.AuthToken = "0123456789abcdef0123456789abcdef"
	if err := cfg.Validate(); err != nil {
		t.Fatalf("a token like Twilio's: %v", err)
	}
}

func TestPublicURLWithPathQueryOrSlashIsRefused(t *testing.T) {
	for raw, want := range map[string]string{
		"https://hotline.example.az/":           `set public_url = "https://hotline.example.az" and point Twilio at https://hotline.example.az/twilio/sms`,
		"https://hotline.example.az/twilio/sms": `set public_url = "https://hotline.example.az"`,
		"https://hotline.example.az/hotline":    "without a path, query or trailing slash",
		"https://hotline.example.az?x=1":        "without a path, query or trailing slash",
		"https://hotline.example.az:8443/":      `set public_url = "https://hotline.example.az:8443"`,
		"https://hotline.example.az#frag":       "without a path",
		"https://user@hotline.example.az":       "without a path",
	} {
		cfg := config.Default()
		cfg.Dev = true
		cfg.PublicURL = raw
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), "public_url (HOTLINE_PUBLIC_URL)") || !strings.Contains(err.Error(), want) {
			t.Errorf("public_url %q: got %v, want an error saying %q", raw, err, want)
		}
	}
	cfg := config.Default()
	cfg.Dev = true
	for _, ok := range []string{"https://hotline.example.az", "https://hotline.example.az:8443", "http://127.0.0.1:8080"} {
		cfg.PublicURL = ok
		if err := cfg.Validate(); err != nil {
			t.Errorf("public_url %q refused: %v", ok, err)
		}
	}
}

func TestWebhookAccountAndNumbers(t *testing.T) {
	env := map[string]string{"HOTLINE_TWILIO_NUMBERS": "+994125550001, +994125550002"}
	cfg, err := config.Load(config.Flags{Dev: true}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	// --dev without an account: the fake account and number twilio-sim sends.
	if got := cfg.WebhookAccountSID(); got != config.DevAccountSID {
		t.Errorf("dev account: got %q, want %q", got, config.DevAccountSID)
	}
	if got := strings.Join(cfg.WebhookNumbers(), " "); got != config.DevPhoneNumber+" +994125550001 +994125550002" {
		t.Errorf("dev numbers: got %q", got)
	}
	// With an account, only the account and its numbers.
	cfg.Twilio.AccountSID = "AC" + strings.Repeat("1", 32)
	cfg.Twilio.PhoneNumber = "+994 12 555 00 00"
	cfg.Twilio.Numbers = nil
	if got := cfg.WebhookAccountSID(); got != cfg.Twilio.AccountSID {
		t.Errorf("account: got %q", got)
	}
	if got := strings.Join(cfg.WebhookNumbers(), " "); got != "+994125550000" {
		t.Errorf("numbers: got %q, want the hotline number in E.164", got)
	}
	cfg.Twilio.Numbers = []string{"0125550001", "+994125550002"}
	err = cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "twilio.numbers[0] (HOTLINE_TWILIO_NUMBERS)") || strings.Contains(err.Error(), "twilio.numbers[1]") {
		t.Fatalf("got %v, want an error naming twilio.numbers[0] only", err)
	}
}
