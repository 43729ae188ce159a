package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/gamedays/journaltest"
	"github.com/gameday/gameday/lab/e2e"
	"github.com/gameday/gameday/targets"
)

// A gameday killed with SIGKILL mid-attack leaves the attack applied (its
// dead man's switch is minutes away); gameday recover rolls it back from
// the journal alone, and a second recover has nothing to do.
func testRecoverAfterSIGKILL(t *testing.T, l *lab) {
	l.fresh(t)
	const attack = 10 * time.Minute
	c := start(t, append([]string{"run", "--autopilot", "--yes", l.runbook(t, book{steady: "< 300ms", expect: "< 500ms", duration: "10m", observe: "10m"})}, l.flags()...)...)
	dir := l.runDir(t)
	pid := injected(t, dir)
	injectedAt := time.Now()
	c.cmd.Process.Signal(syscall.SIGKILL)
	if code := c.wait(t, 10*time.Second); code != -int(syscall.SIGKILL) {
		t.Fatalf("exit %d, want killed by SIGKILL", code)
	}
	if !stressing(pid) {
		t.Fatal("stress-ng ended with gameday: nothing left for recover to prove")
	}
	path := filepath.Join(dir, gamedays.JournalName)
	events, _, err := gamedays.ReadJournal(path)
	if err != nil {
		t.Fatalf("the killed run's journal does not read back: %v", err)
	}
	if len(gamedays.Unreverted(events)) != 1 || find(events, gamedays.EvRunEnd, true) != nil {
		t.Fatalf("journal of the killed run: %d unreverted, want 1 and no run.end", len(gamedays.Unreverted(events)))
	}
	// Make sure the crash also left a half-written line, as a kill during a
	// write does: recover must cope with it and say so.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"v":1,"seq":9999,"type":"sam`)
	f.Close()

	// With no argument, recover finds the unfinished run in --runs-dir.
	rc := start(t, append([]string{"recover", "--yes"}, l.flags()[2:]...)...)
	if code := rc.wait(t, 2*time.Minute); code != exitOK {
		t.Fatalf("recover: exit %d\nstdout:\n%s\nstderr:\n%s", code, rc.stdout.String(), rc.stderr.String())
	}
	reverted(t, pid, "recover")
	if time.Since(injectedAt) >= attack {
		t.Fatal("the attack's own duration passed: cannot tell recover's rollback from the dead man's switch")
	}
	out := rc.stdout.String()
	t.Logf("recover stdout:\n%s\nstderr:\n%s", out, rc.stderr.String())
	// It said what it would run, on which host, before running it.
	if !strings.Contains(out, "recover will roll back 1 injection(s)") || !strings.Contains(out, "ssh lab-1 rollback: ") {
		t.Errorf("recover did not show its plan:\n%s", out)
	}
	if !strings.Contains(out, "rolled back burn (cpu) on lab-1") || !strings.Contains(out, "incomplete") {
		t.Errorf("recover output:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join("/run/gameday", filepath.Base(dir))); !os.IsNotExist(err) {
		t.Errorf("state directory left on the host: %v", err)
	}

	checkRecoveredJournal(t, path)
	checkRecoverAgain(t, l, dir, path)
}

// checkRecoveredJournal: after recover the journal reads back whole, one
// unbroken sequence that ends with recover's successful rollback.
func checkRecoveredJournal(t *testing.T, path string) {
	t.Helper()
	events, warn, err := gamedays.ReadJournal(path)
	if err != nil || warn != nil {
		t.Fatalf("journal after recover: err %v, warn %v; want it whole", err, warn)
	}
	for i, e := range events {
		if e.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d: the journal is not one unbroken sequence", i, e.Seq)
		}
	}
	if left := gamedays.Unreverted(events); len(left) != 0 {
		t.Errorf("journal still lists %d unreverted", len(left))
	}
	last := events[len(events)-1]
	if last.Type != gamedays.EvRecover || last.OK == nil || !*last.OK {
		t.Errorf("journal ends with %+v, want a successful recover event", last)
	}
	if rb := find(events, gamedays.EvRollbackResult, true); rb == nil || rb.Source != "recover" {
		t.Errorf("rollback result %+v, want one by recover", rb)
	}
}

