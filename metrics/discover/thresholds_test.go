package discover

import (
	"math"
	"testing"

	"github.com/gameday/gameday/runbook"
)

func TestSig(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{0.1103, "0.12"}, {110.3, "120"}, {110, "110"}, {1.52, "1.6"}, {99.99, "100"}, {0.0234, "0.024"}, {7, "7"}, {1234, "1300"}, {0, "0"},
	} {
		if got := sig(tc.in); got != tc.want {
			t.Errorf("sig(%g) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestThresholdsParse(t *testing.T) {
	cases := []Thresholds{
		LatencyThresholds(Candidate{GroupLabel: "job", Group: "a", Now: 0.08, Recent: 0.0734}),
		LatencyThresholds(Candidate{GroupLabel: "job", Group: "a", Now: 2.2, Recent: math.NaN()}),
		LatencyThresholds(Candidate{GroupLabel: "job", Group: "a", Now: math.NaN(), Recent: math.NaN()}),
		ErrorThresholds(Candidate{GroupLabel: "job", Group: "a", Now: 0, Recent: 0}),
		ErrorThresholds(Candidate{GroupLabel: "job", Group: "a", Now: 0.02, Recent: 0.021}),
		ErrorThresholds(Candidate{GroupLabel: "job", Group: "a", Now: math.NaN(), Recent: math.NaN()}),
	}
	for _, th := range cases {
		for _, s := range []string{th.Steady, th.Guard} {
			if _, err := runbook.ParseThreshold(s); err != nil {
				t.Errorf("%q does not parse: %v", s, err)
			}
		}
	}
	if got := cases[0]; got.Steady != "< 120ms" || got.Guard != "> 230ms for 30s" {
		t.Errorf("latency from 73.4ms: %+v", got)
	}
	if got := cases[3]; got.Steady != "< 1%" || got.Guard != "> 5% for 30s" {
		t.Errorf("errors from 0: %+v", got)
	}
	if got := cases[4]; got.Steady != "< 6.3%" || got.Guard != "> 21% for 30s" {
		t.Errorf("errors from 2.1%%: %+v", got)
	}
}
