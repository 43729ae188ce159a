package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/lab/e2e"
)

// TestConsoleEscalatesInStages drives the real binary's console in tmux
// through the lab's escalating-latency scenario with --confirm-each-stage,
// keys only: the blast radius shows the plan as hosts × stages, each stage
// is started with Y once the one before has held, the header and the
// attacks screen say the stage under way while the lab hosts carry exactly
// that stage's faults, and the run is refuted at stage 3 with every host
// clean.
func TestConsoleEscalatesInStages(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a staged lab run of about 80s")
	}
	// It waits on a lab of its own most of the time: it runs beside the
	// other lab tests, as many at once as -parallel allows.
	t.Parallel()
	e2e.Need(t, "tmux")
	c := startConsoleScenario(t, "escalating-latency", 200, 50, []string{"--confirm-each-stage"})
	c.phase(t, 30*time.Second, "BASELINE")
	c.phase(t, 30*time.Second, "HYPOTHESIS", "However far the latency escalates")
	c.press(t, c.km.Next)

	s := c.phase(t, 20*time.Second, "BLAST RADIUS", "Press Y", "stage 1", "stage 2", "stage 3",
		"Each stage after the first waits for Y before it starts", "s stop asking before each stage")
	// The plan, hosts × stages: one host from stage 1, one more at 2, the
	// last at 3, each at its stage's delay.
	var rows []string
	for _, line := range strings.Split(s, "\n") {
		if f := strings.Fields(line); len(f) >= 4 && strings.HasPrefix(f[0], "checkout-") {
			rows = append(rows, strings.Join(f[:4], " "))
		}
	}
	if len(rows) != 3 || !strings.HasSuffix(rows[0], "100ms 200ms 400ms") || !strings.HasSuffix(rows[1], "· 200ms 400ms") || !strings.HasSuffix(rows[2], "· · 400ms") {
		t.Fatalf("stage grid rows %q, want one host from each stage on:\n%s", rows, s)
	}
	if f := c.faults(); len(f) > 0 {
		t.Fatalf("injected before the plan was confirmed: %v", f)
	}
	c.press(t, c.km.Confirm)

	words := []string{"1 of checkout at 100ms", "2 of checkout at 200ms", "all of checkout at 400ms"}
	for n := 1; n <= 3; n++ {
		c.phase(t, 30*time.Second, fmt.Sprintf("RUN · STAGE %d/3", n), fmt.Sprintf("Stage %d of 3: %s", n, words[n-1]))
		c.waitFaults(t, n)
		if n == 3 {
			break
		}
		// Held, the stage waits for Y with its faults still in place.
		c.phase(t, 60*time.Second, fmt.Sprintf("RUN · STAGE %d/3", n),
			fmt.Sprintf("Stage %d of 3 held. Press Y to start stage %d", n, n+1), fmt.Sprintf("Y start stage %d", n+1), fmt.Sprintf("stage %d ✓ held", n))
		if f := c.faults(); len(f) != n {
			t.Fatalf("while stage %d waits, the lab hosts have %v, want stage %d's %d", n+1, f, n, n)
		}
		c.press(t, c.km.Confirm)
	}

	c.phase(t, 90*time.Second, "CONCLUDE", "held through stage 2 of 3 (2 of checkout at 200ms); refuted at stage 3")
	c.press(t, c.km.Leave)
	if code := c.tmux.Wait(20 * time.Second); code != exitRefuted {
		t.Fatalf("exit %d, want %d (refuted)", code, exitRefuted)
	}
	c.checkClean(t)
	dir := c.runDir(t)
	events := checkJournal(t, dir, string(gamedays.VerdictRefuted))
	confirmed := 0
	for _, ev := range events {
		if ev.Type == gamedays.EvStageConfirm && ev.OK != nil && *ev.OK && ev.Source == "key" {
			confirmed++
		}
	}
	if confirmed != 2 {
		t.Errorf("%d stage confirmations by key in the journal, want 2", confirmed)
	}
	checkReport(t, dir)
}

// waitFaults waits until exactly n lab hosts carry a latency fault.
func (c *consoleRun) waitFaults(t *testing.T, n int) {
	t.Helper()
	e2e.Eventually(t, 10*time.Second, func() string {
		if f := c.faults(); len(f) != n {
			return fmt.Sprintf("the lab hosts have %v, want %d latency fault(s)", f, n)
		}
		return ""
	})
}
