package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/lab/e2e"
	"github.com/gameday/gameday/metrics"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

var (
	buildOnce sync.Once
	binDir    string
	binErr    error
)

func TestMain(m *testing.M) {
	// Journals are sealed with a key under the user's state directory:
	// the tests', and every gameday they start, is a directory of their own.
	state, err := os.MkdirTemp("", "gameday-state-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("XDG_STATE_HOME", state)
	os.Unsetenv(gamedays.KeyEnv)
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.RemoveAll(state)
	os.Exit(code)
}

// binary builds gameday once for the tests that run it as a child process,
// which is the only way to kill it with SIGKILL mid-attack.
func binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "gameday-bin-")
		if binErr != nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", filepath.Join(binDir, "gameday"), ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return filepath.Join(binDir, "gameday")
}

// lab is a real sshd on loopback that logs in as root, and a real Prometheus
// scraping an exporter whose latency and error ratio the test sets.
type lab struct {
	sshd      *e2e.SSHD
	prom      string
	latency   prometheus.Gauge
	errs      prometheus.Gauge
	sshConfig string
	runsDir   string
}

func newLab(t *testing.T) *lab {
	t.Helper()
	e2e.Need(t, "sshd", "prometheus", "stress-ng", "setsid")
	l := &lab{sshd: e2e.StartSSHD(t, "127.0.0.1", ""), runsDir: filepath.Join(t.TempDir(), "runs")}
	l.startMetrics(t)
	host, port, _ := strings.Cut(l.sshd.Addr, ":")
	l.sshConfig = filepath.Join(t.TempDir(), "ssh_config")
	conf := fmt.Sprintf("Host lab-1\n  HostName %s\n  Port %s\n  User root\n", host, port)
	if err := os.WriteFile(l.sshConfig, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return l
}

// startMetrics serves the gauges the test sets to a real Prometheus that
// scrapes them, and waits for the first scrape.
func (l *lab) startMetrics(t *testing.T) {
	t.Helper()
	reg := prometheus.NewRegistry()
	l.latency = prometheus.NewGauge(prometheus.GaugeOpts{Name: "gameday_test_latency_seconds", Help: "P95 latency the test sets."})
	l.errs = prometheus.NewGauge(prometheus.GaugeOpts{Name: "gameday_test_error_ratio", Help: "Error ratio the test sets."})
	reg.MustRegister(l.latency, l.errs)
	l.latency.Set(0.1)
	l.errs.Set(0.001)
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	t.Cleanup(srv.Close)
	l.prom = e2e.StartPrometheus(t, strings.TrimPrefix(srv.URL, "http://"))
	l.waitForLatency(t, 0.1)
}

// waitForLatency waits until Prometheus's latest latency is want, so a
// baseline sees neither a gap before the first scrape nor what the previous
// subtest left.
func (l *lab) waitForLatency(t *testing.T, want float64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if v, ok := promValue(l.prom, "max(gameday_test_latency_seconds)"); ok && v == strconv.FormatFloat(want, 'g', -1, 64) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus at %s does not show latency %g after 30s", l.prom, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// book is what varies between the tests' runbooks.
type book struct {
	steady, expect, guard string
	kind, params          string
	duration, observe     string
}

func (l *lab) runbook(t *testing.T, b book) string {
	t.Helper()
	if b.kind == "" {
		b.kind, b.params = "cpu", "{workers: 1, load: 10%}"
	}
	guard := ""
	if b.guard != "" {
		guard = "guardrails:\n  p95: \"" + b.guard + "\"\n"
	}
	src := fmt.Sprintf(`version: 1
name: e2e %s
metrics:
  step: 1s
  panels:
    p95: {query: 'max(gameday_test_latency_seconds)', unit: seconds}
    error_rate: {query: 'max(gameday_test_error_ratio)', unit: ratio}
baseline:
  duration: 3s
  steady_state: {p95: "%s"}
hypothesis:
  statement: burning one core leaves latency where it was
  expect: {p95: "%s"}
%stargets:
  lab: {ssh: {hosts: [lab-1]}}
blast_radius:
  lab: {all: true}
attacks:
  - {name: burn, target: lab, kind: %s, params: %s, duration: %s}
observe: {duration: %s}
`, filepath.Base(t.Name()), b.steady, b.expect, guard, b.kind, b.params, b.duration, b.observe)
	path := filepath.Join(t.TempDir(), "runbook.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := runbook.Load(path, targets.Default()); err != nil {
		t.Fatalf("test runbook does not load: %v\n%s", err, src)
	}
	return path
}

// fresh gives a subtest its own runs directory and the service its
// healthy numbers back.
func (l *lab) fresh(t *testing.T) {
	l.runsDir = filepath.Join(t.TempDir(), "runs")
	l.latency.Set(0.1)
	l.errs.Set(0.001)
	l.waitForLatency(t, 0.1)
}

// flags reach the lab: its Prometheus, its sshd and nothing of the user's.
func (l *lab) flags() []string {
	return []string{"--prometheus", l.prom, "-F", l.sshConfig, "--known-hosts", l.sshd.KnownHosts, "-i", l.sshd.UserKey, "--runs-dir", l.runsDir}
}

// child is gameday running as its own process.
type child struct {
	cmd            *exec.Cmd
	stdout, stderr e2e.Screen
	exited         chan struct{}
	code           int
}

func start(t testing.TB, args ...string) *child {
	t.Helper()
	c := &child{cmd: exec.Command(binary(t), args...), exited: make(chan struct{})}
	c.cmd.Stdout, c.cmd.Stderr = &c.stdout, &c.stderr
	// Never the developer's agent or Prometheus: only what the flags name.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SSH_AUTH_SOCK=") && !strings.HasPrefix(kv, metrics.EnvURL+"=") {
			c.cmd.Env = append(c.cmd.Env, kv)
		}
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		c.cmd.Wait()
		c.code = c.cmd.ProcessState.ExitCode()
		if ws, ok := c.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			c.code = -int(ws.Signal())
		}
		close(c.exited)
	}()
	t.Cleanup(func() {
		c.cmd.Process.Kill()
		<-c.exited
	})
	return c
}

