package ui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/gameday/gameday/ui/keys/keystest"
)

// TestGoldenServing is the facilitator's console while participants may
// join: how to join stays on screen and the key help gives the host key,
// which was printed before the console took the screen.
// Refresh with: go test ./ui -run TestGoldenServing -update
func TestGoldenServing(t *testing.T) {
	const join, hostKey = "ssh -p 2222 10.0.0.5", "SHA256:Xq3yPj0N4o6qV8wB6m0Qk3xk9bq2x1c7S4Jm8d5Tn2E"
	for _, tc := range []struct {
		name     string
		keys     []tea.KeyMsg
		thenWait string
	}{{"baseline", nil, ""}, {"help", []tea.KeyMsg{keystest.Press("?")}, "All keys"}} {
		atSizes(t, tc.name, goldenSizes, func(t *testing.T, sz [2]int) {
			c := consoleAt(t, stBaseline, false, Config{Shared: true, Join: join, HostKey: hostKey})
			view := requireGoldenModel(t, c.newModel(&fakeSender{}, nil), sz, "Δ", tc.keys, tc.thenWait).View()
			if !strings.Contains(view, "join: "+join) && !strings.Contains(view, "join with  "+join) {
				t.Errorf("the console does not say how to join:\n%s", view)
			}
			if tc.name == "help" && !strings.Contains(view, hostKey) {
				t.Errorf("the key help lacks the host key:\n%s", view)
			}
		})
	}
}
