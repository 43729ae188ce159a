package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/bubbles/key"

	"github.com/gameday/gameday/gamedays"
	sandbox "github.com/gameday/gameday/lab"
	"github.com/gameday/gameday/lab/e2e"
	"github.com/gameday/gameday/ui/keys"
)

// consoleScale runs the lab scenario five times faster than written: a
// 12s baseline, a 24s attack and a 24s observe.
const consoleScale = 0.2

// consoleRun is gameday run, console and all, in a tmux pane against a lab
// started in this process, so the test sees both the screen and the hosts.
type consoleRun struct {
	lab     *sandbox.Lab
	tmux    *e2e.Tmux
	runsDir string
	km      keys.KeyMap
}

// startConsoleLab starts a lab and writes its latency-one-host game day,
// at consoleScale and with extra appended, into dir; it returns once the
// lab's metrics are warm.
func startConsoleLab(t *testing.T, dir, extra string) (*sandbox.Lab, string) {
	t.Helper()
	return startLabScenario(t, "latency-one-host", dir, extra)
}

// startLabScenario is startConsoleLab for any lab scenario.
func startLabScenario(t *testing.T, scenario, dir, extra string) (*sandbox.Lab, string) {
	t.Helper()
	l, err := sandbox.Start(context.Background(), sandbox.Options{Seed: 3, HealthInterval: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	src, err := l.Runbook(scenario, consoleScale)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, scenario+".yaml")
	if err := os.WriteFile(file, append(src, extra...), 0o644); err != nil {
		t.Fatal(err)
	}
	warm, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := l.WaitForMetrics(warm); err != nil {
		t.Fatal(err)
	}
	return l, file
}

func startConsoleRun(t *testing.T, width, height int, extraEnv ...string) *consoleRun {
	t.Helper()
	return startConsoleScenario(t, "latency-one-host", width, height, nil, extraEnv...)
}

// startConsoleScenario is startConsoleRun on any lab scenario, with more
// flags for gameday run.
func startConsoleScenario(t *testing.T, scenario string, width, height int, flags []string, extraEnv ...string) *consoleRun {
	t.Helper()
	dir := t.TempDir()
	l, file := startLabScenario(t, scenario, dir, "")
	runsDir := filepath.Join(dir, "runs")
	// What gameday lab passes to runFile, as flags and environment; nothing
	// of the developer's agent, keys, Prometheus or AWS account.
	env := append([]string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "LANG=C.UTF-8", "TERM=xterm-256color",
		"AWS_REGION=" + l.AWS.Region, "AWS_ENDPOINT_URL=" + l.AWS.Endpoint,
		"AWS_ACCESS_KEY_ID=" + l.AWS.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + l.AWS.SecretAccessKey,
	}, extraEnv...)
	args := append([]string{binary(t), "run", file,
		"--prometheus", l.PrometheusURL, "-F", l.SSHConfigPath, "--known-hosts", l.KnownHostsPath,
		"-i", l.IdentityPath, "--runs-dir", runsDir}, flags...)
	x := e2e.StartTmux(t, width, height, env, args...)
	return &consoleRun{lab: l, tmux: x, runsDir: runsDir, km: keys.Default()}
}

// press sends the first key of a binding, in tmux's names.
func (c *consoleRun) press(t *testing.T, b key.Binding) {
	t.Helper()
	k := b.Keys()[0]
	switch {
	case k == "enter":
		k = "Enter"
	case k == "esc":
		k = "Escape"
	case strings.HasPrefix(k, "ctrl+"):
		k = "C-" + strings.TrimPrefix(k, "ctrl+")
	}
	c.tmux.Send(k)
}

// phase waits until the header names the phase and the screen holds every
// one of texts; the abort key must be on that screen too.
func (c *consoleRun) phase(t *testing.T, within time.Duration, header string, texts ...string) string {
	t.Helper()
	abort := c.km.Abort.Help().Key + " ABORT"
	want := append([]string{abort}, texts...)
	return c.tmux.WaitFor(within, header+" screen with "+strings.Join(want, ", "), func(s string) bool {
		lines := strings.SplitN(s, "\n", 3)
		if len(lines) < 2 || !strings.HasPrefix(lines[1], header+" ") {
			return false
		}
		for _, w := range want {
			if !strings.Contains(s, w) {
				return false
			}
		}
		return true
	})
}

var p95Side = regexp.MustCompile(`(?s)\[1\] p95\s+(\S+).*?base (\S+)`)