// wait returns the exit code, failing the test if the child runs past limit.
func (c *child) wait(t testing.TB, limit time.Duration) int {
	t.Helper()
	select {
	case <-c.exited:
		return c.code
	case <-time.After(limit):
		c.cmd.Process.Kill()
		<-c.exited
		t.Fatalf("gameday still running after %s\nstderr:\n%s", limit, c.stderr.String())
		return 0
	}
}

// runDir is the one run directory a test's gameday made.
func (l *lab) runDir(t *testing.T) string {
	t.Helper()
	var dir string
	e2e.WaitFor(t, 20*time.Second, "a run directory", func() bool {
		m, _ := filepath.Glob(filepath.Join(l.runsDir, "*", gamedays.JournalName))
		if len(m) == 1 {
			dir = filepath.Dir(m[0])
		}
		return dir != ""
	})
	return dir
}

// journal reads a run's journal; a truncated last line is tolerated.
func journal(t *testing.T, dir string) []gamedays.Event {
	t.Helper()
	events, _, err := gamedays.ReadJournal(filepath.Join(dir, gamedays.JournalName))
	if err != nil {
		t.Fatal(err)
	}
	return events
}

func find(events []gamedays.Event, typ string, ok bool) *gamedays.Event {
	for i := range events {
		e := &events[i]
		if e.Type == typ && (e.OK == nil || *e.OK == ok) {
			return e
		}
	}
	return nil
}

// stressPid is the stress-ng the cpu attack of run dir started on the host:
// the ssh executor keeps its pid under /run/gameday/<run id>/.
func stressPid(t *testing.T, dir string) int {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join("/run/gameday", filepath.Base(dir), "*.pid"))
	if len(m) != 1 {
		t.Fatalf("want one pid file for run %s, found %v", filepath.Base(dir), m)
	}
	b, err := os.ReadFile(m[0])
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// stressing says whether pid is a live stress-ng (a zombie is not).
func stressing(pid int) bool {
	comm, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	if err != nil || !strings.HasPrefix(string(comm), "stress-ng") {
		return false
	}
	stat, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	i := bytes.LastIndexByte(stat, ')')
	return i > 0 && i+2 < len(stat) && stat[i+2] != 'Z'
}

