package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/hotline-az/hotline/console"
)

// TestRotaOperations drives rota set (keeping fields), remove-shift and
// override list|cancel through the CLI on a stopped server's data file.
func TestRotaOperations(t *testing.T) {
	e := newAdminEnv(t)
	for _, o := range adminOfficers {
		e.mustCLI(t, "officers", "add", "--name", o.name, "--phone", o.phone, "--role", o.role)
	}
	e.mustCLI(t, "rota", "set", "--day", "tue", "--start", "20:00", "--end", "08:00",
		"--officer", "Elvin Guliyev", "--backup", "Rashad Mammadov", "--supervisor", "Farid Ismayilov")
	out := e.mustCLI(t, "rota", "set", "--day", "tue", "--start", "20:00", "--officer", "Leyla Aliyeva")
	if !strings.Contains(out, "Leyla Aliyeva") || !strings.Contains(out, "Rashad Mammadov") || !strings.Contains(out, "Farid Ismayilov") {
		t.Errorf("rota set with --officer only dropped fields:\n%s", out)
	}
	if !strings.Contains(out, "warning: nobody on duty from Wed 08:00 to Tue 20:00, 6 days 12 hours") {
		t.Errorf("rota set: no gap warning with its length:\n%s", out)
	}
	var v console.RotaView
	if err := json.Unmarshal([]byte(e.mustCLI(t, "rota", "show", "--json")), &v); err != nil {
		t.Fatal(err)
	}
	want := console.ShiftSpec{Day: "tue", Start: "20:00", End: "08:00", Officer: "Leyla Aliyeva", Backup: "Rashad Mammadov", Supervisor: "Farid Ismayilov"}
	if len(v.Shifts) != 1 || v.Shifts[0] != want {
		t.Fatalf("shifts: got %+v, want %+v", v.Shifts, want)
	}

	out = e.mustCLI(t, "rota", "override", "--officer", "Aysel Huseynova", "--from", "now", "--hours", "24")
	id := regexp.MustCompile(`Override ([0-9a-f]{6}):`).FindStringSubmatch(out)
	if id == nil {
		t.Fatalf("override: %q", out)
	}
	out = e.mustCLI(t, "rota", "override", "list")
	if !regexp.MustCompile(`(?m)^` + id[1] + `\s+Aysel Huseynova\s+the shift's\s+.*\son$`).MatchString(out) {
		t.Errorf("override list:\n%s", out)
	}
	out = e.mustCLI(t, "rota", "override", "cancel", id[1])
	if !strings.Contains(out, "Cancelled override "+id[1]+" (Aysel Huseynova") {
		t.Errorf("override cancel: %q", out)
	}
	if out := e.mustCLI(t, "rota", "override", "list"); out != "No overrides.\n" {
		t.Errorf("override list after cancel: %q", out)
	}
	e.wantCLIError(t, 1, []string{"hotline rota override cancel: no override"}, "rota", "override", "cancel", id[1])
	e.wantCLIError(t, 2, []string{"give the override's ID"}, "rota", "override", "cancel")

	out = e.mustCLI(t, "rota", "remove-shift", "--day", "tue", "--start", "20:00")
	if !strings.Contains(out, "warning: nobody on duty all week (no shifts)") {
		t.Errorf("remove-shift: %q", out)
	}
	e.wantCLIError(t, 1, []string{"no shift starts on tue 20:00"}, "rota", "remove-shift", "--day", "tue", "--start", "20:00")
	e.wantCLIError(t, 2, []string{"--day, --start are required"}, "rota", "remove-shift")

	for _, args := range [][]string{{"rota", "remove-shift", "-h"}, {"rota", "override", "list", "-h"}, {"rota", "override", "cancel", "--help"}, {"rota", "set", "-h"}} {
		code, stdout, stderr := runCLI(t, args...)
		if code != 0 || !strings.Contains(stdout, "Usage: hotline") || !strings.Contains(stdout, "Example") || stderr != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
}

func TestOfficersUpdateCommand(t *testing.T) {
	e := newAdminEnv(t)
	e.mustCLI(t, "officers", "add", "--name", "Leyla Aliyeva", "--phone", "+994501110001", "--role", "officer")
	out := e.mustCLI(t, "officers", "update", "Leyla Aliyeva", "--phone", "+994501110009")
	if !strings.Contains(out, "A code goes by SMS to +99450*****09") || !strings.Contains(out, "until then they go to +99450*****01") {
		t.Errorf("update --phone: %q", out)
	}
	out = e.mustCLI(t, "officers", "update", "leyla aliyeva", "--phone", "+994501110008", "--no-verify", "--role", "supervisor")
	if !strings.Contains(out, "Updated Leyla Aliyeva (supervisor, +99450*****08)") || strings.Contains(out, "code") {
		t.Errorf("update --no-verify: %q", out)
	}
	if out = e.mustCLI(t, "officers", "update", "Leyla Aliyeva", "--lang", "az"); !strings.Contains(out, "Updated Leyla Aliyeva") {
		t.Errorf("update --lang: %q", out)
	}
	e.wantCLIError(t, 2, []string{"--lang: must be az, ru or en"}, "officers", "update", "Leyla Aliyeva", "--lang", "tr")
	e.wantCLIError(t, 2, []string{"give the officer's NAME"}, "officers", "update", "--role", "admin")
	e.wantCLIError(t, 1, []string{`no officer named "Nobody"`}, "officers", "update", "Nobody", "--role", "admin")
	if code, stdout, _ := runCLI(t, "officers", "update", "-h"); code != 0 || !strings.Contains(stdout, "Example") {
		t.Errorf("officers update -h: exit %d %q", code, stdout)
	}
}