// p95 reads the current value and the baseline median beside the P95
// chart.
func p95(screen string) (now, base time.Duration, ok bool) {
	m := p95Side.FindStringSubmatch(screen)
	if m == nil {
		return 0, 0, false
	}
	now, err1 := time.ParseDuration(m[1])
	base, err2 := time.ParseDuration(m[2])
	return now, base, err1 == nil && err2 == nil && base > 0
}

// risen: the attack's 100ms on one host of three moves the edge P95 from
// about 50ms to about 150ms; half again over the baseline is well clear of
// noise.
func risen(now, base time.Duration) bool { return now > base*3/2 }

// faults lists every fault active on a lab host, as host: name.
func (c *consoleRun) faults() []string {
	var out []string
	for _, in := range c.lab.Fleet().Instances() {
		for _, f := range in.Faults() {
			out = append(out, in.Name()+": "+f.Name)
		}
	}
	return out
}

// checkClean fails unless no lab host has a fault and each says so itself.
func (c *consoleRun) checkClean(t *testing.T) {
	t.Helper()
	if f := c.faults(); len(f) > 0 {
		t.Errorf("faults left on the lab hosts: %v", f)
	}
	for _, in := range c.lab.Fleet().Instances() {
		if out, _, _ := in.Exec("status"); !strings.Contains(out, "no active faults") {
			t.Errorf("%s status:\n%s", in.Name(), out)
		}
	}
}

// runDir is the one run directory the run made.
func (c *consoleRun) runDir(t *testing.T) string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(c.runsDir, "*"))
	if err != nil || len(dirs) != 1 {
		t.Fatalf("run directories in %s: %v (%v)", c.runsDir, dirs, err)
	}
	return dirs[0]
}

// checkJournal reads the run's journal back and checks it is complete:
// every attack rolled back with success, a verdict, and a run.end last.
func checkJournal(t *testing.T, dir, verdict string) []gamedays.Event {
	t.Helper()
	events := journal(t, dir)
	if len(events) == 0 || events[len(events)-1].Type != gamedays.EvRunEnd {
		t.Fatalf("journal does not end with %s: %d events", gamedays.EvRunEnd, len(events))
	}
	attacks := 0
	for _, ev := range events {
		if ev.Type != gamedays.EvAttackIntent || ev.Injection == nil {
			continue
		}
		attacks++
		in := ev.Injection
		var rolled bool
		for _, r := range events {
			if r.Type == gamedays.EvRollbackResult && r.Injection != nil && r.OK != nil && *r.OK &&
				r.Injection.Attack == in.Attack && r.Injection.Member.ID == in.Member.ID {
				rolled = true
			}
		}
		if !rolled {
			t.Errorf("attack %s on %s: no successful %s in the journal", in.Attack, in.Member.ID, gamedays.EvRollbackResult)
		}
	}
	if attacks == 0 {
		t.Errorf("journal has no %s", gamedays.EvAttackIntent)
	}
	got := ""
	for _, ev := range events {
		if ev.Type == gamedays.EvVerdict {
			got = ev.Verdict
		}
	}
	if got != verdict {
		t.Errorf("verdict %q in the journal, want %q", got, verdict)
	}
	return events
}

// checkReport runs gameday report on the run directory.
func checkReport(t *testing.T, dir string) {
	t.Helper()
	code, out, errs := gameday(t, "report", dir)
	if code != 0 {
		t.Fatalf("report: exit %d\n%s%s", code, out, errs)
	}
	for _, f := range strings.Fields(out) {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("report printed %s: %v", f, err)
		}
	}
	if md, _ := filepath.Glob(filepath.Join(dir, "*.md")); len(md) == 0 {
		t.Errorf("no Markdown report in %s; report printed:\n%s", dir, out)
	}
}

// noColour fails t if the screen carries any escape sequence: with
// NO_COLOR every state must read in words and marks alone.
func (c *consoleRun) noColour(t *testing.T, where string) {
	t.Helper()
	if esc := c.tmux.ScreenEscapes(); strings.Contains(esc, "\x1b") {
		t.Errorf("NO_COLOR=1: escape sequences on the %s screen:\n%q", where, esc)
	}
}

