package ssh

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gameday/gameday/lab/e2e"
	"github.com/gameday/gameday/targets"
)

// deliveryScripts builds a custom attack's inject and rollback for a run
// of its own: the inject appends a line to the returned file after pause,
// as a fault that stacks would, and the rollback removes it.
func deliveryScripts(t *testing.T, apply string) (inject, rollback, file string) {
	t.Helper()
	e2e.Need(t, "sh", "setsid", "sleep")
	e := New(Options{SSHConfig: "/nonexistent-gameday-test", Grace: 30 * time.Second})
	run := "dlv" + strconv.FormatInt(time.Now().UnixNano(), 36)
	t.Cleanup(func() {
		// What the test's runs left: switches asleep, state.
		runScript(os.Environ(), "pkill -f 'gameday-switc[h] .*"+run+"' || true")
		os.RemoveAll(filepath.Join("/run/gameday", run))
		if home, err := os.UserHomeDir(); err == nil {
			os.RemoveAll(filepath.Join(home, ".gameday", run))
		}
	})
	file = filepath.Join(t.TempDir(), "applied")
	inj := targets.Injection{RunID: run, Attack: "stacking fault", Kind: "custom", Duration: time.Minute,
		Params: map[string]string{"inject": apply, "rollback": "rm -f {{file:path}}", "file": file}}
	a, n, err := e.build(inj)
	if err != nil {
		t.Fatal(err)
	}
	return injectScript(n, a, time.Minute), rollbackScript(n, a), file
}

// startDelivery runs inject in the background and returns once it has
// claimed the injection and is applying it, so what the test starts next
// meets it half-way; wait returns what the delivery said.
func startDelivery(t *testing.T, inject string) (wait func() (string, error)) {
	t.Helper()
	type said struct {
		out string
		err error
	}
	done := make(chan said, 1)
	go func() {
		out, err := runScript(os.Environ(), inject)
		done <- said{out, err}
	}()
	claim := filepath.Join(scriptDir(t, inject), namesOf(inject)+".once")
	e2e.WaitFor(t, 10*time.Second, "the first delivery to claim the injection", func() bool {
		b, _ := os.ReadFile(claim)
		return strings.HasPrefix(string(b), "running ")
	})
	return func() (string, error) {
		s := <-done
		return s.out, s.err
	}
}

// lines counts the lines a fault wrote; a missing file is none.
func lines(t *testing.T, file string) int {
	t.Helper()
	b, err := os.ReadFile(file)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "\n")
}

// switches counts the dead man's switches of the script's run still
// asleep on this machine. The [h] keeps the pattern from matching the
// shell that runs pgrep.
func switches(t *testing.T, inject string) int {
	t.Helper()
	run := runOf(inject)
	out, _ := runScript(os.Environ(), "pgrep -f 'gameday-switc[h] .*/"+run+"/' | wc -l")
	n, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil {
		t.Fatalf("counting switches: %q", out)
	}
	return n
}

// Run Command can deliver one inject twice (the SDK sends a SendCommand
// again when a connection drops under its answer). Both deliveries say
// the fault is in place, it is applied once, one switch is armed, and one
// rollback reverts everything; a re-inject after it applies again.
func TestASecondDeliveryDoesNotApplyTwice(t *testing.T) {
	inject, rollback, file := deliveryScripts(t, "sleep 1; echo x >>{{file:path}}")
	first := startDelivery(t, inject)
	outs := make([]string, 2)
	errs := make([]error, 2)
	outs[1], errs[1] = runScript(os.Environ(), inject)
	outs[0], errs[0] = first()
	for i := range outs {
		if errs[i] != nil || !strings.Contains(outs[i], "gameday: injected") {
			t.Fatalf("delivery %d: %v\n%s", i+1, errs[i], outs[i])
		}
	}
	if !strings.Contains(outs[1], "an earlier delivery of this same inject applied it") {
		t.Errorf("the second delivery did not say it left the fault to the first:\n%s", outs[1])
	}
	if n := lines(t, file); n != 1 {
		t.Fatalf("the fault was applied %d times by two deliveries, want once", n)
	}
	if n := switches(t, inject); n != 1 {
		t.Errorf("%d switches armed, want 1", n)
	}
	// A third delivery, late, finds it applied and changes nothing.
	if out, err := runScript(os.Environ(), inject); err != nil || !strings.Contains(out, "applied it") || lines(t, file) != 1 {
		t.Fatalf("late delivery: %v, %d lines\n%s", err, lines(t, file), out)
	}
	if out, err := runScript(os.Environ(), rollback); err != nil || !strings.Contains(out, "gameday: reverted") {
		t.Fatalf("rollback: %v\n%s", err, out)
	}
	if lines(t, file) != 0 || switches(t, inject) != 0 {
		t.Fatalf("after the rollback: %d lines, %d switches", lines(t, file), switches(t, inject))
	}
	// The rollback forgot the claim: a re-inject (a stage's new magnitude)
	// applies again.
	if out, err := runScript(os.Environ(), inject); err != nil || lines(t, file) != 1 || strings.Contains(out, "earlier delivery") {
		t.Fatalf("re-inject after the rollback: %v, %d lines\n%s", err, lines(t, file), out)
	}
	if out, err := runScript(os.Environ(), rollback); err != nil || lines(t, file) != 0 {
		t.Fatalf("second rollback: %v\n%s", err, out)
	}
}

