// Package sink is a lightweight SSH server for benchmarks and unit tests of
// SSH clients: it serves the lab's SSH server (lab/sshhost) on many
// loopback addresses, accepts the keys it is given, and either answers
// every command at once (so a benchmark measures the client, not the host)
// or runs it with /bin/sh -c in a given environment (a stand-in host for
// unit tests).
//
// Answering at once: an exec request gets exit status 0; an exec of "sh"
// (or "sudo -n -- sh"), which is how the gameday executor keeps one shell
// per host, gets each script it is sent answered with the status line the
// script asks for, without running it.
package sink

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/gameday/gameday/lab/sshhost"
)

// Server is a running sink.
type Server struct {
	Addrs []string // host:port, one per listener

	env  []string
	srvs []*sshhost.Server
	kh   []byte

	mu       sync.Mutex
	sessions int
}

// Start listens on each of listen (host:port; port 0 picks one). env nil
// answers at once; otherwise commands run with /bin/sh -c in env.
func Start(listen []string, host gossh.Signer, allowed []gossh.PublicKey, env []string) (*Server, error) {
	s := &Server{env: env}
	for _, a := range listen {
		srv, err := sshhost.Start(sshhost.Options{Name: "sink " + a, Addr: a, HostKey: host,
			User: sshhost.AnyUser, UserKeys: allowed, Exec: s.exec})
		if err != nil {
			s.Close()
			return nil, err
		}
		s.srvs = append(s.srvs, srv)
		addr := srv.Addr()
		s.Addrs = append(s.Addrs, addr)
		s.kh = append(s.kh, knownhosts.Line([]string{knownhosts.Normalize(addr)}, host.PublicKey())+"\n"...)
	}
	return s, nil
}

// KnownHosts is a known_hosts file that trusts the server on every address.
func (s *Server) KnownHosts() []byte { return s.kh }

// Sessions reports how many commands clients have run.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions
}

// Drop closes every open connection, as a host that reboots would.
func (s *Server) Drop() {
	for _, srv := range s.srvs {
		srv.Drop()
	}
}

// Close stops listening and ends every connection and the commands they
// run.
func (s *Server) Close() {
	for _, srv := range s.srvs {
		srv.Close()
	}
}

func (s *Server) exec(ctx context.Context, command string, ch gossh.Channel) int {
	s.mu.Lock()
	s.sessions++
	s.mu.Unlock()
	switch {
	case s.env != nil:
		return s.run(ctx, ch, command)
	case command == "sh" || strings.HasSuffix(command, " -- sh"):
		answerScripts(ch)
	}
	return 0
}

// statusLine is the last line of each script the executor's shell is
// sent: it asks for a newline, a marker and the exit status.
var statusLine = regexp.MustCompile(`printf '\\n%s%d\\n' '(gameday-end-[0-9a-f]+ )' "\$\?"$`)

// answerScripts plays a shell whose every script succeeds, until stdin ends.
func answerScripts(ch gossh.Channel) {
	r := bufio.NewReader(ch)
	for {
		line, err := r.ReadString('\n')
		if m := statusLine.FindStringSubmatch(strings.TrimSuffix(line, "\n")); m != nil {
			if _, err := io.WriteString(ch, "\n"+m[1]+"0\n"); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (s *Server) run(ctx context.Context, ch gossh.Channel, command string) int {
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", command)
	cmd.Env = s.env
	cmd.Stdout, cmd.Stderr = ch, ch.Stderr()
	// The whole process group goes when the session does, and what it
	// left holding the output gets a moment, so Close never waits on a
	// command a client gave up on.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	// Not cmd.Stdin = ch: Wait would then wait for the client to close
	// stdin, which sshd does not.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return 255
	}
	go func() { io.Copy(stdin, ch); stdin.Close() }()
	err = cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	default:
		fmt.Fprintln(ch.Stderr(), "sink:", err)
		return 255
	}
}