// reverted waits until pid is no longer a running stress-ng. A rollback
// ends with KILL to the process group when TERM is too slow, and a killed
// process takes a moment to go; the bound is far below the dead man's
// switch, so only the rollback can have ended it.
func reverted(t *testing.T, pid int, what string) {
	t.Helper()
	e2e.Eventually(t, 15*time.Second, func() string {
		if !stressing(pid) {
			return ""
		}
		stat, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		return fmt.Sprintf("stress-ng %d still running 15s after %s: %s", pid, what, stat)
	})
}

// injected waits until the run's journal shows the attack landed and the
// stress-ng it started is running, and returns its pid.
func injected(t *testing.T, dir string) int {
	t.Helper()
	e2e.WaitFor(t, 60*time.Second, "attack.result OK in the journal", func() bool {
		return find(journal(t, dir), gamedays.EvAttackResult, true) != nil
	})
	pid := stressPid(t, dir)
	if !stressing(pid) {
		t.Fatalf("journal says injected, but pid %d is not a running stress-ng", pid)
	}
	return pid
}

// TestAutopilotOnRealComponents runs the gameday binary against a real sshd
// and a real Prometheus, started once and shared by the subtests, which run
// one after the other.
func TestAutopilotOnRealComponents(t *testing.T) {
	// It waits on a lab of its own most of the time: it runs beside the
	// other lab tests, as many at once as -parallel allows.
	t.Parallel()
	l := newLab(t)
	t.Run("exit codes", func(t *testing.T) { testRunExitCodes(t, l) })
	t.Run("SIGTERM aborts and rolls back", func(t *testing.T) { testRunSIGTERMAbortsAndRollsBack(t, l) })
	t.Run("second SIGINT does not skip the rollback", func(t *testing.T) { testRunSecondSIGINTDoesNotSkipRollback(t, l) })
	t.Run("guardrail aborts", func(t *testing.T) { testRunGuardrailAborts(t, l) })
	t.Run("dry run touches nothing", func(t *testing.T) { testRunDryRunTouchesNothing(t, l) })
	t.Run("recover after SIGKILL", func(t *testing.T) { testRecoverAfterSIGKILL(t, l) })
	t.Run("failed inject aborts with the host's words", func(t *testing.T) { testRunFailedInjectAborts(t, l) })
	t.Run("changed host key stops before the baseline", func(t *testing.T) { testRunChangedHostKey(t, l) })
	t.Run("a fault killed by hand is named in the verdict", func(t *testing.T) { testRunFaultKilledByHand(t, l) })
	t.Run("a fault found gone while it runs aborts", func(t *testing.T) { testRunFaultFoundGoneWhileItRuns(t, l) })
}

// killedByHand runs a cpu attack of duration, kills its stress-ng (the
// whole process group) as soon as it has landed, and checks the exit code
// and what stderr says; it logs the lines that hold logged.
func killedByHand(t *testing.T, l *lab, duration, observe, checks string, code int, logged string, wants ...string) {
	l.fresh(t)
	path := l.runbook(t, book{steady: "< 300ms", expect: "< 500ms", duration: duration, observe: observe})
	c := start(t, append([]string{"run", "--autopilot", "--yes", "--fault-checks", checks, path}, l.flags()...)...)
	pid := injected(t, l.runDir(t))
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if got := c.wait(t, time.Minute); got != code {
		t.Fatalf("exit %d, want %d\nstderr:\n%s", got, code, c.stderr.String())
	}
	out := c.stderr.String()
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("stderr lacks %q:\n%s", want, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, logged) {
			t.Log(line)
		}
	}
}

// A stress-ng killed by hand early in the attack is found gone by the
// check gameday makes every --fault-checks: the fault no longer holds over
// the attack window, so the run aborts (exit 2) saying when it was seen gone.
func testRunFaultFoundGoneWhileItRuns(t *testing.T, l *lab) {
	killedByHand(t, l, "8s", "9s", "1s", exitAborted, "FAULT ENDED EARLY",
		"FAULT ENDED EARLY: burn (cpu) on lab-1", "fault ended early: burn on lab-1 was seen ended ", "into its 8s: the fault was no longer in place at ", "(gameday checks every 1s)", "verdict aborted")
}

