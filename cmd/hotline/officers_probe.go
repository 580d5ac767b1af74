package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/console"
)

const officersTestUsage = `Usage: hotline officers test NAME [--wait DURATION] [--json]

Sends a test SMS and a test call to the officer's number through the
running server, the way alerts go (Twilio, status callbacks, the call's
"press 1"), and reports what Twilio said about each. No case or alert is
opened; the test is in the audit log. It needs 'hotline serve' running on
--data. It waits up to --wait for the SMS to be delivered and the call to
end, printing each change.

Exit status: 0 when both got through, 1 when either was refused or
reported failed, 3 when Twilio had not said how either ended within --wait
(with 'serve --dev' alone nothing ever reports: start it with --dev-fail or
--dev-unanswered, or send the status by hand with 'twilio-sim status').

Example:
  hotline officers test "Leyla Aliyeva"
`

func runOfficersTest(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	c := newAdminCmd(ctx, "officers test", officersTestUsage, stdout, stderr, getenv)
	wait := c.fs.Duration("wait", 90*time.Second, "how long to wait for delivery and the call's end")
	asJSON := c.fs.Bool("json", false, "print the final result as JSON")
	pos, code, ok := c.parse(args)
	switch {
	case !ok:
		return code
	case len(pos) == 0:
		return c.usageErr("give the officer's NAME (see hotline officers list)")
	case len(pos) > 1:
		return c.usageErr("unexpected argument %q (quote a name with spaces)", pos[1])
	case *wait < 0 || *wait > 10*time.Minute:
		return c.usageErr("--wait: %s is not between 0s and 10m", *wait)
	}
	failed, unknown := false, false
	code = c.run(func(ctx context.Context, svc console.AdminService) error {
		if _, viaSocket := svc.(*console.AdminClient); !viaSocket {
			return hotline.Errorf(hotline.ECONFLICT, "the server is not running on this data directory: a test is sent by 'hotline serve' (start it, then run this again)")
		}
		v, err := svc.TestOfficer(ctx, pos[0])
		if err != nil {
			return err
		}
		if !*asJSON {
			fmt.Fprintf(c.stdout, "Testing %s (%s): a test SMS and a test call, no case opened.\n", v.Officer, v.Phone)
		}
		last := map[string]string{}
		deadline := time.Now().Add(*wait)
		for {
			if v, err = svc.OfficerTestResult(ctx, v.SMS.Job, v.Call.Job); err != nil {
				return err
			}
			for _, at := range []struct {
				what string
				a    console.TestAttemptView
			}{{"SMS", v.SMS}, {"call", v.Call}} {
				if s := describeTest(at.a); s != last[at.what] && !*asJSON {
					fmt.Fprintf(c.stdout, "  %-4s  %s\n", at.what, s)
					last[at.what] = s
				}
			}
			if (v.SMS.Final && v.Call.Final) || !time.Now().Before(deadline) {
				break
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Second):
			}
		}
		failed = testFailed(v.SMS) || testFailed(v.Call)
		unknown = !failed && (!v.SMS.Final || !v.Call.Final)
		if *asJSON {
			return c.printJSON(v)
		}
		switch {
		case failed:
			fmt.Fprintf(c.stdout, "%s cannot be reached by every way alerts use: fix the number (hotline officers update) or ask Twilio why.\n", v.Officer)
		case !v.SMS.Final || !v.Call.Final:
			fmt.Fprintf(c.stdout, "Twilio had not reported how it ended within %s (a phone that is off can take minutes): run it again with a longer --wait.\n", *wait)
		default:
			fmt.Fprintf(c.stdout, "%s can be reached.\n", v.Officer)
		}
		return nil
	})
	switch {
	case code == 0 && failed:
		return 1
	case code == 0 && unknown:
		return exitOutcomeUnknown
	}
	return code
}

// exitOutcomeUnknown is officers test's exit status when Twilio had not
// reported how the SMS or the call ended: not a success a script may rely on.
const exitOutcomeUnknown = 3

func testFailed(a console.TestAttemptView) bool {
	return a.State == hotline.JobDead || a.State == hotline.JobFailed || a.State == hotline.JobUncertain
}

// describeTest says in words where a test SMS or call is.
func describeTest(a console.TestAttemptView) string {
	switch a.State {
	case hotline.JobPending, hotline.JobSending:
		return "handing to Twilio..."
	case hotline.JobDead:
		return "REFUSED by Twilio: " + a.LastError
	case hotline.JobUncertain:
		return "no answer from Twilio: " + a.LastError
	case hotline.JobCancelled:
		return "not sent: " + a.LastError
	case hotline.JobFailed:
		s := "FAILED"
		if a.Delivery != "" && a.Delivery != "failed" {
			s += ": " + a.Delivery
		}
		if a.ErrorCode != 0 {
			s += fmt.Sprintf(" (error %d)", a.ErrorCode)
		}
		if a.LastError != "" {
			s += ": " + a.LastError
		}
		return s
	case hotline.JobDelivered:
		if a.Pressed {
			return a.Delivery + ", 1 pressed: the phone works"
		}
		return a.Delivery
	}
	s := "accepted by Twilio"
	if a.Delivery != "" {
		s += ", " + a.Delivery
	}
	if a.Pressed {
		s += ", 1 pressed: the phone works"
	}
	return s
}
