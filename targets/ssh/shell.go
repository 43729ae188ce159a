package ssh

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// shell is one long-lived sh on a host that reads scripts from its stdin.
// A session is the second thing a host pays most for, after the handshake:
// sshd forks, sets the session up and starts the login shell, which may
// read rc files. One shell per host serves preflight, inject, status and
// rollback, so a game day costs a host one handshake and one session.
//
// Each script runs as "( eval 'SCRIPT' ) </dev/null 2>&1" followed by a
// line with a random marker and the exit status: the subshell keeps exit,
// set -e, cd and variables from reaching the shell, eval keeps a syntax
// error in a runbook's custom command inside it (the quoted word is always
// whole), and stdin from /dev/null keeps a command from reading the next
// script.
type shell struct {
	client *gossh.Client // the connection, probed with keepalives while a script runs
	sess   *gossh.Session
	stdin  io.WriteCloser
	out    *bufio.Reader
	stderr *boundedBuffer // the shell's own: sudo's refusal, login noise
	dead   chan struct{}  // closed when the session has ended
	status int            // the session's exit status, once dead
	used   bool           // has finished a script: its death is news, not a refusal
	closed atomic.Bool    // closed by us: never to be reused, even before dead is
}

// errShellGone is a shell that ended before it was given the script:
// nothing ran, so the script can be sent to a new one.
var errShellGone = errors.New("shell ended")

// openSession opens a session on c, waiting at most timeout: on a
// connection whose link is cut, the request would wait for ever.
func openSession(c *gossh.Client, timeout time.Duration) (*gossh.Session, error) {
	type opened struct {
		s   *gossh.Session
		err error
	}
	ch := make(chan opened, 1)
	go func() {
		s, err := c.NewSession()
		ch <- opened{s, err}
	}()
	select {
	case o := <-ch:
		if o.err != nil {
			return nil, fmt.Errorf("%w: %v", errSession, o.err)
		}
		return o.s, nil
	case <-time.After(timeout):
		go func() {
			if o := <-ch; o.s != nil {
				o.s.Close()
			}
		}()
		return nil, fmt.Errorf("%w: no answer within %s", errLinkLost, timeout)
	}
}

// startShell opens a session running sh (through sudo -n when asked).
func startShell(c *gossh.Client, sudo bool, timeout time.Duration) (*shell, error) {
	sess, err := openSession(c, timeout)
	if err != nil {
		return nil, err
	}
	sh := &shell{client: c, sess: sess, stderr: &boundedBuffer{limit: 4 << 10}, dead: make(chan struct{})}
	sess.Stderr = sh.stderr
	stdin, err := sess.StdinPipe()
	if err != nil {
		sess.Close()
		return nil, fmt.Errorf("%w: %v", errSession, err)
	}
	stdout, err := sess.StdoutPipe()
	if err != nil {
		sess.Close()
		return nil, fmt.Errorf("%w: %v", errSession, err)
	}
	// Lines longer than the buffer come in pieces (run handles
	// bufio.ErrBufferFull); a small one keeps a thousand idle shells cheap.
	sh.stdin, sh.out = stdin, bufio.NewReaderSize(stdout, 4<<10)
	cmd := "sh"
	if sudo {
		cmd = "sudo -n -- sh"
	}
	if err := sess.Start(cmd); err != nil {
		sess.Close()
		return nil, fmt.Errorf("%w: %v", errSession, err)
	}
	go func() {
		err := sess.Wait()
		var ee *gossh.ExitError
		if errors.As(err, &ee) {
			sh.status = ee.ExitStatus()
		} else if err != nil {
			sh.status = -1
		}
		close(sh.dead)
	}()
	return sh, nil
}

func (sh *shell) alive() bool {
	if sh.closed.Load() {
		return false
	}
	select {
	case <-sh.dead:
		return false
	default:
		return true
	}
}

func (sh *shell) close() {
	sh.closed.Store(true)
	sh.sess.Close()
}

// errLinkLost is a connection that stopped answering (or ended) while a
// script ran: the host may have done all of it, part of it or none.
var errLinkLost = errors.New("link lost")

// ackPrefix starts the line an inject prints once its switch is armed and
// before it applies the fault; see injectScript.
const ackPrefix = "gameday-applying "

