package ssh

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gameday/gameday/targets"
)

// TestShellKeepsScriptsApart sends scripts that would each spoil a shared
// shell if they reached it directly: an exit, a syntax error, a variable, a
// cd, a reader of stdin, a flood of output. Each gets its own status and
// output, and the one session serves them all.
func TestShellKeepsScriptsApart(t *testing.T) {
	s, kh, key := startServer(t, 1, t.TempDir(), os.Environ())
	e := New(Options{SSHConfig: "/nonexistent-gameday-test", KnownHosts: kh, IdentityFiles: []string{key}, AgentSocket: "-", OutputLimit: 1024})
	t.Cleanup(func() { e.Close() })
	m := targets.Member{ID: "h", Addr: s.addrs[0], Labels: map[string]string{LabelUser: "deploy"}}
	step := &steps{}
	run := func(script string) (string, error) {
		t.Helper()
		return e.exec(ctxFor(t), m, script, "test", step)
	}
	exitStatus := func(err error) int {
		var ee *exitError
		if errors.As(err, &ee) {
			return ee.status
		}
		return -1
	}

	if out, err := run("echo one; exit 3"); exitStatus(err) != 3 || out != "one" {
		t.Fatalf("exit 3: %q %v", out, err)
	}
	if out, err := run("echo 'unbalanced"); err == nil || !strings.Contains(out, "nterminated") && !strings.Contains(out, "EOF") {
		t.Fatalf("syntax error: %q %v", out, err)
	}
	if out, err := run("X=leaked; cd /; set -eu; false"); exitStatus(err) != 1 {
		t.Fatalf("set -e; false: %q %v", out, err)
	}
	wd, _ := os.Getwd() // the stand-in host's shell starts where this test runs
	if out, err := run(`echo "${X:-unset}"; pwd; case $- in *e*) echo errexit ;; esac`); err != nil || out != "unset\n"+wd {
		t.Fatalf("a variable, cd or set -e leaked between scripts: %q %v", out, err)
	}
	if out, err := run("cat; echo after-cat"); err != nil || out != "after-cat" {
		t.Fatalf("a reader of stdin: %q %v", out, err)
	}
	if out, err := run("echo next-script-intact"); err != nil || out != "next-script-intact" {
		t.Fatalf("after a reader of stdin: %q %v", out, err)
	}
	out, err := run("i=0; while [ $i -lt 2000 ]; do echo 0123456789; i=$((i+1)); done")
	if err != nil || !strings.HasSuffix(out, "more bytes not kept]") || len(out) > 1100 {
		t.Fatalf("output not bounded: %d bytes, %v", len(out), err)
	}
	if out, err := run("printf 'no newline at the end'"); err != nil || out != "no newline at the end" {
		t.Fatalf("unterminated last line: %q %v", out, err)
	}
	if n := e.Sessions(); n != 1 {
		t.Errorf("%d sessions for scripts run one after another, want 1", n)
	}
}

// TestFanoutAndDeadline: no more hosts than Fanout are worked on at once,
// and a host whose step hangs fails alone, by its deadline, naming itself;
// its next step gets a fresh shell.
func TestFanoutAndDeadline(t *testing.T) {
	dir := t.TempDir()
	s, kh, key := startServer(t, 6, dir, os.Environ())
	e := New(Options{SSHConfig: "/nonexistent-gameday-test", KnownHosts: kh, IdentityFiles: []string{key}, AgentSocket: "-",
		Fanout: 2, HostDeadline: 2 * time.Second})
	t.Cleanup(func() { e.Close() })
	slots := filepath.Join(dir, "slots")
	os.Mkdir(slots, 0o755)
	// Each step takes a slot, counts the slots taken, holds it a moment.
	script := func(i int) string {
		return fmt.Sprintf("mkdir %[1]s/%[2]d && ls %[1]s | wc -l >>%[3]s && sleep 0.3; rmdir %[1]s/%[2]d", slots, i, filepath.Join(dir, "counts"))
	}
	errs := make([]error, len(s.addrs))
	var wg sync.WaitGroup
	for i, a := range s.addrs {
		m := targets.Member{ID: fmt.Sprintf("h%d", i+1), Addr: a, Labels: map[string]string{LabelUser: "deploy"}}
		wg.Go(func() {
			cmd := script(i)
			if i == 5 {
				cmd = "sleep 30"
			}
			_, errs[i] = e.exec(t.Context(), m, cmd, "inject", &steps{})
		})
	}
	wg.Wait()
	counts := strings.Fields(readFile(t, filepath.Join(dir, "counts")))
	if len(counts) != 5 {
		t.Fatalf("%d steps counted, want 5: %q", len(counts), counts)
	}
	for _, c := range counts {
		if c != "1" && c != "2" {
			t.Fatalf("%s hosts worked on at once with Fanout 2 (counts %q)", c, counts)
		}
	}
	for i, err := range errs[:5] {
		if err != nil {
			t.Errorf("h%d: %v", i+1, err)
		}
	}
	if err := errs[5]; err == nil || !strings.HasPrefix(err.Error(), "host h6: inject did not finish in time") {
		t.Fatalf("hung host: got %v", err)
	}
	m := targets.Member{ID: "h6", Addr: s.addrs[5], Labels: map[string]string{LabelUser: "deploy"}}
	if out, err := e.exec(t.Context(), m, "echo fresh", "rollback", &steps{}); err != nil || out != "fresh" {
		t.Fatalf("step after a hung one: %q %v", out, err)
	}
}

// TestReconnect: when the host drops the connection between steps (it
// rebooted, a middlebox forgot it), the next step dials again and runs.
func TestReconnect(t *testing.T) {
	s, kh, key := startServer(t, 1, t.TempDir(), os.Environ())
	e := New(Options{SSHConfig: "/nonexistent-gameday-test", KnownHosts: kh, IdentityFiles: []string{key}, AgentSocket: "-"})
	t.Cleanup(func() { e.Close() })
	m := targets.Member{ID: "h", Addr: s.addrs[0], Labels: map[string]string{LabelUser: "deploy"}}
	for i := range 3 {
		if out, err := e.exec(t.Context(), m, "echo step", "inject", &steps{}); err != nil || out != "step" {
			t.Fatalf("step %d: %q %v", i, out, err)
		}
		s.Drop()
	}
	if n := e.Handshakes(); n != 3 {
		t.Errorf("%d handshakes for 3 steps with the connection dropped after each, want 3", n)
	}
}
