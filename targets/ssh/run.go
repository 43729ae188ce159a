package ssh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// boundedBuffer keeps the first limit bytes written and counts the rest, so
// a chatty command cannot grow the journal without bound.
type boundedBuffer struct {
	mu      sync.Mutex
	limit   int
	buf     bytes.Buffer
	dropped int
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	room := b.limit - b.buf.Len()
	if room >= len(p) {
		b.buf.Write(p)
	} else {
		if room > 0 {
			b.buf.Write(p[:room])
		}
		b.dropped += len(p) - max(room, 0)
	}
	return len(p), nil
}

// ReadFrom copies r in small reads: without it io.Copy, which the SSH
// library runs for every session's stderr, gives each session a 32 KiB
// buffer, and a thousand hosts' shells hold 32 MB of them.
func (b *boundedBuffer) ReadFrom(r io.Reader) (int64, error) {
	var p [1024]byte
	var n int64
	for {
		k, err := r.Read(p[:])
		if k > 0 {
			b.Write(p[:k])
			n += int64(k)
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

func (b *boundedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := strings.TrimSpace(b.buf.String())
	if b.dropped > 0 {
		s += fmt.Sprintf("\n[%d more bytes not kept]", b.dropped)
	}
	return s
}

// exitError is a command that ran and exited non-zero.
type exitError struct {
	status int
	output string
}

func (e *exitError) Error() string {
	if e.output == "" {
		return fmt.Sprintf("exit status %d", e.status)
	}
	return fmt.Sprintf("exit status %d: %s", e.status, lastLine(e.output))
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// errSession marks a failure to open a session at all, which usually means
// the pooled connection died; the caller redials once.
var errSession = errors.New("open session")

// run executes one command in one session on c and returns its combined
// output. A cancelled context closes the session, which ends the remote
// command's stdio; nothing waits for a remote prompt because no pty is asked
// for and stdin is empty.
func run(ctx context.Context, c *gossh.Client, cmd string, limit int, open time.Duration) (string, error) {
	s, err := openSession(c, open)
	if err != nil {
		return "", err
	}
	defer s.Close()
	out := &boundedBuffer{limit: limit}
	s.Stdout = out
	s.Stderr = out
	done := make(chan error, 1)
	go func() { done <- s.Run(cmd) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		s.Signal(gossh.SIGKILL)
		s.Close()
		return out.String(), ctx.Err()
	}
	var ee *gossh.ExitError
	switch {
	case err == nil:
		return out.String(), nil
	case errors.As(err, &ee):
		return out.String(), &exitError{status: ee.ExitStatus(), output: out.String()}
	default:
		return out.String(), err
	}
}