// A stress-ng killed by hand during an attack no check falls in is found
// gone by the rollback at the attack's end: the run still judges what it
// measured, and the verdict and the timeline say that fault's window was
// not the one planned.
func testRunFaultKilledByHand(t *testing.T, l *lab) {
	killedByHand(t, l, "5s", "6s", "1m", exitOK, "already gone",
		"the fault was already gone: something other than gameday ended it", "verdict held", "but the fault was no longer in place when its rollback came on 1: burn on lab-1")
}

// An inject that fails on the host gives no verdict on the hypothesis: the
// run aborts, exit 2, and the host's own stderr is on the screen.
func testRunFailedInjectAborts(t *testing.T, l *lab) {
	l.fresh(t)
	path := l.runbook(t, book{steady: "< 300ms", expect: "< 500ms", duration: "10s", observe: "10s",
		kind: "custom", params: `{inject: "echo 'Error: Specified qdisc kind is unknown.' >&2; exit 2", rollback: "true"}`})
	c := start(t, append([]string{"run", "--autopilot", "--yes", path}, l.flags()...)...)
	if code := c.wait(t, time.Minute); code != exitAborted {
		t.Fatalf("exit %d, want %d\nstderr:\n%s", code, exitAborted, c.stderr.String())
	}
	out := c.stderr.String()
	for _, want := range []string{"INJECT FAILED", "ABORT: inject failed: ", "Specified qdisc kind is unknown", "verdict aborted"} {
		if !strings.Contains(out, want) {
			t.Errorf("stderr lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "verdict held") {
		t.Errorf("a run whose fault did not land was held:\n%s", out)
	}
}

// A host key that changed is found before the baseline is measured.
func testRunChangedHostKey(t *testing.T, l *lab) {
	l.fresh(t)
	other := e2e.StartSSHD(t, "127.0.0.1", "") // another host, another key
	known := filepath.Join(t.TempDir(), "known_hosts")
	line := knownhosts.Line([]string{knownhosts.Normalize(l.sshd.Addr)}, other.HostKey) + "\n"
	if err := os.WriteFile(known, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	flags := l.flags()
	for i := range flags {
		if flags[i] == "--known-hosts" {
			flags[i+1] = known
		}
	}
	path := l.runbook(t, book{steady: "< 300ms", expect: "< 500ms", duration: "10s", observe: "10s"})
	c := start(t, append([]string{"run", "--autopilot", "--yes", path}, flags...)...)
	if code := c.wait(t, time.Minute); code != exitBlocked {
		t.Fatalf("exit %d, want %d\nstderr:\n%s", code, exitBlocked, c.stderr.String())
	}
	if !strings.Contains(c.stderr.String(), "lab-1") || !strings.Contains(strings.ToLower(c.stderr.String()), "host key") {
		t.Errorf("stderr does not name the host and its key:\n%s", c.stderr.String())
	}
	for _, ev := range journal(t, l.runDir(t)) {
		if ev.Type == gamedays.EvBaseline || ev.Type == gamedays.EvSteadyState {
			t.Fatalf("%s in the journal: the baseline ran before the host key was checked", ev.Type)
		}
	}
}

func testRunExitCodes(t *testing.T, l *lab) {
	l.fresh(t)
	cases := []struct {
		name string
		book book
		want int
		says string
	}{
		{"held", book{steady: "< 300ms", expect: "< 500ms", duration: "2s", observe: "3s"}, exitOK, "verdict held"},
		{"refuted", book{steady: "< 300ms", expect: "< 50ms", duration: "2s", observe: "3s"}, exitRefuted, "verdict refuted"},
		{"blocked", book{steady: "< 50ms", expect: "< 500ms", duration: "2s", observe: "3s"}, exitBlocked, "verdict blocked"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l.fresh(t)
			junit := filepath.Join(t.TempDir(), "junit.xml")
			c := start(t, append([]string{"run", "--autopilot", "--yes", "--junit", junit, l.runbook(t, tc.book)}, l.flags()...)...)
			code := c.wait(t, 2*time.Minute)
			if code != tc.want || !strings.Contains(c.stderr.String(), tc.says) {
				t.Fatalf("exit %d, want %d and %q\nstderr:\n%s", code, tc.want, tc.says, c.stderr.String())
			}
			checkJUnit(t, junit, map[int]string{exitOK: "", exitRefuted: "refuted", exitBlocked: "blocked"}[tc.want])
			events := journal(t, l.runDir(t))
			if events[len(events)-1].Type != gamedays.EvRunEnd {
				t.Errorf("journal ends with %s, want run.end", events[len(events)-1].Type)
			}
			intents := 0
			for _, e := range events {
				if e.Type == gamedays.EvAttackIntent {
					intents++
				}
			}
			if left := gamedays.Unreverted(events); len(left) != 0 {
				t.Errorf("left unreverted: %v", left)
			}
			if want := map[int]int{exitOK: 1, exitRefuted: 1, exitBlocked: 0}[tc.want]; intents != want {
				t.Errorf("%d attack intents, want %d", intents, want)
			}
		})
	}
}

func testRunSIGTERMAbortsAndRollsBack(t *testing.T, l *lab) {
	l.fresh(t)
	c := start(t, append([]string{"run", "--autopilot", "--yes", "--json", l.runbook(t, book{steady: "< 300ms", expect: "< 500ms", duration: "10m", observe: "10m"})}, l.flags()...)...)
	dir := l.runDir(t)
	pid := injected(t, dir)
	c.cmd.Process.Signal(syscall.SIGTERM)
	if code := c.wait(t, time.Minute); code != exitAborted {
		t.Fatalf("exit %d, want %d\nstderr:\n%s", code, exitAborted, c.stderr.String())
	}
	t.Logf("stderr:\n%s", c.stderr.String())
	reverted(t, pid, "the abort")
	events := journal(t, dir)
	abort := find(events, gamedays.EvAbort, true)
	if abort == nil || abort.Source != "SIGTERM" {
		t.Errorf("abort event %+v, want one from SIGTERM", abort)
	}
	if rb := find(events, gamedays.EvRollbackResult, true); rb == nil {
		t.Error("no confirmed rollback in the journal")
	}
	if left := gamedays.Unreverted(events); len(left) != 0 {
		t.Errorf("left unreverted: %v", left)
	}
	// --json: every event is a JSON line on stdout, the same the journal has.
	lines := strings.Split(strings.TrimSpace(c.stdout.String()), "\n")
	if len(lines) != len(events) {
		t.Errorf("%d JSON lines on stdout, %d events in the journal", len(lines), len(events))
	}
	for _, line := range lines {
		var ev gamedays.Event
		if err := json.Unmarshal([]byte(line), &ev); err != nil || ev.Type == "" {
			t.Fatalf("stdout line is not an event: %q (%v)", line, err)
		}
	}
}

// Ctrl-C twice: the second press, made while a slow rollback runs, is
// acknowledged and the rollback still runs to the end.
func testRunSecondSIGINTDoesNotSkipRollback(t *testing.T, l *lab) {
	l.fresh(t)
	mark := filepath.Join(t.TempDir(), "injected")
	path := l.runbook(t, book{steady: "< 300ms", expect: "< 500ms", duration: "10m", observe: "10m",
		kind: "custom", params: fmt.Sprintf(`{inject: "touch %s", rollback: "sleep 2; rm -f %s"}`, mark, mark)})
	c := start(t, append([]string{"run", "--autopilot", "--yes", path}, l.flags()...)...)
	dir := l.runDir(t)
	e2e.WaitFor(t, 60*time.Second, "attack.result OK in the journal", func() bool {
		return find(journal(t, dir), gamedays.EvAttackResult, true) != nil
	})
	if _, err := os.Stat(mark); err != nil {
		t.Fatalf("journal says injected, but: %v", err)
	}
	c.cmd.Process.Signal(syscall.SIGINT)
	// The rollback sleeps 2s before it reverts: the second press lands in it.
	e2e.WaitFor(t, 30*time.Second, "rollback.intent in the journal", func() bool {
		return find(journal(t, dir), gamedays.EvRollbackIntent, true) != nil
	})
	c.cmd.Process.Signal(syscall.SIGINT)
	if code := c.wait(t, time.Minute); code != exitAborted {
		t.Fatalf("exit %d, want %d\nstderr:\n%s", code, exitAborted, c.stderr.String())
	}
	if !strings.Contains(c.stderr.String(), "SIGINT again: the rollback continues") {
		t.Errorf("the second SIGINT was not acknowledged:\n%s", c.stderr.String())
	}
	if _, err := os.Stat(mark); !os.IsNotExist(err) {
		t.Errorf("the rollback did not finish: %s still there (%v)", mark, err)
	}
	if left := gamedays.Unreverted(journal(t, dir)); len(left) != 0 {
		t.Errorf("left unreverted: %v", left)
	}
}

func testRunGuardrailAborts(t *testing.T, l *lab) {
	l.fresh(t)
	junit := filepath.Join(t.TempDir(), "junit.xml")
	c := start(t, append([]string{"run", "--autopilot", "--yes", "--junit", junit, l.runbook(t, book{steady: "< 300ms", expect: "< 500ms", guard: "> 1s for 2s", duration: "10m", observe: "10m"})}, l.flags()...)...)
	dir := l.runDir(t)
	pid := injected(t, dir)
	l.latency.Set(3) // the service falls over while the attack runs
	if code := c.wait(t, time.Minute); code != exitAborted {
		t.Fatalf("exit %d, want %d\nstderr:\n%s", code, exitAborted, c.stderr.String())
	}
	checkJUnit(t, junit, "aborted")
	if !strings.Contains(c.stderr.String(), "guardrail p95") {
		t.Errorf("stderr does not say the guardrail fired:\n%s", c.stderr.String())
	}
	reverted(t, pid, "the guardrail abort")
}

func testRunDryRunTouchesNothing(t *testing.T, l *lab) {
	l.fresh(t)
	c := start(t, append([]string{"run", "--dry-run", l.runbook(t, book{steady: "< 300ms", expect: "< 500ms", duration: "10m", observe: "10m"})}, l.flags()...)...)
	if code := c.wait(t, time.Minute); code != exitOK {
		t.Fatalf("exit %d\nstderr:\n%s", code, c.stderr.String())
	}
	out := c.stdout.String()
	t.Logf("stdout:\n%s", out)
	if !strings.Contains(out, "# burn (cpu) on lab lab-1 ("+l.sshd.Addr+")") || !strings.Contains(out, "stress-ng") {
		t.Errorf("plan does not show the command for lab-1:\n%s", out)
	}
	dir := l.runDir(t)
	events := journal(t, dir)
	if e := find(events, gamedays.EvAttackIntent, true); e != nil {
		t.Errorf("dry run journalled an attack intent: %+v", e)
	}
	if pf := find(events, gamedays.EvPreflight, true); pf == nil {
		t.Error("dry run did not preflight")
	}
	// The plan names the state directory an inject would make; it must not exist.
	if !strings.Contains(out, "/"+filepath.Base(dir)+"\n") {
		t.Errorf("plan does not use the run id %s for the host's state", filepath.Base(dir))
	}
	if _, err := os.Stat(filepath.Join("/run/gameday", filepath.Base(dir))); !os.IsNotExist(err) {
		t.Errorf("dry run left state on the host: %v", err)
	}
}

func TestRunWithoutAutopilotWantsIt(t *testing.T) {
	l := &lab{}
	path := l.runbookFile(t)
	code, _, errs := gameday(t, "run", path)
	if code != exitInvalid || !strings.Contains(errs, "--autopilot") {
		t.Errorf("exit %d: %s", code, errs)
	}
}

// runbookFile is a valid runbook whose targets need no lab.
func (l *lab) runbookFile(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "r.yaml")
	src := `version: 1
name: far away
metrics:
  url: http://127.0.0.1:1
  panels:
    p95: {query: up, unit: seconds}
baseline: {duration: 1s, steady_state: {p95: "< 1s"}}
hypothesis: {statement: s, expect: {p95: "< 1s"}}
targets:
  far: {ssh: {hosts: [192.0.2.10, 127.0.0.1]}}
blast_radius: {far: {all: true}}
attacks:
  - {name: burn, target: far, kind: cpu, duration: 1m}
observe: {duration: 1m}
`
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// Only the check runs here: no engine, nothing dialled.
func TestUnconfirmedRefusesMembersAwayFromThisMachine(t *testing.T) {
	l := &lab{}
	rb, err := runbook.Load(l.runbookFile(t), targets.Default())
	if err != nil {
		t.Fatal(err)
	}
	f := &runFlags{SSHConfig: filepath.Join(t.TempDir(), "none"), SSHAgent: "-"}
	w := newWiring()
	defer w.close()
	if _, _, err := w.family("ssh", f); err != nil {
		t.Fatal(err)
	}
	err = refuseUnconfirmed(context.Background(), rb, w)
	if err == nil || !strings.Contains(err.Error(), "far: 192.0.2.10") || strings.Contains(err.Error(), "127.0.0.1") || !strings.Contains(err.Error(), "--yes") {
		t.Errorf("got %v, want a refusal naming 192.0.2.10 only and --yes", err)
	}
	for addr, want := range map[string]bool{"127.0.0.1:22": true, "[::1]:2222": true, "localhost:22": true, "127.3.4.5": true, "10.0.0.1:22": false, "example.com:22": false} {
		if got := onThisMachine(targets.Member{ID: "x", Addr: addr}); got != want {
			t.Errorf("onThisMachine(%s) = %v, want %v", addr, got, want)
		}
	}
}

func TestRunInvalidRunbookExits4(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(path, []byte("version: 1\nnmae: x\n"), 0o644)
	code, _, errs := gameday(t, "run", "--autopilot", path)
	if code != exitInvalid || !strings.Contains(errs, path+":2:1") {
		t.Errorf("exit %d: %s", code, errs)
	}
}

func TestOutcomeExitCodes(t *testing.T) {
	left := targets.Injection{Attack: "burn", Kind: "cpu", Member: targets.Member{Target: "web", ID: "web-2", Addr: "10.0.0.2:22"}}
	cases := []struct {
		out     gamedays.Outcome
		refused string
		want    int
		says    string
	}{
		{gamedays.Outcome{Verdict: gamedays.VerdictHeld, Reason: "fine"}, "", exitOK, "verdict held: fine"},
		{gamedays.Outcome{Verdict: gamedays.VerdictRefuted}, "", exitRefuted, "verdict refuted"},
		{gamedays.Outcome{Verdict: gamedays.VerdictAborted}, "", exitAborted, "verdict aborted"},
		{gamedays.Outcome{Verdict: gamedays.VerdictAborted, Reason: "SIGINT received", Pending: 1, RolledBack: 1}, "", exitAborted, "verdict aborted: SIGINT received; 1 of 1 injection(s) rolled back"},
		{gamedays.Outcome{Verdict: gamedays.VerdictAborted, Reason: "the abort key was pressed"}, "", exitAborted, "nothing had been injected"},
		{gamedays.Outcome{Verdict: gamedays.VerdictBlocked}, "", exitBlocked, "verdict blocked"},
		{gamedays.Outcome{Reason: "dry run"}, "", exitOK, "dry run"},
		{gamedays.Outcome{Verdict: gamedays.VerdictAborted}, "target web selected web-2", exitInvalid, "refusing to inject"},
		// Unreverted beats every verdict, and names what is left and where.
		{gamedays.Outcome{Verdict: gamedays.VerdictHeld, Unreverted: []targets.Injection{left}}, "", exitRollback, "burn (cpu) on web web-2 (10.0.0.2:22)"},
		{gamedays.Outcome{Verdict: gamedays.VerdictBlocked, Unreverted: []targets.Injection{left}}, "x", exitRollback, "gameday recover runs/r1"},
	}
	for _, tc := range cases {
		var errb bytes.Buffer
		err := outcomeError(&errb, "runs/r1", tc.out, nil, tc.refused)
		code, msg := exitOK, errb.String()
		if err != nil {
			ee, ok := err.(*exitError)
			if !ok {
				t.Fatalf("%+v: %T is not an exitError", tc.out, err)
			}
			code, msg = ee.code, msg+ee.Error()
		}
		if code != tc.want || !strings.Contains(msg, tc.says) {
			t.Errorf("%+v refused %q: exit %d %q, want %d and %q", tc.out, tc.refused, code, msg, tc.want, tc.says)
		}
	}
}

func TestAutopilotLines(t *testing.T) {
	var out, errb bytes.Buffer
	l := &gamedays.Log{Stdout: &out, Stderr: &errb, JSON: true, Journal: "j.jsonl"}
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	ok, bad := true, false
	inj := &targets.Injection{Attack: "burn", Kind: "cpu", Member: targets.Member{Target: "web", ID: "web-1", Addr: "127.0.0.1:22"}, Duration: 5 * time.Minute}
	for _, ev := range []gamedays.Event{
		{Seq: 1, Time: t0, Type: gamedays.EvRunStart, Phase: "baseline", RunID: "r1", Msg: "cpu"},
		{Seq: 2, Time: t0.Add(75 * time.Second), Type: gamedays.EvAttackIntent, Phase: "run", Injection: inj},
		{Seq: 3, Time: t0.Add(76 * time.Second), Type: gamedays.EvRollbackResult, Phase: "aborted", Injection: inj, OK: &bad, Result: &targets.Result{Err: "host unreachable"}},
		{Seq: 4, Time: t0.Add(77 * time.Second), Type: gamedays.EvPreflight, Phase: "blast radius", Injection: inj, OK: &ok},
	} {
		l.Event(ev)
	}
	want := []string{
		`T+00:00 baseline     game day started: cpu (run r1), journal j.jsonl`,
		`T+01:15 run          inject burn (cpu) on web-1 (127.0.0.1:22) for 5m`,
		`T+01:16 aborted      ROLLBACK FAILED: burn (cpu) on web-1 (127.0.0.1:22): host unreachable`,
		`T+01:17 blast radius preflight ok: burn (cpu) on web-1 (127.0.0.1:22)`,
	}
	if got := strings.Split(strings.TrimSpace(errb.String()), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("stderr:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var ev gamedays.Event
	if len(lines) != 4 || json.Unmarshal([]byte(lines[2]), &ev) != nil || ev.Seq != 3 || ev.Result.Err != "host unreachable" {
		t.Errorf("--json lines:\n%s", out.String())
	}
}

// A metrics server that stays down repeats one error every poll: it is said
// once, then counted.
func TestAutopilotFoldsRepeatedMetricsErrors(t *testing.T) {
	var out, errb bytes.Buffer
	l := &gamedays.Log{Stdout: &out, Stderr: &errb, Journal: "j.jsonl"}
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	l.Event(gamedays.Event{Time: t0, Type: gamedays.EvRunStart, Phase: "baseline", RunID: "r1", Msg: "cpu"})
	for i := range 5 {
		l.Event(gamedays.Event{Time: t0.Add(time.Duration(i+1) * time.Second), Type: gamedays.EvMetricsError, Phase: "baseline", Msg: "panel p95: connection refused"})
	}
	l.Event(gamedays.Event{Time: t0.Add(9 * time.Second), Type: gamedays.EvPhase, Phase: "hypothesis"})
	got := errb.String()
	if n := strings.Count(got, "connection refused"); n != 1 {
		t.Errorf("the error is said %d times, want once:\n%s", n, got)
	}
	if !strings.Contains(got, "repeated 4 more time(s)") {
		t.Errorf("the repeats are not counted:\n%s", got)
	}
}

func TestRunDirNames(t *testing.T) {
	runs := filepath.Join(t.TempDir(), "runs")
	now := time.Date(2026, 11, 23, 9, 15, 0, 0, time.FixedZone("CET", 3600))
	long := "Checkout keeps its latency when one instance runs out of CPU, and more"
	var got []string
	for range 3 {
		dir, err := makeRunDir(runs, long, now)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, filepath.Base(dir))
		for _, d := range []string{runs, dir} {
			if st, err := os.Stat(d); err != nil {
				t.Error(err)
			} else if st.Mode().Perm() != 0o700 {
				t.Errorf("%s has mode %v, want 0700", d, st.Mode().Perm())
			}
		}
	}
	want := []string{
		"20261123T081500Z-checkout-keeps-its-latency-when-one-inst",
		"20261123T081500Z-checkout-keeps-its-latency-when-one-inst-2",
		"20261123T081500Z-checkout-keeps-its-latency-when-one-inst-3",
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("run dirs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, g := range got {
		if len(g) > 64 {
			t.Errorf("run id %s is %d characters, over 64", g, len(g))
		}
	}
}
