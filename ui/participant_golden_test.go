package ui

import (
	"io"
	"strings"
	"testing"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/ui/serve"
)

// TestGoldenParticipant renders what a drill's responder and an observer
// see over SSH at each phase: the same events as the facilitator's, through
// their own console. Refresh with: go test ./ui -run TestGoldenParticipant -update
func TestGoldenParticipant(t *testing.T) {
	cases := []goldenStage{
		{"hypothesis", stHypothesis, "Hypothesis"},
		{"blast_radius", stBlast, "Blast radius"},
		{"run", stRun, "Δ"},
		{"aborted", stAborted, "ABORTED"},
		{"conclude", stConclude, "Action items"},
		{"ended", stEnded, "has ended"},
	}
	roles := []struct {
		role  string
		drill bool
	}{{runbook.RoleResponder, true}, {runbook.RoleObserver, false}}
	for _, rl := range roles {
		for _, tc := range cases {
			atSizes(t, rl.role+"_"+tc.name, goldenSizes, func(t *testing.T, sz [2]int) {
				c := consoleAt(t, tc.stage, false, Config{Shared: true, Drill: rl.drill})
				q := newQueue()
				for _, ev := range c.history.events() {
					q.push(ev)
				}
				who := serve.Who{Name: "dee", Role: rl.role}
				m := c.guestModel(JoinOptions{Who: who, Width: sz[0], Height: sz[1], Input: strings.NewReader(""), Output: io.Discard,
					Send: func(i gamedays.Intent) error { return gamedays.Permit(gamedays.Actor(who), i) }}, q, c.stop)
				view := requireGoldenModel(t, m, sz, tc.wait, nil, "").View()
				if rl.role == runbook.RoleResponder {
					for _, leak := range []string{"checkout.yaml", "slow on", "Nothing had been injected", "press Y", "Plan"} {
						if strings.Contains(view, leak) {
							t.Errorf("a responder's %s view shows %q:\n%s", tc.name, leak, view)
						}
					}
				}
				if strings.Contains(view, "RUN_DIR") || strings.Contains(view, "/var/lib/gameday/r1") {
					t.Errorf("a participant's view names a run directory they cannot write to:\n%s", view)
				}
			})
		}
	}
}
