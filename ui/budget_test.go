package ui

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/runbook"
)

// The blast-radius screen prices the plan against the SLO: one of three
// members for 30s is 10s of a 99.9%-over-30-days budget (43m12s). The
// remaining budget is asked once for every console of the game day.
func TestBlastRadiusPricesTheErrorBudget(t *testing.T) {
	tests := []struct {
		name string
		left float64
		err  error
		want []string
		warn bool
	}{
		{"whole budget", 1, nil, []string{"Error budget (SLO 99.9% over 720h): planned blast costs up to 10s of error budget, 0% of the 43m12s left"}, false},
		{"almost spent", 0.001, nil, []string{"WARNING: planned blast costs up to 10s of error budget, 386% of the 3s left", "(above the runbook's warning level)"}, true},
		{"query failed", 1, errors.New("connection refused"), []string{"43m12s left", "the budget left is unknown (connection refused); priced against the whole budget"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rb := parseRunbook(t)
			rb.SLO = &runbook.SLO{Objective: 0.999, Window: 720 * time.Hour, WarnAbove: 0.25}
			evs, now := scriptAt(stBlast)
			asked := 0
			c := New(Config{Runbook: rb, File: "checkout.yaml", Remaining: func(context.Context) (float64, error) {
				asked++
				return tc.left, tc.err
			}})
			c.clock = func() time.Time { return now }
			var views []string
			for range 2 { // the facilitator and a participant
				m := c.newModel(&fakeSender{}, nil)
				m.Update(tea.WindowSizeMsg{Width: 160, Height: 50})
				m.Update(eventsMsg(evs))
				if !strings.Contains(m.View(), "asking how much is left") {
					t.Fatalf("before the answer:\n%s", m.View())
				}
				blast := m.screens[gamedays.PhaseBlastRadius].(*blastScreen)
				blast.budget.asked = false // handleEvents asked in a command it returned; run it here
				m.Update(blast.askBudget()())
				views = append(views, m.View())
			}
			if asked != 1 {
				t.Errorf("the remaining budget was asked %d times, want once", asked)
			}
			for _, v := range views {
				for _, w := range tc.want {
					if !strings.Contains(v, w) {
						t.Errorf("the blast radius lacks %q:\n%s", w, v)
					}
				}
				if strings.Contains(v, "WARNING") != tc.warn {
					t.Errorf("warning shown: %v, want %v", !tc.warn, tc.warn)
				}
			}
		})
	}
}