// A second delivery of an inject whose first delivery fails reports the
// failure and applies nothing: the first has reverted what it armed.
func TestASecondDeliveryOfAFailedInjectFails(t *testing.T) {
	inject, _, file := deliveryScripts(t, "sleep 1; echo x >>{{file:path}}; exit 3")
	wait := startDelivery(t, inject)
	second, err := runScript(os.Environ(), inject)
	first, firstErr := wait()
	if firstErr == nil || !strings.Contains(first, "inject failed, reverting") {
		t.Fatalf("first delivery: %v\n%s", firstErr, first)
	}
	if err == nil || !strings.Contains(second, "failed or was rolled back; not applied again") {
		t.Fatalf("second delivery: %v\n%s", err, second)
	}
	if lines(t, file) != 0 || switches(t, inject) != 0 {
		t.Fatalf("left behind: %d lines, %d switches", lines(t, file), switches(t, inject))
	}
}

// A rollback that arrives while a delivery is still applying waits for it,
// so the fault cannot land after the rollback reverted it (a Run Command
// inject gameday stopped following when it aborted).
func TestRollbackWaitsForADeliveryStillApplying(t *testing.T) {
	inject, rollback, file := deliveryScripts(t, "sleep 2; echo x >>{{file:path}}")
	wait := startDelivery(t, inject)
	out, err := runScript(os.Environ(), rollback)
	in, inErr := wait()
	if inErr != nil || err != nil {
		t.Fatalf("inject: %v\n%s\nrollback: %v\n%s", inErr, in, err, out)
	}
	if n := lines(t, file); n != 0 {
		t.Fatalf("the fault landed after the rollback (%d lines left)", n)
	}
	if n := switches(t, inject); n != 0 {
		t.Fatalf("%d switches left", n)
	}
}

// A rollback removes its own files and the run's state directory once it
// is empty, with an rm that takes -d and with one that does not (busybox),
// and keeps the directory while another attack's state is in it.
func TestRollbackTidiesTheStateDirectory(t *testing.T) {
	noDashD := t.TempDir()
	// An rm that refuses -d, as busybox's does.
	refused := filepath.Join(noDashD, "refused")
	os.WriteFile(filepath.Join(noDashD, "rm"), []byte("#!/bin/sh\ncase \"$1\" in -*d*) echo \"rm: invalid option -- 'd'\" >&2; echo \"$@\" >>"+refused+"; exit 1 ;; esac\nexec /bin/rm \"$@\"\n"), 0o755)
	for name, env := range map[string][]string{
		"rm -d":     os.Environ(),
		"rm, no -d": append(os.Environ(), "PATH="+noDashD+":"+os.Getenv("PATH")),
	} {
		t.Run(name, func(t *testing.T) {
			os.Remove(refused)
			first, rbFirst, _ := deliveryScripts(t, "true")
			// A second attack of the same run on the same host.
			second := strings.Replace(first, "\nN=stacking_fault-", "\nN=other-", 1)
			rbSecond := strings.Replace(rbFirst, "\nN=stacking_fault-", "\nN=other-", 1)
			if second == first {
				t.Fatal("could not name a second attack")
			}
			dir := scriptDir(t, first)
			for _, s := range []string{first, second} {
				if out, err := runScript(env, s); err != nil {
					t.Fatalf("inject: %v\n%s", err, out)
				}
			}
			if out, err := runScript(env, rbFirst); err != nil || !strings.Contains(out, "gameday: reverted") {
				t.Fatalf("rollback: %v\n%s", err, out)
			}
			left, _ := filepath.Glob(filepath.Join(dir, "*"))
			if len(left) == 0 || slices.ContainsFunc(left, func(f string) bool { return strings.Contains(f, "stacking_fault-") }) {
				t.Fatalf("after the first rollback the directory holds %v: want the other attack's state only", left)
			}
			if out, err := runScript(env, rbSecond); err != nil {
				t.Fatalf("rollback: %v\n%s", err, out)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				left, _ := filepath.Glob(filepath.Join(dir, "*"))
				t.Fatalf("the state directory is left after the last rollback: %v %v", err, left)
			}
			if _, err := os.Stat(refused); (err == nil) != (name == "rm, no -d") {
				t.Errorf("the rm without -d was used: %v", err == nil)
			}
		})
	}
}

