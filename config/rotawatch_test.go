package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hotline-az/hotline/config"
)

// TestRotaLookAheadDurations: gap_warning and shift_reminder are off (0)
// or between 5 minutes and a week; anything else is named.
func TestRotaLookAheadDurations(t *testing.T) {
	for _, tc := range []struct {
		gap, remind time.Duration
		want        []string
	}{
		{2 * time.Hour, 0, nil},
		{0, 30 * time.Minute, nil},
		{time.Minute, 0, []string{"escalation.gap_warning"}},
		{0, 8 * 24 * time.Hour, []string{"escalation.shift_reminder"}},
		{-time.Hour, time.Second, []string{"escalation.gap_warning", "escalation.shift_reminder"}},
	} {
		c := config.Default()
		c.Dev = true
		c.MasterKey = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
		c.Escalation.GapWarning = config.Duration{Duration: tc.gap}
		c.Escalation.ShiftReminder = config.Duration{Duration: tc.remind}
		err := c.Validate()
		got := ""
		if err != nil {
			got = err.Error()
		}
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("gap %s remind %s: error %q does not name %s", tc.gap, tc.remind, got, w)
			}
		}
		if len(tc.want) == 0 && strings.Contains(got, "escalation.") {
			t.Errorf("gap %s remind %s: refused: %v", tc.gap, tc.remind, err)
		}
	}
}
