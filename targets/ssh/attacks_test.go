package ssh

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gameday/gameday/lab/e2e"
	"github.com/gameday/gameday/targets"
)

// stateDir is where root's injections keep their state on this host.
func stateDir(inj targets.Injection) string { return "/run/gameday/" + namesFor(inj).run }

func procState(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2 : i+3]
	}
	return ""
}

func alive(pid int) bool {
	st := procState(pid)
	return st != "" && st != "Z"
}

func readPid(t testing.TB, path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}

// victim starts a sleep whose pid is in a pidfile, for kill and pause.
func victim(t *testing.T) (*exec.Cmd, string) {
	cmd := exec.Command("sleep", "300")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	pf := filepath.Join(t.TempDir(), "victim.pid")
	if err := os.WriteFile(pf, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return cmd, pf
}

// TestAttacksOnRealSSHD runs each attack whose tools exist here against a
// real sshd on loopback, checks the effect on the host, rolls back, checks
// it is gone, and rolls back again (idempotent).
func TestAttacksOnRealSSHD(t *testing.T) {
	e2e.Need(t, "sshd", "stress-ng", "setsid", "fallocate", "pgrep")
	s := startSSHD(t, "127.0.0.1", "")
	e := s.executor(t, nil)
	runID := "t" + strconv.FormatInt(time.Now().UnixNano(), 36)

	pidfileAlive := func(t *testing.T, inj targets.Injection) (func() bool, func() bool) {
		pf := filepath.Join(stateDir(inj), namesFor(inj).item+".pid")
		pid := readPid(t, pf)
		return func() bool { return pid > 0 && alive(pid) }, func() bool { return pid > 0 && !alive(pid) }
	}
	fillDir := t.TempDir()
	cases := []struct {
		kind   string
		params map[string]string
		check  effectCheck
	}{
		{"cpu", map[string]string{"workers": "1", "load": "20"}, pidfileAlive},
		{"memory", map[string]string{"size": "16MiB"}, pidfileAlive},
		{"io", map[string]string{"workers": "1", "path": t.TempDir()}, pidfileAlive},
		{"disk-fill", map[string]string{"path": fillDir, "size": "8MiB"}, func(t *testing.T, inj targets.Injection) (func() bool, func() bool) {
			f := fillFile(fillDir, namesFor(inj))
			return func() bool { st, err := os.Stat(f); return err == nil && st.Size() == 8<<20 },
				func() bool { _, err := os.Stat(f); return os.IsNotExist(err) }
		}},
		{"custom", map[string]string{"inject": "touch {{mark:path}}", "rollback": "rm -f {{mark:path}}", "mark": filepath.Join(fillDir, "custom-mark")},
			func(t *testing.T, inj targets.Injection) (func() bool, func() bool) {
				f := filepath.Join(fillDir, "custom-mark")
				return func() bool { _, err := os.Stat(f); return err == nil }, func() bool { _, err := os.Stat(f); return os.IsNotExist(err) }
			}},
	}
	for _, c := range cases {
		t.Run(c.kind, func(t *testing.T) {
			attackRoundTrip(t, e, targets.Injection{RunID: runID, Attack: "attack " + c.kind, Kind: c.kind, Member: s.member(), Params: c.params, Duration: time.Minute}, c.check)
		})
	}

	t.Run("process-pause", func(t *testing.T) { pauseRoundTrip(t, e, s.member(), runID) })
	t.Run("process-kill", func(t *testing.T) { killRoundTrip(t, e, s.member(), runID) })

	t.Run("rollback-never-injected", func(t *testing.T) {
		inj := targets.Injection{RunID: runID, Attack: "never", Kind: "disk-fill", Member: s.member(),
			Params: map[string]string{"path": fillDir, "size": "1GiB"}, Duration: time.Minute}
		if _, err := e.Rollback(ctxFor(t), inj); err != nil {
			t.Fatal(err)
		}
	})

	// One connection and one session for everything above: preflight,
	// inject and rollback of every kind rode the same handshake and the
	// same shell on the host.
	if n := e.Handshakes(); n != 1 {
		t.Errorf("made %d SSH connections to one host, want 1", n)
	}
	if n := e.Sessions(); n != 1 {
		t.Errorf("opened %d SSH sessions on one host for steps run one after another, want 1", n)
	}
	if _, err := os.Stat("/run/gameday/" + runID); !os.IsNotExist(err) {
		t.Errorf("state directory /run/gameday/%s left behind (err %v)", runID, err)
	}
}

// effectCheck says how to see an attack's effect on this host: applied
// holds while it is in effect, reverted once it is gone.
type effectCheck func(t *testing.T, inj targets.Injection) (applied, reverted func() bool)

// attackRoundTrip injects, checks the effect and the dead man's switch,
// rolls back from the journalled intent alone, checks both are gone, and
// rolls back again (idempotent).
func attackRoundTrip(t *testing.T, e *Executor, inj targets.Injection, check effectCheck) {
	ctx := ctxFor(t)
	if err := e.Preflight(ctx, inj); err != nil {
		t.Fatalf("preflight: %v", err)
	}
	res, err := e.Inject(ctx, &inj)
	if err != nil {
		t.Fatalf("inject: %v\n%s", err, res.Output)
	}
	timer := readPid(t, filepath.Join(stateDir(inj), namesFor(inj).item+".timer"))
	if timer == 0 || !alive(timer) {
		t.Fatalf("no dead man's switch running after inject (pid %d)", timer)
	}
	applied, reverted := check(t, inj)
	if !applied() {
		t.Fatalf("%s not in effect after inject; output:\n%s", inj.Kind, res.Output)
	}
	inj.State = nil // status and rollback must work from the journalled intent alone
	known := inj.Kind != "custom"
	if st, err := e.Status(ctx, inj); err != nil || st.Known != known || st.InPlace != known || !st.Armed {
		t.Fatalf("status after inject: %+v %v", st, err)
	}
	if res, err := e.Rollback(ctx, inj); err != nil {
		t.Fatalf("rollback: %v\n%s", err, res.Output)
	}
	e2e.WaitFor(t, 10*time.Second, inj.Kind+" still in effect after rollback", reverted)
	e2e.WaitFor(t, 5*time.Second, "dead man's switch still running after rollback", func() bool { return !alive(timer) })
	if st, err := e.Status(ctx, inj); err != nil || st.InPlace || st.Armed {
		t.Fatalf("status after rollback: %+v %v", st, err)
	}
	if _, err := e.Rollback(ctx, inj); err != nil {
		t.Fatalf("second rollback: %v", err)
	}
}

// pauseRoundTrip stops a process and lets it run again.
func pauseRoundTrip(t *testing.T, e *Executor, m targets.Member, runID string) {
	cmd, pf := victim(t)
	pid := cmd.Process.Pid
	inj := targets.Injection{RunID: runID, Attack: "pause", Kind: "process-pause", Member: m, Params: map[string]string{"pidfile": pf}, Duration: time.Minute}
	ctx := ctxFor(t)
	if _, err := e.Inject(ctx, &inj); err != nil {
		t.Fatal(err)
	}
	e2e.WaitFor(t, 5*time.Second, "victim not stopped (state T)", func() bool { return procState(pid) == "T" })
	if st, err := e.Status(ctx, inj); err != nil || !st.InPlace || !st.Armed {
		t.Fatalf("status while paused: %+v %v", st, err)
	}
	if _, err := e.Rollback(ctx, inj); err != nil {
		t.Fatal(err)
	}
	e2e.WaitFor(t, 5*time.Second, "victim not running again (state S)", func() bool { return procState(pid) == "S" })
	if st, err := e.Status(ctx, inj); err != nil || st.InPlace || st.Armed {
		t.Fatalf("status after rollback: %+v %v", st, err)
	}
}

// killRoundTrip kills a process; its rollback changes nothing.
func killRoundTrip(t *testing.T, e *Executor, m targets.Member, runID string) {
	cmd, pf := victim(t)
	inj := targets.Injection{RunID: runID, Attack: "kill", Kind: "process-kill", Member: m, Params: map[string]string{"pidfile": pf, "signal": "TERM"}, Duration: time.Minute}
	ctx := ctxFor(t)
	if err := e.Preflight(ctx, inj); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Inject(ctx, &inj); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "terminated") {
			t.Fatalf("victim ended with %v, want signal: terminated", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("victim still running after process-kill")
	}
	if res, err := e.Rollback(ctx, inj); err != nil {
		t.Fatalf("rollback of a kill should be a no-op: %v %s", err, res.Output)
	}
}
