package report

import (
	"slices"
	"testing"

	"github.com/gameday/gameday/runbook"
)

func TestPredictedPanels(t *testing.T) {
	panels := []runbook.Panel{{Name: "p95", Title: "P95 latency"}, {Name: "error_rate", Title: "Error rate"}}
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"web-2 p95 rises to 350ms, the others stay flat", []string{"p95"}},
		{"the error rate stays under 1%", []string{"error_rate"}},
		{"error_rate[web-2] jumps", []string{"error_rate"}},
		{"P95 latency doubles and the error rate follows", []string{"p95", "error_rate"}},
		{"nobody notices", []string{"p95", "error_rate"}},
		{"p950 is not a panel", []string{"p95", "error_rate"}},
	} {
		if got := PredictedPanels(tc.text, panels); !slices.Equal(got, tc.want) {
			t.Errorf("%q: %v, want %v", tc.text, got, tc.want)
		}
	}
}