// checkRecoverAgain: a second recover, of the run or of the runs
// directory, has nothing to do and writes nothing.
func checkRecoverAgain(t *testing.T, l *lab, dir, path string) {
	t.Helper()
	size := fileSize(t, path)
	for _, args := range [][]string{{"recover", dir}, {"recover"}} {
		rc := start(t, append(args, l.flags()[2:]...)...)
		if code := rc.wait(t, time.Minute); code != exitOK {
			t.Fatalf("%v again: exit %d\n%s", args, code, rc.stderr.String())
		}
		if out := rc.stdout.String(); !strings.Contains(out, "nothing to do") && !strings.Contains(out, "no unfinished runs") {
			t.Errorf("%v again says:\n%s", args, out)
		}
		if got := fileSize(t, path); got != size {
			t.Errorf("%v again changed the journal: %d bytes, was %d", args, got, size)
		}
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

func TestRecoverBadInput(t *testing.T) {
	code, _, errs := gameday(t, "recover", filepath.Join(t.TempDir(), "nope"))
	if code != exitInvalid || !strings.Contains(errs, "nope") {
		t.Errorf("missing run: exit %d: %s", code, errs)
	}
	code, out, _ := gameday(t, "recover", "--runs-dir", t.TempDir())
	if code != exitOK || !strings.Contains(out, "no unfinished runs") {
		t.Errorf("empty runs dir: exit %d: %s", code, out)
	}
}

// sealedRunDir writes what gameday run writes, sealed with the tests' key,
// in runs/id: run.start, a blast.confirmed of the injections' members,
// then an attack.intent and a successful attack.result of each.
func sealedRunDir(t *testing.T, runs, id string, injs ...*targets.Injection) string {
	t.Helper()
	dir := filepath.Join(runs, id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	key, err := journalKey(true)
	if err != nil {
		t.Fatal(err)
	}
	j, err := gamedays.CreateSealedJournal(filepath.Join(dir, gamedays.JournalName), gamedays.WallClock(), key)
	if err != nil {
		t.Fatal(err)
	}
	var members []targets.Member
	for _, inj := range injs {
		members = append(members, inj.Member)
	}
	events := []gamedays.Event{{Type: gamedays.EvRunStart, RunID: id}, {Type: gamedays.EvConfirmed, Members: members}}
	ok := true
	for _, inj := range injs {
		events = append(events, gamedays.Event{Type: gamedays.EvAttackIntent, Injection: inj}, gamedays.Event{Type: gamedays.EvAttackResult, Injection: inj, OK: &ok})
	}
	for _, ev := range events {
		if _, err := j.Append(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// noTerminal gives the in-process gameday a stdin that is not a terminal,
// as a script or cron has.
func noTerminal(t *testing.T) {
	t.Helper()
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	was := os.Stdin
	os.Stdin = f
	t.Cleanup(func() { os.Stdin = was; f.Close() })
}

// unreachable is an injection on a host nobody listens on: port 1 on
// loopback refuses the dial at once.
func unreachable(runID string) *targets.Injection {
	return &targets.Injection{RunID: runID, Attack: "burn", Kind: "cpu", Duration: time.Minute,
		Member: targets.Member{Target: "web", ID: "web-1", Addr: "127.0.0.1:1", Labels: map[string]string{"user": "root"}}}
}

// A host that cannot be reached keeps its injection unreverted: recover
// says so loudly and exits 5, and the journal records the failed attempt.
func TestRecoverUnreachableExits5(t *testing.T) {
	const id = "20261123T090000Z-x"
	dir := sealedRunDir(t, filepath.Join(t.TempDir(), "runs"), id, unreachable(id))
	path := filepath.Join(dir, gamedays.JournalName)
	none := filepath.Join(t.TempDir(), "none")
	code, _, errs := gameday(t, "recover", "--yes", dir, "-F", none, "--known-hosts", none, "--abort-timeout", "10s")
	if code != exitRollback || !strings.Contains(errs, "ROLLBACK FAILED: burn (cpu) on web-1 (127.0.0.1:1)") || !strings.Contains(errs, "ROLLBACK INCOMPLETE") {
		t.Fatalf("exit %d, want %d with the failure named:\n%s", code, exitRollback, errs)
	}
	events, warn, err := gamedays.ReadJournal(path)
	if err != nil || warn != nil {
		t.Fatal(err, warn)
	}
	last := events[len(events)-1]
	if last.Type != gamedays.EvRecover || last.OK == nil || *last.OK || len(last.Failed) != 1 {
		t.Errorf("last event %+v, want a failed recover", last)
	}
	// Still unfinished: a scan finds it again.
	code, _, _ = gameday(t, "recover", "--yes", "--runs-dir", filepath.Dir(dir), "-F", none, "--known-hosts", none, "--abort-timeout", "10s")
	if code != exitRollback {
		t.Errorf("scan: exit %d, want %d", code, exitRollback)
	}
}

// Without a terminal to ask on and without --yes, recover shows what it
// would run and refuses to run it.
func TestRecoverAsksOrNeedsYes(t *testing.T) {
	noTerminal(t)
	const id = "20261123T090000Z-y"
	dir := sealedRunDir(t, filepath.Join(t.TempDir(), "runs"), id, unreachable(id))
	path := filepath.Join(dir, gamedays.JournalName)
	before, _ := os.ReadFile(path)
	none := filepath.Join(t.TempDir(), "none")
	code, out, errs := gameday(t, "recover", dir, "-F", none, "--known-hosts", none)
	if code != exitInvalid || !strings.Contains(errs, "stdin is not a terminal") || !strings.Contains(errs, "--yes") {
		t.Errorf("exit %d, want %d and the reason:\n%s", code, exitInvalid, errs)
	}
	if !strings.Contains(out, "burn (cpu) on web-1 (127.0.0.1:1):") || !strings.Contains(out, "ssh web-1 rollback: ") {
		t.Errorf("the plan was not shown:\n%s", out)
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Error("an unconfirmed recover wrote to the journal")
	}
	code, _, errs = gameday(t, "recover", "--trust-journal", "--runs-dir", filepath.Dir(dir))
	if code != exitInvalid || !strings.Contains(errs, "name its run") {
		t.Errorf("--trust-journal over a whole runs directory: exit %d\n%s", code, errs)
	}
}

// realHost is a real sshd on loopback logging in as root, with the flags
// that reach it and nothing else.
type realHost struct {
	flags  []string
	member targets.Member
}

func newRealHost(t *testing.T) realHost {
	t.Helper()
	sshd := e2e.StartSSHD(t, "127.0.0.1", "")
	host, port, _ := strings.Cut(sshd.Addr, ":")
	cfg := filepath.Join(t.TempDir(), "ssh_config")
	if err := os.WriteFile(cfg, []byte("Host lab-1\n  HostName "+host+"\n  Port "+port+"\n  User root\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return realHost{
		flags:  []string{"-F", cfg, "--known-hosts", sshd.KnownHosts, "-i", sshd.UserKey, "--abort-timeout", "30s"},
		member: targets.Member{Target: "web", ID: "lab-1", Labels: map[string]string{"user": "root"}},
	}
}

// customRun is a run killed after injecting a custom attack whose rollback
// appends to mark.
func customRun(t *testing.T, runs, id string, h realHost, mark string) string {
	t.Helper()
	inj := &targets.Injection{RunID: id, Attack: "own", Kind: "custom", Member: h.member, Duration: 5 * time.Minute,
		Params: map[string]string{"inject": "true", "rollback": "echo rolled-back >>" + mark}}
	return sealedRunDir(t, runs, id, inj)
}

// The attack issue 17 describes: a journal edited after the run so that
// recover runs something else as root. Each change is refused, naming its
// line, and nothing runs; a person who has read it can still recover it.
func TestRecoverRefusesAChangedJournal(t *testing.T) {
	h := newRealHost(t)
	const id = "20261123T090000Z-custom"
	// Lines: 1 run.start, 2 blast.confirmed, 3 attack.intent, 4 attack.result.
	for _, c := range []struct {
		name   string
		change func(l []string, evil string) []string
		line   int
	}{
		{"edit a command", func(l []string, evil string) []string {
			// The intent and the result, as recover reads the result's.
			for i := 2; i <= 3; i++ {
				l[i] = strings.Replace(l[i], "echo rolled-back", "id \\u003e"+evil+"; echo rolled-back", 1)
			}
			return l
		}, 3},
		{"insert a line", func(l []string, evil string) []string {
			forged := strings.Replace(l[2], `"attack":"own"`, `"attack":"forged"`, 1)
			forged = strings.Replace(forged, "echo rolled-back", "id \\u003e"+evil+"; echo", 1)
			return append(l[:3], append([]string{forged}, l[3:]...)...)
		}, 4},
		{"delete a line", func(l []string, evil string) []string {
			return append(l[:1], l[2:]...)
		}, 2},
		{"swap two lines", func(l []string, evil string) []string {
			l[2], l[3] = l[3], l[2]
			return l
		}, 3},
		{"change run_id", func(l []string, evil string) []string {
			l[0] = strings.Replace(l[0], `"run_id":"`+id+`"`, `"run_id":"20261123T090000Z-other"`, 1)
			return l
		}, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			tmp := t.TempDir()
			mark, evil := filepath.Join(tmp, "mark"), filepath.Join(tmp, "evil")
			dir := customRun(t, filepath.Join(tmp, "runs"), id, h, mark)
			path := filepath.Join(dir, gamedays.JournalName)
			journaltest.Edit(t, path, func(l []string) []string { return c.change(l, evil) })
			code, out, errs := gameday(t, append([]string{"recover", "--yes", dir}, h.flags...)...)
			want := path + ":" + strconv.Itoa(c.line) + ": "
			if code != exitInvalid || !strings.Contains(errs, want) || !strings.Contains(errs, "--trust-journal") {
				t.Errorf("exit %d, want %d naming %s:\n%s%s", code, exitInvalid, want, out, errs)
			}
			for _, f := range []string{mark, evil} {
				if _, err := os.Stat(f); !os.IsNotExist(err) {
					t.Errorf("%s exists: something ran from a refused journal", f)
				}
			}
			// A bare recover over the runs directory refuses it too.
			code, _, errs = gameday(t, append([]string{"recover", "--yes", "--runs-dir", filepath.Dir(dir)}, h.flags...)...)
			if code != exitInvalid || !strings.Contains(errs, want) {
				t.Errorf("recover --runs-dir: exit %d\n%s", code, errs)
			}
		})
	}

	// Read and trusted, the edited journal runs as edited.
	tmp := t.TempDir()
	mark, evil := filepath.Join(tmp, "mark"), filepath.Join(tmp, "evil")
	dir := customRun(t, filepath.Join(tmp, "runs"), id, h, mark)
	path := filepath.Join(dir, gamedays.JournalName)
	journaltest.Edit(t, path, func(l []string) []string {
		// The encoder writes > as \u003e.
		for i := 2; i <= 3; i++ {
			l[i] = strings.Replace(l[i], "echo rolled-back", "echo edited \\u003e"+evil+"; echo rolled-back", 1)
		}
		return l
	})
	code, out, errs := gameday(t, append([]string{"recover", "--yes", "--trust-journal", dir}, h.flags...)...)
	if code != exitOK || !strings.Contains(out, "WARNING: trusted with --trust-journal") || !strings.Contains(out, path+":3: seal does not match") {
		t.Fatalf("trusted recover: exit %d\n%s%s", code, out, errs)
	}
	for _, f := range []string{mark, evil} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("the trusted rollback did not run: %v", err)
		}
	}
	events, _, err := gamedays.ReadJournal(path)
	if err != nil || !strings.Contains(events[len(events)-1].Msg, "rolled back") {
		t.Errorf("journal after a trusted recover: %v", err)
	}
}

// On a terminal, recover shows the plan and rolls back only once a person
// says yes: an intact journal, and a damaged one trusted with
// --trust-journal.
func TestRecoverConfirmsOnATerminal(t *testing.T) {
	h := newRealHost(t)
	for _, c := range []struct {
		name   string
		damage bool
		answer string
	}{
		{"intact, no", false, "n"},
		{"intact, yes", false, "y"},
		{"damaged and trusted, yes", true, "y"},
	} {
		t.Run(c.name, func(t *testing.T) {
			const id = "20261123T090000Z-term"
			tmp := t.TempDir()
			mark := filepath.Join(tmp, "mark")
			dir := customRun(t, filepath.Join(tmp, "runs"), id, h, mark)
			args := append([]string{"recover", dir}, h.flags...)
			if c.damage {
				path := filepath.Join(dir, gamedays.JournalName)
				journaltest.Edit(t, path, func(l []string) []string {
					l[1] = "{a damaged blast.confirmed\n"
					return l
				})
				args = append(args, "--trust-journal")
			}
			env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + tmp, "TERM=xterm-256color", "XDG_STATE_HOME=" + os.Getenv("XDG_STATE_HOME")}
			x := e2e.StartTmux(t, 200, 50, env, append([]string{binary(t)}, args...)...)
			screen := x.WaitText(30*time.Second, "Roll back now? [y/N]")
			if !strings.Contains(screen, "own (custom) on lab-1") || !strings.Contains(screen, "ssh lab-1 rollback: ") || !strings.Contains(screen, "rolled-back") {
				t.Errorf("the plan shown:\n%s", screen)
			}
			if c.damage && !strings.Contains(screen, ":2: damaged line") {
				t.Errorf("the trusted problem is not shown:\n%s", screen)
			}
			x.Send(c.answer, "Enter")
			code := x.Wait(time.Minute)
			_, err := os.Stat(mark)
			switch c.answer {
			case "y":
				if code != exitOK || err != nil {
					t.Errorf("answered yes: exit %d, rollback ran: %v\n%s", code, err, x.Screen())
				}
			default:
				if code != exitInvalid || !os.IsNotExist(err) {
					t.Errorf("answered no: exit %d, mark %v\n%s", code, err, x.Screen())
				}
			}
		})
	}
}
