package ssh

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gameday/gameday/lab/e2e"
	"github.com/gameday/gameday/targets"
)

// helperEnv switches the test binary into the client that injects and is
// then killed by TestDeadMansSwitch.
const helperEnv = "GAMEDAY_SSH_DEADMAN_HELPER"

// TestDeadMansSwitchHelper is not a test: run with helperEnv set, it is the
// console that injects two attacks, says so, and hangs until killed.
func TestDeadMansSwitchHelper(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("helper process for TestDeadMansSwitch")
	}
	env := func(k string) string { return os.Getenv("GDT_" + k) }
	e := New(Options{
		SSHConfig: env("DIR") + "/no-ssh-config", KnownHosts: env("KNOWN_HOSTS"),
		IdentityFiles: []string{env("KEY")}, AgentSocket: "-", Grace: time.Second,
	})
	m := targets.Member{ID: "test-host", Addr: env("ADDR"), Labels: map[string]string{LabelUser: "root"}}
	start := time.Now()
	for _, inj := range []targets.Injection{
		{RunID: env("RUN"), Attack: "pause", Kind: "process-pause", Member: m, Params: map[string]string{"pidfile": env("PIDFILE")}, Duration: 3 * time.Second},
		{RunID: env("RUN"), Attack: "fill", Kind: "disk-fill", Member: m, Params: map[string]string{"path": env("FILL"), "size": "4MiB"}, Duration: 3 * time.Second},
	} {
		if res, err := e.Inject(context.Background(), &inj); err != nil {
			fmt.Printf("FAILED %v %s\n", err, res.Output)
			os.Exit(1)
		}
	}
	fmt.Printf("INJECTED %d\n", start.UnixNano())
	select {}
}

// TestDeadMansSwitch: a console injects with a 3 s duration and is killed
// with SIGKILL; the host must be clean at duration + grace with no help.
func TestDeadMansSwitch(t *testing.T) {
	e2e.Need(t, "sshd", "setsid", "fallocate", "pgrep")
	s := startSSHD(t, "127.0.0.1", "")
	cmd, pf := victim(t)
	pid := cmd.Process.Pid
	fill := t.TempDir()
	run := "dms" + strconv.FormatInt(time.Now().UnixNano(), 36)

	helper := exec.Command(os.Args[0], "-test.run=^TestDeadMansSwitchHelper$", "-test.count=1")
	helper.Env = append(os.Environ(), helperEnv+"=1",
		"GDT_DIR="+s.Dir, "GDT_KNOWN_HOSTS="+s.KnownHosts, "GDT_KEY="+s.UserKey, "GDT_ADDR="+s.Addr,
		"GDT_RUN="+run, "GDT_PIDFILE="+pf, "GDT_FILL="+fill)
	out, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	helper.Stderr = os.Stderr
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { helper.Process.Kill(); helper.Wait() })

	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	deadline := time.After(30 * time.Second)
	var started time.Time
wait:
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("helper exited before injecting")
			}
			if strings.HasPrefix(l, "FAILED") {
				t.Fatal(l)
			}
			if rest, ok := strings.CutPrefix(l, "INJECTED "); ok {
				ns, _ := strconv.ParseInt(rest, 10, 64)
				started = time.Unix(0, ns)
				break wait
			}
		case <-deadline:
			t.Fatal("helper did not inject within 30s")
		}
	}
	if err := helper.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	helper.Wait()

	fillName := fillFile(fill, namesFor(targets.Injection{RunID: run, Attack: "fill"}))
	// The faults must outlive the console until their deadline. On a
	// machine so loaded that the deadline already passed, this cannot be
	// observed, and only the clean-up below is checked.
	if time.Since(started) < 2500*time.Millisecond {
		if st := procState(pid); st != "T" {
			t.Fatalf("victim state %q right after the console died, want T", st)
		}
		if _, err := os.Stat(fillName); err != nil {
			t.Fatalf("fill file missing right after the console died: %v", err)
		}
	}
	// Duration 3 s + grace 1 s, plus slack for a loaded machine.
	e2e.WaitFor(t, 12*time.Second, "victim still stopped after duration + grace", func() bool { return procState(pid) == "S" })
	e2e.WaitFor(t, 5*time.Second, "fill file still there after duration + grace", func() bool { _, err := os.Stat(fillName); return os.IsNotExist(err) })
	e2e.WaitFor(t, 5*time.Second, "state directory still there", func() bool { _, err := os.Stat(filepath.Join("/run/gameday", run)); return os.IsNotExist(err) })
}
