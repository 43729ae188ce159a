package ssh

import (
	"errors"
	"os"
	"strings"
	"testing"

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
