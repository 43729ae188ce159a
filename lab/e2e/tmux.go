package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Tmux is one program running in a detached tmux session of a fixed size,
// on a tmux server of its own, so a test drives a terminal program the way
// a person at a terminal would: keys in, the screen out.
type Tmux struct {
	t        testing.TB
	bin      string
	sock     string
	session  string
	exitFile string
}

// StartTmux runs argv in a new tmux session of width×height cells. The
// server, and so the program, gets env and nothing else of the test's
// environment. The server is killed when the test ends.
func StartTmux(t testing.TB, width, height int, env []string, argv ...string) *Tmux {
	t.Helper()
	bin := Need(t, "tmux")[0]
	// A socket path must stay under about 100 bytes: t.TempDir can be longer.
	dir, err := os.MkdirTemp("", "gameday-tmux-")
	if err != nil {
		t.Fatal(err)
	}
	x := &Tmux{t: t, bin: bin, sock: filepath.Join(dir, "s"), session: "e2e", exitFile: filepath.Join(dir, "exit")}
	t.Cleanup(func() {
		x.tmux("kill-server")
		os.RemoveAll(dir)
	})
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = shellQuote(a)
	}
	// The exit code goes through a file, written once the program is gone.
	line := strings.Join(quoted, " ") + "; echo $? > " + shellQuote(x.exitFile+".tmp") + " && mv " + shellQuote(x.exitFile+".tmp") + " " + shellQuote(x.exitFile)
	cmd := exec.Command(bin, "-u", "-f", "/dev/null", "-S", x.sock, "new-session", "-d", "-s", x.session,
		"-x", strconv.Itoa(width), "-y", strconv.Itoa(height), line)
	cmd.Env = append([]string{"SHELL=/bin/sh"}, env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	// A fixed size: no client will ever attach and resize the window.
	x.tmux("set-option", "-t", x.session, "window-size", "manual")
	return x
}

func (x *Tmux) tmux(args ...string) (string, error) {
	out, err := exec.Command(x.bin, append([]string{"-S", x.sock}, args...)...).CombinedOutput()
	return string(out), err
}

// Send types keys in tmux's send-keys names: "Enter", "C-x", "Escape", or
// a single character.
func (x *Tmux) Send(keys ...string) {
	x.t.Helper()
	if out, err := x.tmux(append([]string{"send-keys", "-t", x.session}, keys...)...); err != nil {
		x.t.Fatalf("tmux send-keys %q: %v\n%s", keys, err, out)
	}
}

// Type sends text literally, one key per character.
func (x *Tmux) Type(text string) {
	x.t.Helper()
	if out, err := x.tmux("send-keys", "-t", x.session, "-l", text); err != nil {
		x.t.Fatalf("tmux send-keys -l %q: %v\n%s", text, err, out)
	}
}

// Screen is the visible pane as text, one line per row.
func (x *Tmux) Screen() string {
	x.t.Helper()
	return x.capture()
}

// ScreenEscapes is the visible pane with its colours and attributes as
// escape sequences (capture-pane -e).
func (x *Tmux) ScreenEscapes() string {
	x.t.Helper()
	return x.capture("-e")
}

func (x *Tmux) capture(extra ...string) string {
	x.t.Helper()
	out, err := x.tmux(append([]string{"capture-pane", "-p", "-t", x.session}, extra...)...)
	if err != nil {
		x.t.Fatalf("tmux capture-pane: %v\n%s", err, out)
	}
	return out
}

// WaitFor polls the screen until ok accepts it, and returns that screen.
// Past within the test fails with what, the program's exit code if it has
// ended, and the last screen seen.
func (x *Tmux) WaitFor(within time.Duration, what string, ok func(screen string) bool) string {
	x.t.Helper()
	deadline := time.Now().Add(within)
	for {
		screen, err := x.tmux("capture-pane", "-p", "-t", x.session)
		if err == nil && ok(screen) {
			return screen
		}
		if time.Now().After(deadline) {
			code, ended := x.exitCode()
			state := "still running"
			if ended {
				state = "exited " + strconv.Itoa(code)
			}
			x.t.Fatalf("after %s still waiting for %s (program %s); screen:\n%s", within, what, state, screen)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// WaitText waits until every one of texts is on the screen.
func (x *Tmux) WaitText(within time.Duration, texts ...string) string {
	x.t.Helper()
	return x.WaitFor(within, strconv.Quote(strings.Join(texts, `", "`)), func(s string) bool {
		for _, want := range texts {
			if !strings.Contains(s, want) {
				return false
			}
		}
		return true
	})
}

// Wait waits for the program to exit and returns its exit code.
func (x *Tmux) Wait(within time.Duration) int {
	x.t.Helper()
	deadline := time.Now().Add(within)
	for {
		if code, ended := x.exitCode(); ended {
			return code
		}
		if time.Now().After(deadline) {
			screen, _ := x.tmux("capture-pane", "-p", "-t", x.session)
			x.t.Fatalf("program still running after %s; screen:\n%s", within, screen)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (x *Tmux) exitCode() (int, bool) {
	b, err := os.ReadFile(x.exitFile)
	if err != nil {
		return 0, false
	}
	code, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		x.t.Fatalf("exit file %s: %q", x.exitFile, b)
	}
	return code, true
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Format is tmux's answer for a format of the pane, e.g. "#{alternate_on}"
// (1 while the program has the alternate screen) or "#{cursor_flag}" (1
// while the cursor is shown).
func (x *Tmux) Format(f string) string {
	x.t.Helper()
	out, err := x.tmux("display-message", "-p", "-t", x.session, f)
	if err != nil {
		x.t.Fatalf("tmux display-message %q: %v\n%s", f, err, out)
	}
	return strings.TrimSpace(out)
}
