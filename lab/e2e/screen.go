package e2e

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// Screen is what a program under test draws: a buffer its goroutines
// write while the test reads it.
type Screen struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *Screen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// WaitText waits until the screen has drawn text. Past within it fails t,
// saying whose screen it was and showing its end.
func (s *Screen) WaitText(t testing.TB, within time.Duration, who, text string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !strings.Contains(s.String(), text) {
		if time.Now().After(deadline) {
			drawn := s.String()
			t.Fatalf("%s never showed %q; screen:\n%s", who, text, drawn[max(0, len(drawn)-3000):])
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Type writes keys to a program's input, as a person typing them, and
// fails t when the program no longer reads.
func Type(t testing.TB, input io.Writer, keys string) {
	t.Helper()
	if _, err := io.WriteString(input, keys); err != nil {
		t.Fatal(err)
	}
}

// Shell opens a session with a pty of type term on client, the way a
// participant's ssh does, and returns its keyboard and screen.
func Shell(t testing.TB, client *gossh.Client, term string) (io.WriteCloser, *Screen) {
	t.Helper()
	_, in, out := ShellSession(t, client, term)
	return in, out
}

// ShellSession is Shell for a test that also works the session itself:
// resizes the window, waits for the exit status or closes it.
func ShellSession(t testing.TB, client *gossh.Client, term string) (*gossh.Session, io.WriteCloser, *Screen) {
	t.Helper()
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestPty(term, 40, 120, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	in, err := sess.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out := &Screen{}
	sess.Stdout = out
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	return sess, in, out
}
