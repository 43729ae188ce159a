package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gameday/gameday/gamedays"
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
	rc := start(t, append([]string{"recover"}, l.flags()[2:]...)...)
	if code := rc.wait(t, 2*time.Minute); code != exitOK {
		t.Fatalf("recover: exit %d\nstdout:\n%s\nstderr:\n%s", code, rc.stdout.String(), rc.stderr.String())
	}
	reverted(t, pid, "recover")
	if time.Since(injectedAt) >= attack {
		t.Fatal("the attack's own duration passed: cannot tell recover's rollback from the dead man's switch")
	}
	out := rc.stdout.String()
	t.Logf("recover stdout:\n%s\nstderr:\n%s", out, rc.stderr.String())
	if !strings.Contains(out, "rolled back burn (cpu) on lab-1") || !strings.Contains(out, "incomplete") {
		t.Errorf("recover output:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join("/run/gameday", filepath.Base(dir))); !os.IsNotExist(err) {
		t.Errorf("state directory left on the host: %v", err)
	}

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
	size := fileSize(t, path)

	// Twice is safe: nothing to do, nothing written.
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

// A host that cannot be reached keeps its injection unreverted: recover
// says so loudly and exits 5, and the journal records the failed attempt.
func TestRecoverUnreachableExits5(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "runs", "20261123T090000Z-x")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, gamedays.JournalName)
	j, err := gamedays.CreateJournal(path, gamedays.WallClock())
	if err != nil {
		t.Fatal(err)
	}
	// Port 1 on loopback: nothing listens, the dial is refused at once.
	inj := &targets.Injection{RunID: "20261123T090000Z-x", Attack: "burn", Kind: "cpu", Duration: time.Minute,
		Member: targets.Member{Target: "web", ID: "web-1", Addr: "127.0.0.1:1", Labels: map[string]string{"user": "root"}}}
	j.Append(gamedays.Event{Type: gamedays.EvAttackIntent, Injection: inj})
	j.Close()
	none := filepath.Join(t.TempDir(), "none")
	code, _, errs := gameday(t, "recover", dir, "-F", none, "--known-hosts", none, "--abort-timeout", "10s")
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
	code, _, _ = gameday(t, "recover", "--runs-dir", filepath.Dir(dir), "-F", none, "--known-hosts", none, "--abort-timeout", "10s")
	if code != exitRollback {
		t.Errorf("scan: exit %d, want %d", code, exitRollback)
	}
}