// TestConsoleDrivesLab drives the real binary's console in tmux against
// the lab, with keys only, as a facilitator would: an abort on the
// smallest screen the console lays out, without colour, and a held run on
// a larger one.
func TestConsoleDrivesLab(t *testing.T) {
	if testing.Short() {
		t.Skip("drives two lab runs of about 25s and 40s")
	}
	// It waits on a lab of its own most of the time: it runs beside the
	// other lab tests, as many at once as -parallel allows.
	t.Parallel()
	e2e.Need(t, "tmux")

	t.Run("abort at 80x24 without colour", func(t *testing.T) {
		c := startConsoleRun(t, 80, 24, "NO_COLOR=1")
		s := c.phase(t, 30*time.Second, "BASELINE", "Measuring the steady state", "[1] p95", "base ")
		c.noColour(t, "baseline")
		now, base, ok := p95(s)
		if !ok {
			t.Fatalf("no P95 value and baseline beside the chart:\n%s", s)
		}
		if risen(now, base) {
			t.Fatalf("P95 %s already far above its baseline %s before any attack", now, base)
		}
		c.phase(t, 30*time.Second, "HYPOTHESIS", "With one of three instances 100ms slower")
		c.noColour(t, "hypothesis")
		c.press(t, c.km.Next)

		s = c.phase(t, 20*time.Second, "BLAST RADIUS", "Press Y", "checkout-1", "checkout-2", "checkout-3")
		c.noColour(t, "blast radius")
		if n, m := strings.Count(s, "● SELECTED"), strings.Count(s, "○ not selected"); n != 1 || m != 2 {
			t.Errorf("member table: %d selected and %d not, want 1 and 2:\n%s", n, m, s)
		}
		if f := c.faults(); len(f) > 0 {
			t.Fatalf("injected before the blast radius was confirmed: %v", f)
		}
		c.press(t, c.km.Confirm)

		c.tmux.WaitFor(30*time.Second, "the P95 beside the chart to rise above its baseline", func(s string) bool {
			now, base, ok := p95(s)
			return ok && risen(now, base) && strings.Contains(s, "ACTIVE")
		})
		c.noColour(t, "observe")
		if f := c.faults(); len(f) != 1 || !strings.HasSuffix(f[0], ": latency") {
			t.Fatalf("while the attack runs the lab hosts have %v, want one latency fault", f)
		}
		c.press(t, c.km.Abort)

		c.phase(t, 30*time.Second, "ABORTED", "✓ reverted", "1 of 1 reverted", "Everything injected was reverted.", "verdict: ABORTED")
		c.noColour(t, "aborted")
		c.checkClean(t)
		c.press(t, c.km.Leave)
		if code := c.tmux.Wait(20 * time.Second); code != exitAborted {
			t.Fatalf("exit %d, want %d (aborted)", code, exitAborted)
		}
		dir := c.runDir(t)
		checkJournal(t, dir, string(gamedays.VerdictAborted))
		checkReport(t, dir)
	})

	t.Run("held with a note at 120x40", func(t *testing.T) {
		c := startConsoleRun(t, 120, 40)
		c.phase(t, 30*time.Second, "BASELINE")
		if esc := c.tmux.ScreenEscapes(); !strings.Contains(esc, "\x1b[") {
			t.Errorf("colours on: the screen has no escape sequence at all:\n%s", esc)
		}
		c.phase(t, 30*time.Second, "HYPOTHESIS", "With one of three instances 100ms slower")
		c.press(t, c.km.Next)
		c.phase(t, 20*time.Second, "BLAST RADIUS", "Press Y")
		c.press(t, c.km.Confirm)

		c.phase(t, 20*time.Second, "OBSERVE", "ACTIVE")
		// "up", "enter" and "esc" typed into a note are text, not keys.
		const note = "p95 went up as predicted; typing enter or esc in a note is text"
		c.press(t, c.km.Note)
		// Typing before the note opens would send its letters as keys.
		c.tmux.WaitText(10*time.Second, "enter saves it to the journal")
		c.tmux.Type(note)
		c.press(t, c.km.Submit)
		c.tmux.WaitText(10*time.Second, "note saved")

		c.phase(t, 60*time.Second, "CONCLUDE", "Verdict: HELD", "verdict: HELD")
		c.press(t, c.km.Leave)
		if code := c.tmux.Wait(20 * time.Second); code != exitOK {
			t.Fatalf("exit %d, want 0 (held)", code)
		}
		c.checkClean(t)
		dir := c.runDir(t)
		events := checkJournal(t, dir, string(gamedays.VerdictHeld))
		var notes []string
		for _, ev := range events {
			if ev.Type == gamedays.EvNote {
				notes = append(notes, ev.Kind+": "+ev.Msg)
			}
		}
		if !slices.Contains(notes, "note: "+note) {
			t.Errorf("the note %q is not in the journal; its notes: %q", note, notes)
		}
		checkReport(t, dir)
	})
}