// runOpts are what a step adds to running a script.
type runOpts struct {
	// ack, when set, makes the script wait for a go-ahead after it prints
	// its acknowledgement line; ack is called with the time the line
	// arrived, before the go-ahead is sent, so the fault cannot cut the
	// link before gameday knows it is being applied.
	ack func(time.Time)
	// linkTimeout is how long a keepalive may go unanswered while the
	// script runs before the link counts as lost; 0 disables.
	linkTimeout time.Duration
}

// What a script's go-ahead stands at (shell.run).
const (
	runWaiting int32 = iota
	runAcked
	runCancelled
)

// ackedGrace is how long a cancelled run waits for a script that had its
// go-ahead to finish applying before it cuts the session anyway.
const ackedGrace = 30 * time.Second

// run sends script and returns its combined output, bounded to limit. A
// cancelled context closes the session (the shell is then unusable, which
// the caller sees from alive), except once the script has had its go-ahead:
// then run waits, up to ackedGrace, for the fault to be applied. A connection that stops answering
// keepalives, or ends, after the acknowledgement is errLinkLost.
func (sh *shell) run(ctx context.Context, script string, limit int, o runOpts) (string, error) {
	var nonce [12]byte
	rand.Read(nonce[:])
	marker := []byte("gameday-end-" + hex.EncodeToString(nonce[:]) + " ")
	// With an ack, fd 3 is the shell's own stdin: nothing more is written
	// to it until the script has printed its acknowledgement, so the
	// script's read of the go-ahead takes exactly that line.
	open, redirect := "( eval ", " ) </dev/null 2>&1"
	if o.ack != nil {
		open, redirect = "( GAMEDAY_ACK=1; eval ", " ) 3<&0 </dev/null 2>&1"
	}
	line := open + Quote(script) + redirect + "; printf '\\n%s%d\\n' '" + string(marker) + "' \"$?\"\n"
	out := &boundedBuffer{limit: limit}
	if sh.used && !sh.alive() {
		return "", errShellGone
	}
	if _, err := io.WriteString(sh.stdin, line); err != nil {
		if sh.used {
			return "", errShellGone
		}
		return sh.died(out, err)
	}
	done := make(chan runResult, 1)
	// state decides, once, between the go-ahead and a cancel: a script
	// that got the go-ahead is applying its fault, and cutting its session
	// would not stop that (the host goes on without it) but would let the
	// rollback run first and the fault land after it.
	var state atomic.Int32 // waiting, acked or cancelled
	go sh.readRun(marker, o, &state, out, done)
	lost := make(chan error, 1)
	stop := make(chan struct{})
	defer close(stop)
	if o.linkTimeout > 0 {
		go watchLink(sh.client, o.linkTimeout, stop, lost)
	}
	var r runResult
	select {
	case r = <-done:
	case <-ctx.Done():
		if state.CompareAndSwap(runWaiting, runCancelled) {
			// No go-ahead was sent: the script reads end of file instead,
			// reverts what it armed and exits.
			sh.close()
			return out.String(), ctx.Err()
		}
		// The fault is landing: wait for the script to finish, so the
		// rollback that follows finds it applied and reverts it.
		select {
		case r = <-done:
		case err := <-lost:
			sh.close()
			return out.String(), err
		case <-time.After(ackedGrace):
			sh.close()
			return out.String(), fmt.Errorf("%w: the host acknowledged and had not finished applying %s after the cancel", ctx.Err(), ackedGrace)
		}
	case err := <-lost:
		sh.close()
		return out.String(), err
	}
	if r.err != nil && state.Load() == runAcked {
		sh.close()
		return out.String(), fmt.Errorf("%w: the session ended after the host acknowledged: %v", errLinkLost, r.err)
	}
	switch {
	case r.err == nil && r.status == 0:
		sh.used = true
		return out.String(), nil
	case r.err == nil:
		sh.used = true
		return out.String(), &exitError{status: r.status, output: out.String()}
	}
	return sh.died(out, r.err)
}

// runResult is how a script sent by run ended: its exit status, or why
// none could be read.
type runResult struct {
	status int
	err    error
}

