package ui

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/gameday/gameday/ui/keys/keystest"
)

// TestGolden renders every phase at the smallest and a large size through a
// real Bubble Tea program. Refresh with: go test ./ui -run TestGolden -update
func TestGolden(t *testing.T) {
	cases := []struct {
		name  string
		stage stage
		// wait is text that appears only once the screen is complete: for
		// screens with charts, the delta beside a series, which needs the
		// baseline window the events give and a refresh after them.
		wait string
		// then, keys to press and the text that shows they took effect.
		keys     []tea.KeyMsg
		thenWait string
	}{
		{"baseline", stBaseline, "Δ", nil, ""},
		{"blocked", stBlocked, "Δ", nil, ""},
		{"hypothesis", stHypothesis, "Predictions", nil, ""},
		{"blast_radius", stBlast, "Press Y", nil, ""},
		{"preflight_failed", stPreflightFailed, "Stopped before", nil, ""},
		{"run", stRun, "Δ", nil, ""},
		{"observe", stObserve, "Δ", nil, ""},
		{"aborted", stAborted, "Δ", nil, ""},
		{"conclude", stConclude, "Action items", nil, ""},
		{"ended", stEnded, "has ended", nil, ""},
		{"timeline", stObserve, "Δ", []tea.KeyMsg{keystest.Press("t")}, "Timeline ("},
		{"help", stRun, "Δ", []tea.KeyMsg{keystest.Press("?")}, "All keys"},
		{"note", stObserve, "Δ", append([]tea.KeyMsg{keystest.Press("f")}, typed("retries hide web-2")...), "retries hide web-2"},
	}
	for _, tc := range cases {
		atSizes(t, tc.name, goldenSizes, func(t *testing.T, sz [2]int) {
			c := consoleAt(t, tc.stage, tc.stage == stObserve, Config{})
			requireGoldenView(t, c, sz, tc.wait, tc.keys, tc.thenWait)
		})
	}
}

// goldenStage is a golden view of the console at a stage of the script:
// the subtest's name, the stage, and text that appears only once that
// screen is complete (as TestGolden's wait).
type goldenStage struct {
	name  string
	stage stage
	wait  string
}

// goldenSizes are the terminal sizes a golden view is rendered at: the
// smallest the console supports, a common one and a large one.
var goldenSizes = [][2]int{{80, 24}, {120, 40}, {200, 50}}

// atSizes runs f as a subtest per size, named name_WxH, which names its
// golden file.
func atSizes(t *testing.T, name string, sizes [][2]int, f func(t *testing.T, size [2]int)) {
	t.Helper()
	for _, sz := range sizes {
		t.Run(fmt.Sprintf("%s_%dx%d", name, sz[0], sz[1]), func(t *testing.T) { f(t, sz) })
	}
}

// consoleAt is the checkout console that has seen the script up to a stage
// and the engine's live judgement after it, its metrics with a gap when gap
// is set. cfg gives what the test adds to the runbook, metrics and run
// directory (sharing, a drill, how to join).
func consoleAt(t *testing.T, to stage, gap bool, cfg Config) *Console {
	t.Helper()
	rb := parseRunbook(t)
	evs, now := scriptAt(to)
	obs := newStaticObserver(rb, instances, int(now.Sub(t0)/time.Second)+1, now, gap)
	cfg.Runbook, cfg.File, cfg.RunDir, cfg.Metrics, cfg.Version = rb, "checkout.yaml", "/var/lib/gameday/r1", obs, "test"
	c := New(cfg)
	c.clock = func() time.Time { return now }
	t.Cleanup(c.close)
	for _, ev := range evs {
		c.OnEvent(ev)
	}
	c.OnEvent(liveAfter(rb, obs, evs, now))
	return c
}

// requireGoldenView runs c's console in a real Bubble Tea program at size,
// waits for wait, presses keys and waits for thenWait, and compares the
// final view with the test's golden file.
func requireGoldenView(t *testing.T, c *Console, size [2]int, wait string, keys []tea.KeyMsg, thenWait string) {
	t.Helper()
	requireGoldenModel(t, c.newModel(&fakeSender{}, nil), size, wait, keys, thenWait)
}

// requireGoldenModel is requireGoldenView for a model built otherwise (a
// participant's); it returns the final model.
func requireGoldenModel(t *testing.T, m *model, size [2]int, wait string, keys []tea.KeyMsg, thenWait string) *model {
	t.Helper()
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(size[0], size[1]))
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(wait)) },
		teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(5*time.Millisecond))
	if len(keys) > 0 {
		for _, k := range keys {
			tm.Send(k)
		}
		teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(thenWait)) },
			teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(5*time.Millisecond))
	}
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).(*model)
	golden.RequireEqual(t, []byte(fm.View()))
	return fm
}

func typed(s string) []tea.KeyMsg {
	var out []tea.KeyMsg
	for _, r := range s {
		out = append(out, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
	return out
}
