package gamedays

import (
	"testing"
	"time"
)

func TestFormatDurationReadsLikeAPerson(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{350 * time.Millisecond, "350ms"},
		{1500 * time.Millisecond, "1.5s"},
		{10*time.Second + 9373180*time.Nanosecond, "10s"},
		{65 * time.Second, "1m05s"},
		{5 * time.Minute, "5m"},
		{2*time.Hour + 3*time.Minute + 20*time.Second, "2h03m"},
		{3 * time.Hour, "3h"},
		{-2 * time.Second, "-2s"},
	} {
		if got := FormatDuration(tc.d); got != tc.want {
			t.Errorf("FormatDuration(%s) = %q, want %q", tc.d, got, tc.want)
		}
	}
}