// readRun copies a script's output into out up to its end marker, sends
// the go-ahead when the script acknowledges while state still waits, and
// reports on done how the script ended.
func (sh *shell) readRun(marker []byte, o runOpts, state *atomic.Int32, out *boundedBuffer, done chan<- runResult) {
	for {
		l, err := sh.out.ReadSlice('\n')
		if o.ack != nil && bytes.HasPrefix(l, []byte(ackPrefix)) && err == nil && state.CompareAndSwap(runWaiting, runAcked) {
			o.ack(time.Now())
			io.WriteString(sh.stdin, "go\n")
		}
		if rest, ok := bytes.CutPrefix(l, marker); ok && err == nil {
			n, convErr := strconv.Atoi(string(bytes.TrimSpace(rest)))
			if convErr != nil {
				done <- runResult{err: fmt.Errorf("unreadable exit status %q", rest)}
			} else {
				done <- runResult{status: n}
			}
			return
		}
		out.Write(l)
		if err != nil && err != bufio.ErrBufferFull {
			done <- runResult{err: err}
			return
		}
	}
}

// died reports a shell that ended under a script: sudo refused to start
// it, or the host went away. What the shell itself printed says which.
func (sh *shell) died(out *boundedBuffer, cause error) (string, error) {
	sh.close()
	<-sh.dead
	text := out.String()
	if e := sh.stderr.String(); e != "" {
		text = joinLines(text, e)
	}
	if sh.status > 0 {
		return text, &exitError{status: sh.status, output: text}
	}
	return text, fmt.Errorf("the remote shell ended before the command finished: %v", cause)
}

// watchLink sends a keepalive every interval until stop is closed, and
// reports errLinkLost on lost when one goes unanswered for interval.
func watchLink(c *gossh.Client, interval time.Duration, stop <-chan struct{}, lost chan<- error) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		if err := keepalive(c, interval); err != nil {
			lost <- err
			return
		}
	}
}

// keepalive makes one round trip on c, waiting at most timeout.
func keepalive(c *gossh.Client, timeout time.Duration) error {
	reply := make(chan error, 1)
	go func() {
		_, _, err := c.SendRequest("keepalive@openssh.com", true, nil)
		reply <- err
	}()
	select {
	case err := <-reply:
		if err != nil {
			return fmt.Errorf("%w: %v", errLinkLost, err)
		}
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("%w: no answer to a keepalive within %s", errLinkLost, timeout)
	}
}

func joinLines(a, b string) string {
	if a == "" {
		return b
	}
	return a + "\n" + b
}

// shells keeps idle shells per connection and sudo mode. Only a few are
// kept: concurrent steps on one host each take one, and sshd allows ten
// sessions per connection by default.
type shells struct {
	mu   sync.Mutex
	idle map[shellKey][]*shell
	made int // sessions opened, for tests and benchmarks
}

type shellKey struct {
	c    *gossh.Client
	sudo bool
}

const maxIdleShells = 4

// take returns an idle live shell for c, or starts one. check bounds the
// round trip that proves an idle shell's connection is still there.
func (s *shells) take(c *gossh.Client, sudo bool, check time.Duration) (*shell, error) {
	k := shellKey{c, sudo}
	s.mu.Lock()
	for len(s.idle[k]) > 0 {
		n := len(s.idle[k])
		sh := s.idle[k][n-1]
		s.idle[k] = s.idle[k][:n-1]
		if sh.alive() {
			s.mu.Unlock()
			// A shell that sat idle may sit on a connection the host has
			// dropped (a reboot) without either side knowing yet. One
			// round trip tells, before the script is sent and could be
			// half run; a dead connection is then redialled.
			if err := keepalive(c, check); err != nil {
				sh.close()
				return nil, fmt.Errorf("%w: connection lost: %v", errSession, err)
			}
			return sh, nil
		}
		sh.close()
	}
	s.made++
	s.mu.Unlock()
	return startShell(c, sudo, check)
}

// put returns sh to the idle list, or closes it if it is dead or the list
// is full.
func (s *shells) put(c *gossh.Client, sudo bool, sh *shell) {
	k := shellKey{c, sudo}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !sh.alive() || len(s.idle[k]) >= maxIdleShells {
		sh.close()
		return
	}
	if s.idle == nil {
		s.idle = map[shellKey][]*shell{}
	}
	s.idle[k] = append(s.idle[k], sh)
}

// closeAll closes every idle shell.
func (s *shells) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, list := range s.idle {
		for _, sh := range list {
			sh.close()
		}
	}
	s.idle = nil
}

// forget closes the idle shells of c, whose connection is going away.
func (s *shells) forget(c *gossh.Client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, list := range s.idle {
		if k.c == c {
			for _, sh := range list {
				sh.close()
			}
			delete(s.idle, k)
		}
	}
}
