package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/console"
)

// `hotline cases show` names the workflow steps as the console does,
// the reopening included.
func TestCasesShowPrintsAReopening(t *testing.T) {
	at := time.Date(2026, 12, 2, 13, 0, 0, 0, time.UTC)
	d := console.CaseDetail{CaseView: console.CaseView{Code: "MQDXFY", State: hotline.WorkInProgress, Status: hotline.CaseOpen},
		History: []console.WorkView{
			{State: hotline.WorkClosed, By: "Leyla Aliyeva", At: at},
			{State: hotline.WorkInProgress, By: "Leyla Aliyeva", At: at.Add(time.Hour), Reopened: true},
		}}
	var out bytes.Buffer
	printCase(&out, d)
	for _, want := range []string{"status open, in_progress", "2026-12-02 13:00  closed by Leyla Aliyeva", "2026-12-02 14:00  reopened, in_progress by Leyla Aliyeva"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("cases show lacks %q:\n%s", want, out.String())
		}
	}
}
