package ui

import (
	"strings"
	"testing"

	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/ui/serve"
)

// A participant's footer shows only the keys their role may use, and says
// who can abort when they cannot.
func TestFooterFitsTheRole(t *testing.T) {
	tests := []struct {
		stage     stage
		who       serve.Who
		want, not []string
	}{
		{stBlast, serve.Who{Name: "Dee", Role: runbook.RoleObserver},
			[]string{"abort: the facilitator or a safety officer", "t timeline"}, []string{"Y confirm", "n note", "ctrl+x ABORT"}},
		{stHypothesis, serve.Who{Name: "Ben", Role: runbook.RoleScribe, Abort: true},
			[]string{"n note", "p prediction", "ctrl+x ABORT"}, []string{"enter continue"}},
		{stBlast, serve.Who{Name: "Ana", Role: runbook.RoleFacilitator, Abort: true},
			[]string{"Y confirm", "ctrl+x ABORT"}, nil},
	}
	for _, tc := range tests {
		hs := newHarness(t, tc.stage, 120, 30)
		hs.m.participant, hs.m.who = true, tc.who
		footer := hs.m.footer()
		for _, w := range tc.want {
			if !strings.Contains(footer, w) {
				t.Errorf("%s at stage %d: footer %q lacks %q", tc.who.Role, tc.stage, footer, w)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(footer, n) {
				t.Errorf("%s at stage %d: footer %q shows %q", tc.who.Role, tc.stage, footer, n)
			}
		}
	}
	// The facilitator at their own terminal sees every key, as before.
	hs := newHarness(t, stBlast, 120, 30)
	if f := hs.m.footer(); !strings.Contains(f, "Y confirm") || !strings.Contains(f, "ctrl+x ABORT") {
		t.Errorf("facilitator footer %q", f)
	}
}
