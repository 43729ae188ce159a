package ssh

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gameday/gameday/lab/e2e"
	"github.com/gameday/gameday/targets"
)

// tmpfs mounts a file system of size bytes of the test's own, so how full
// it gets is the test's to know.
func tmpfs(t *testing.T, size string) string {
	t.Helper()
	e2e.NeedRoot(t)
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		e2e.Missing(t, "mount -t tmpfs: "+strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	return dir
}

func usedShare(t *testing.T, dir string) float64 {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return 100 * float64(st.Blocks-st.Bfree) / float64(st.Blocks)
}

// max_fill holds on the host: a fill in bytes larger than the guard leaves
// stops at it, and a file system already that full is refused by preflight
// and inject alike.
func TestDiskFillStopsAtMaxFill(t *testing.T) {
	e2e.Need(t, "sshd", "setsid", "fallocate")
	dir := tmpfs(t, "32m")
	s := startSSHD(t, "127.0.0.1", "")
	e := s.executor(t, nil)
	ctx := ctxFor(t)
	fill := targets.Injection{RunID: "tmaxfill", Attack: "fill", Kind: "disk-fill", Member: s.member(),
		Params: map[string]string{"path": dir, "size": "30MiB", "max_fill": "50%"}, Duration: time.Minute}
	res, err := e.Inject(ctx, &fill)
	if err != nil {
		t.Fatalf("inject: %v\n%s", err, res.Output)
	}
	t.Cleanup(func() { e.Rollback(ctxFor(t), fill) })
	if !strings.Contains(res.Output, "(max_fill); taking") {
		t.Errorf("inject did not say it was capped:\n%s", res.Output)
	}
	if used := usedShare(t, dir); used > 50 || used < 45 {
		t.Errorf("the file system is %.1f%% full, want just under 50%%", used)
	}

	more := fill
	more.Attack, more.Params = "more", map[string]string{"path": dir, "size": "1MiB", "max_fill": "40"}
	if err := e.Preflight(ctx, more); err == nil || !strings.Contains(err.Error(), "already at least 40% full (max_fill)") {
		t.Errorf("preflight on a file system past max_fill: %v", err)
	}
	if res, err := e.Inject(ctx, &more); err == nil || !strings.Contains(err.Error()+res.Output, "max_fill") {
		t.Errorf("inject on a file system past max_fill: %v\n%s", err, res.Output)
	}
	if _, err := os.Stat(fillFile(dir, namesFor(more))); !os.IsNotExist(err) {
		t.Errorf("the refused fill left a file: %v", err)
	}

	if res, err := e.Rollback(ctx, fill); err != nil {
		t.Fatalf("rollback: %v\n%s", err, res.Output)
	}
	if used := usedShare(t, dir); used > 1 {
		t.Errorf("%.1f%% still used after rollback", used)
	}
}

// A planned rollback says whether the fault was still there: one removed
// by something else meanwhile (here the fill file, deleted by hand) is
// reported gone, so the verdict can say its window was not the one
// planned; one still in place is not. Kinds the system ends by design
// (a unit started again) never report it.
func TestRollbackSaysWhetherTheFaultWasStillThere(t *testing.T) {
	e2e.Need(t, "sshd", "setsid", "fallocate")
	dir := t.TempDir()
	s := startSSHD(t, "127.0.0.1", "")
	e := s.executor(t, nil)
	ctx := ctxFor(t)
	for _, c := range []struct {
		attack string
		remove bool
	}{{"removed", true}, {"kept", false}} {
		fill := targets.Injection{RunID: "tgone", Attack: c.attack, Kind: "disk-fill", Member: s.member(),
			Params: map[string]string{"path": dir, "size": "1MiB"}, Duration: time.Minute}
		if res, err := e.Inject(ctx, &fill); err != nil {
			t.Fatalf("%s: inject: %v\n%s", c.attack, err, res.Output)
		}
		if c.remove {
			if err := os.Remove(fillFile(dir, namesFor(fill))); err != nil {
				t.Fatal(err)
			}
		}
		res, err := e.Rollback(ctx, fill)
		if err != nil {
			t.Fatalf("%s: rollback: %v\n%s", c.attack, err, res.Output)
		}
		if res.Gone != c.remove || !strings.Contains(res.Output, map[bool]string{true: faultGone, false: faultInPlace}[c.remove]) {
			t.Errorf("%s: rollback gone=%v, want %v:\n%s", c.attack, res.Gone, c.remove, res.Output)
		}
	}
	for kind, params := range map[string]map[string]string{"service-stop": {"unit": "nginx"}, "process-pause": {"name": "nginx"}} {
		a, n := buildFor(t, kind, params)
		if rb := rollbackScript(n, a); strings.Contains(rb, faultGone) {
			t.Errorf("%s: its rollback reports a fault gone, which the system ends by design:\n%s", kind, rb)
		}
	}
}

// Between inject and rollback a landed fault is checked: one a person took
// away is told to Options.Ended, once, soon after; one still in place is
// not; a rollback ends the checks.
func TestAFaultTakenAwayIsToldWhileItRuns(t *testing.T) {
	e2e.Need(t, "sshd", "setsid", "fallocate")
	dir := t.TempDir()
	s := startSSHD(t, "127.0.0.1", "")
	told := make(chan string, 8)
	e := s.executor(t, func(o *Options) {
		o.WatchEvery = 100 * time.Millisecond
		o.Ended = func(inj targets.Injection, msg string) { told <- inj.Attack + ": " + msg }
	})
	ctx := ctxFor(t)
	fill := func(attack string) targets.Injection {
		inj := targets.Injection{RunID: "twatch", Attack: attack, Kind: "disk-fill", Member: s.member(),
			Params: map[string]string{"path": dir, "size": "1MiB"}, Duration: time.Minute}
		if res, err := e.Inject(ctx, &inj); err != nil {
			t.Fatalf("%s: inject: %v\n%s", attack, err, res.Output)
		}
		return inj
	}
	taken, kept := fill("taken"), fill("kept")
	if err := os.Remove(fillFile(dir, namesFor(taken))); err != nil {
		t.Fatal(err)
	}
	if msg := e2e.Receive(t, told, 10*time.Second, "the fault taken away, told"); !strings.HasPrefix(msg, "taken: the fault was no longer in place at ") || !strings.Contains(msg, "something other than gameday ended it") {
		t.Errorf("told %q", msg)
	}
	for _, inj := range []targets.Injection{taken, kept} {
		if res, err := e.Rollback(ctx, inj); err != nil {
			t.Fatalf("rollback: %v\n%s", err, res.Output)
		}
	}
	// Once rolled back, nothing is checked: a fault gone now is gameday's doing.
	time.Sleep(500 * time.Millisecond)
	select {
	case msg := <-told:
		t.Errorf("told after the rollbacks: %q", msg)
	default:
	}
}
