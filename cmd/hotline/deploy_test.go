package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hotline-az/hotline/config"
)

// readDeployFile reads a file of the repository's deploy/ folder.
func readDeployFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "deploy", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// knownEnv returns the environment variables the configuration reads.
func knownEnv(t *testing.T) map[string]bool {
	t.Helper()
	known := map[string]bool{}
	if _, err := config.Load(config.Flags{}, func(k string) string { known[k] = true; return "" }); err != nil {
		t.Fatal(err)
	}
	return known
}

// TestDeployFilesMatchTheProgram keeps deploy/ in step with the code: the
// variables they set are ones hotline reads, the credential is the file
// the key variable names, the container is static and unprivileged, and
// the proxy passes on nothing but the webhooks and /healthz.
func TestDeployFilesMatchTheProgram(t *testing.T) {
	known := knownEnv(t)
	envName := regexp.MustCompile(`\b(?:HOTLINE|TWILIO)_[A-Z_]+\b`)

	unit := readDeployFile(t, "hotline.service")
	docker := readDeployFile(t, "Dockerfile")
	for file, text := range map[string]string{"hotline.service": unit, "Dockerfile": docker} {
		for _, name := range envName.FindAllString(text, -1) {
			if !known[name] {
				t.Errorf("deploy/%s names %s, which hotline does not read", file, name)
			}
		}
	}

	// The unit: the key arrives as a credential and the variable names it.
	for _, want := range []string{
		"ExecStart=/usr/local/bin/hotline serve --config /etc/hotline/hotline.toml",
		"LoadCredential=master.key:/etc/hotline/master.key",
		"Environment=HOTLINE_MASTER_KEY_FILE=%d/master.key",
		"StateDirectory=hotline", "ProtectSystem=strict", "NoNewPrivileges=yes", "PrivateTmp=yes",
		"Restart=on-failure", "RestartPreventExitStatus=2", "LimitCORE=0",
	} {
		if !strings.Contains(unit, want+"\n") {
			t.Errorf("deploy/hotline.service lacks %q", want)
		}
	}
	if strings.Contains(unit, "HOTLINE_MASTER_KEY=") || strings.Contains(unit, "HOTLINE_MASTER_PASSPHRASE=") {
		t.Error("deploy/hotline.service puts a secret in the environment")
	}
	if code, _, stderr := runCLI(t, "serve", "--config", filepath.Join(t.TempDir(), "hotline.toml")); code != 2 || !strings.Contains(stderr, "config file") {
		t.Errorf("serve --config as in the unit: exit %d, %q; want the config file read", code, stderr)
	}
	// Exit 2 must stay "bad configuration", which the unit does not restart.
	env := map[string]string{"HOTLINE_PUBLIC_URL": "ftp://x", "HOTLINE_DATA_DIR": t.TempDir()}
	if code := run(t.Context(), []string{"serve"}, nil, &strings.Builder{}, &strings.Builder{}, func(k string) string { return env[k] }); code != 2 {
		t.Errorf("serve with a bad configuration: exit %d, want 2 (RestartPreventExitStatus=2)", code)
	}

	// The image: static, stamped, unprivileged, data on the volume.
	for _, want := range []string{"CGO_ENABLED=0 go build", "-X main.Version=${VERSION}", "FROM gcr.io/distroless/static",
		"USER 65532:65532", "VOLUME /var/lib/hotline", "HOTLINE_DATA_DIR=/var/lib/hotline"} {
		if !strings.Contains(docker, want) {
			t.Errorf("deploy/Dockerfile lacks %q", want)
		}
	}

	// The proxy: what it forwards, and to where.
	nginx := readDeployFile(t, "nginx.conf")
	// Read it as nginx does, statement by statement, whatever the lines.
	var uncommented strings.Builder
	for _, line := range strings.Split(nginx, "\n") {
		code, _, _ := strings.Cut(line, "#")
		uncommented.WriteString(code + "\n")
	}
	var proxied, blocks []string
	for _, tok := range regexp.MustCompile(`[^{};]*[{};]`).FindAllString(uncommented.String(), -1) {
		stmt := strings.Join(strings.Fields(tok[:len(tok)-1]), " ")
		switch tok[len(tok)-1] {
		case '{':
			blocks = append(blocks, stmt)
		case '}':
			blocks = blocks[:max(len(blocks)-1, 0)]
		case ';':
			if !strings.HasPrefix(stmt, "proxy_pass ") {
				continue
			}
			where := "(no location)"
			if len(blocks) > 0 {
				where = strings.TrimPrefix(blocks[len(blocks)-1], "location ")
			}
			proxied = append(proxied, where)
			if stmt != "proxy_pass http://127.0.0.1:8080" {
				t.Errorf("deploy/nginx.conf: %q in %s: want the public listener, http://127.0.0.1:8080 with the URI unchanged", stmt, where)
			}
		}
	}
	slices.Sort(proxied)
	if want := []string{"/twilio/", "= /healthz"}; !slices.Equal(proxied, want) {
		t.Errorf("deploy/nginx.conf forwards %q, want exactly %q", proxied, want)
	}
	for _, want := range []string{"access_log off;", "client_max_body_size 64k;", "client_body_buffer_size 64k;", "location / {\n        return 404;"} {
		if !strings.Contains(nginx, want) {
			t.Errorf("deploy/nginx.conf lacks %q", want)
		}
	}
	if strings.Contains(nginx, "X-Forwarded-For $") || strings.Contains(nginx, "X-Real-IP $") {
		t.Error("deploy/nginx.conf passes the caller's address on")
	}
}