// scriptDir is where a script keeps its state on this machine.
func scriptDir(t *testing.T, script string) string {
	t.Helper()
	out, err := runScript(os.Environ(), prelude(names{run: runOf(script), item: "x"})+`echo "$D"`)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

// runOf is the run's directory name a script's prelude sets.
func runOf(script string) string {
	run := script[strings.Index(script, "D=\"$B\"/")+len("D=\"$B\"/"):]
	return run[:strings.IndexByte(run, '\n')]
}

// An inject whose switch does not start leaves its claim marked as
// reverting: a rollback does not wait on it, and a second delivery says
// the first failed rather than applying a fault with no switch.
func TestAnInjectWithoutItsSwitchGivesUpItsClaim(t *testing.T) {
	inject, rollback, file := deliveryScripts(t, "echo x >>{{file:path}}")
	bin := t.TempDir()
	os.WriteFile(filepath.Join(bin, "setsid"), []byte("#!/bin/sh\nexit 1\n"), 0o755)
	noSwitch := append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
	out, err := runScript(noSwitch, inject)
	if err == nil || !strings.Contains(out, "the dead man's switch did not start") {
		t.Fatalf("inject without setsid: %v\n%s", err, out)
	}
	claim, _ := os.ReadFile(filepath.Join(scriptDir(t, inject), namesOf(inject)+".once"))
	if string(claim) != "reverting\n" {
		t.Fatalf("claim after the failed inject: %q, want reverting", claim)
	}
	if out, err := runScript(os.Environ(), inject); err == nil || !strings.Contains(out, "failed or was rolled back") || lines(t, file) != 0 {
		t.Fatalf("second delivery: %v, %d lines\n%s", err, lines(t, file), out)
	}
	if out, err := runScript(os.Environ(), rollback); err != nil || !strings.Contains(out, "gameday: reverted") {
		t.Fatalf("rollback: %v\n%s", err, out)
	}
}

// The claim names the process that ran the inject, not the shell around
// it: over SSH that shell outlives the script, and a rollback would wait
// on it.
func TestTheClaimNamesTheScriptsOwnProcess(t *testing.T) {
	inject, rollback, _ := deliveryScripts(t, "true")
	// As the executor's shell runs it: in a subshell of a long-lived sh.
	out, err := runScript(os.Environ(), "( eval "+Quote(inject)+" ) </dev/null 2>&1; echo \"shell $$\"; cat \""+scriptDir(t, inject)+"/"+namesOf(inject)+".once\"")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "\napplied\n") {
		t.Fatalf("no applied claim after the inject:\n%s", out)
	}
	// Interrupted before it applied, the claim would name the subshell.
	script := strings.Replace(inject, "echo applied >\"$D/$N.once\"\n", "cat \"$D/$N.once\"\n", 1)
	out, err = runScript(os.Environ(), rollback+"( eval "+Quote(script)+" ) </dev/null 2>&1; echo \"shell $$\"")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var running, shell string
	for _, l := range strings.Split(out, "\n") {
		if p, ok := strings.CutPrefix(l, "running "); ok {
			running = p
		}
		if p, ok := strings.CutPrefix(l, "shell "); ok {
			shell = p
		}
	}
	if running == "" || shell == "" || running == shell {
		t.Fatalf("claim names %q, the long-lived shell is %q:\n%s", running, shell, out)
	}
	runScript(os.Environ(), rollback)
}

// namesOf is the file prefix a script's prelude sets.
func namesOf(script string) string {
	n := script[strings.Index(script, "\nN=")+len("\nN="):]
	return n[:strings.IndexByte(n, '\n')]
}
