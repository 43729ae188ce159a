// Package sink is a lightweight SSH server for benchmarks and unit tests of
// SSH clients: it serves the lab's SSH server (lab/sshhost) on many
// loopback addresses, accepts the keys it is given, and either answers
// every command at once (so a benchmark measures the client, not the host)
// or runs it with /bin/sh -c in a given environment (a stand-in host for
// unit tests).
//
// Answering at once: an exec request gets exit status 0; an exec of "sh"
// (or "sudo -n -- sh"), which is how the gameday executor keeps one shell
// per host, reads each script line the executor sends, takes the script out
// of its quoting, records it, prints the acknowledgement an inject asks for
// and waits for the go-ahead as a host would, then answers with the status
// line the script asks for, without running it. A line the sink cannot take
// apart is answered with exit status 2, so a client that changed its framing
// fails loudly instead of being told every script succeeded. What each
// address was asked to run (Ran) is what tests check a rollback against.
package sink

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"regexp"
	"strconv"
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
	ran      [][]string // per listener: scripts and command lines, in order
}

// Loopback returns n consecutive loopback addresses from 127.0.0.1 on
// (127.0.0.255, 127.0.1.0 and so on included: all of 127.0.0.0/8 is this
// machine), each with port.
func Loopback(n, port int) []string {
	out := make([]string, n)
	for i := range out {
		v := i + 1
		ip := net.IPv4(127, byte(v>>16), byte(v>>8), byte(v))
		out[i] = net.JoinHostPort(ip.String(), strconv.Itoa(port))
	}
	return out
}

// Start listens on each of listen (host:port; port 0 picks one). env nil
// answers at once; otherwise commands run with /bin/sh -c in env.
func Start(listen []string, host gossh.Signer, allowed []gossh.PublicKey, env []string) (*Server, error) {
	if len(listen) >= 1<<24 {
		return nil, fmt.Errorf("%d addresses: more than 127.0.0.0/8 holds", len(listen))
	}
	s := &Server{env: env, ran: make([][]string, len(listen))}
	for i, a := range listen {
		exec := func(ctx context.Context, command string, ch gossh.Channel) int {
			return s.exec(ctx, i, command, ch)
		}
		srv, err := sshhost.Start(sshhost.Options{Name: "sink " + a, Addr: a, HostKey: host,
			User: sshhost.AnyUser, UserKeys: allowed, Exec: exec})
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

// Ran returns what the listener at addr (one of Addrs) was asked to run, in
// order: each script its shells were sent, taken out of its quoting, and
// each command line of an exec request of its own.
func (s *Server) Ran(addr string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, a := range s.Addrs {
		if a == addr {
			return append([]string(nil), s.ran[i]...)
		}
	}
	return nil
}

func (s *Server) record(listener int, what string) {
	s.mu.Lock()
	s.ran[listener] = append(s.ran[listener], what)
	s.mu.Unlock()
}

func (s *Server) exec(ctx context.Context, listener int, command string, ch gossh.Channel) int {
	s.mu.Lock()
	s.sessions++
	s.mu.Unlock()
	switch {
	case s.env != nil:
		s.record(listener, command)
		return s.run(ctx, ch, command)
	case command == "sh" || strings.HasSuffix(command, " -- sh"):
		s.answerScripts(listener, ch)
	default:
		s.record(listener, command)
	}
	return 0
}

// scriptLine is how the executor's shell is sent a script: the script as
// one single-quoted word run by eval in a subshell (with GAMEDAY_ACK set and
// fd 3 kept when it asks for a go-ahead), then a printf of a newline, a
// marker and the exit status. The quoted word may span lines.
var scriptLine = regexp.MustCompile(`^\( (GAMEDAY_ACK=1; )?eval ('(?:[^']|'\\'')*') \) (?:3<&0 )?</dev/null 2>&1; printf '\\n%s%d\\n' '(gameday-end-[0-9a-f]+ )' "\$\?"\n$`)

// statusTail ends a script line; a line without it is not whole yet.
var statusTail = regexp.MustCompile(`printf '\\n%s%d\\n' '(gameday-end-[0-9a-f]+ )' "\$\?"\n$`)

// ackLine is what an inject prints once its switch is armed.
const ackLine = "gameday-applying switch=0s\n"

// answerScripts plays a shell whose every script succeeds, until stdin
// ends: it records each script, honours an inject's acknowledgement and
// answers a status step with the fault in place.
func (s *Server) answerScripts(listener int, ch gossh.Channel) {
	r := bufio.NewReader(ch)
	var text strings.Builder
	for {
		line, err := r.ReadString('\n')
		text.WriteString(line)
		if err != nil {
			return
		}
		tail := statusTail.FindStringSubmatch(line)
		if tail == nil {
			continue
		}
		whole := text.String()
		text.Reset()
		m := scriptLine.FindStringSubmatch(whole)
		if m == nil {
			s.record(listener, "unreadable: "+whole)
			if _, err := io.WriteString(ch, "sink: cannot read this script line\n\n"+tail[1]+"2\n"); err != nil {
				return
			}
			continue
		}
		script := unquote(m[2])
		s.record(listener, script)
		if strings.Contains(script, `then echo "gameday: in place"`) {
			// A status step, as a run makes every few seconds: a sink
			// host keeps every fault it was given in place.
			if _, err := io.WriteString(ch, "gameday: in place\n"); err != nil {
				return
			}
		}
		if m[1] != "" {
			// The inject waits for the go-ahead before the status line.
			if _, err := io.WriteString(ch, ackLine); err != nil {
				return
			}
			if goAhead, err := r.ReadString('\n'); err != nil || goAhead != "go\n" {
				return
			}
		}
		if _, err := io.WriteString(ch, "\n"+m[3]+"0\n"); err != nil {
			return
		}
	}
}

// unquote reverses one single-quoted shell word whose quotes inside are
// written '\”.
func unquote(w string) string {
	return strings.ReplaceAll(w[1:len(w)-1], `'\''`, "'")
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
