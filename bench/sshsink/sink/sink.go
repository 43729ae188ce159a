// Package sink is a lightweight SSH server for benchmarks and unit tests of
// SSH clients: it listens on many loopback addresses, accepts the keys it
// is given, and either answers every command at once (so a benchmark
// measures the client, not the host) or runs it with /bin/sh -c in a given
// environment (a stand-in host for unit tests).
//
// Answering at once: an exec request gets exit status 0; an exec of "sh"
// (or "sudo -n -- sh"), which is how the gameday executor keeps one shell
// per host, gets each script it is sent answered with the status line the
// script asks for, without running it.
package sink

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"regexp"
	"strings"
	"sync"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Server is a running sink.
type Server struct {
	Addrs []string // host:port, one per listener

	cfg *gossh.ServerConfig
	env []string
	ls  []net.Listener
	kh  []byte

	mu       sync.Mutex
	sessions int
	conns    map[*gossh.ServerConn]bool
}

// Start listens on each of listen (host:port; port 0 picks one). env nil
// answers at once; otherwise commands run with /bin/sh -c in env.
func Start(listen []string, host gossh.Signer, allowed []gossh.PublicKey, env []string) (*Server, error) {
	ok := map[string]bool{}
	for _, k := range allowed {
		ok[string(k.Marshal())] = true
	}
	cfg := &gossh.ServerConfig{PublicKeyCallback: func(c gossh.ConnMetadata, k gossh.PublicKey) (*gossh.Permissions, error) {
		if ok[string(k.Marshal())] {
			return nil, nil
		}
		return nil, fmt.Errorf("key %s not authorized for %s", gossh.FingerprintSHA256(k), c.User())
	}}
	cfg.AddHostKey(host)
	s := &Server{cfg: cfg, env: env}
	for _, a := range listen {
		l, err := net.Listen("tcp", a)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("listen on %s: %w", a, err)
		}
		s.ls = append(s.ls, l)
		addr := l.Addr().String()
		s.Addrs = append(s.Addrs, addr)
		s.kh = append(s.kh, knownhosts.Line([]string{knownhosts.Normalize(addr)}, host.PublicKey())+"\n"...)
		go s.serve(l)
	}
	return s, nil
}

// KnownHosts is a known_hosts file that trusts the server on every address.
func (s *Server) KnownHosts() []byte { return s.kh }

// Sessions reports how many sessions clients have opened.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions
}

// Drop closes every open connection, as a host that reboots would.
func (s *Server) Drop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.Close()
	}
}

// Close stops listening; open connections end with their clients.
func (s *Server) Close() {
	for _, l := range s.ls {
		l.Close()
	}
}

func (s *Server) serve(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			sc, chans, reqs, err := gossh.NewServerConn(c, s.cfg)
			if err != nil {
				c.Close()
				return
			}
			s.mu.Lock()
			if s.conns == nil {
				s.conns = map[*gossh.ServerConn]bool{}
			}
			s.conns[sc] = true
			s.mu.Unlock()
			defer func() {
				sc.Close()
				s.mu.Lock()
				delete(s.conns, sc)
				s.mu.Unlock()
			}()
			go gossh.DiscardRequests(reqs)
			for nc := range chans {
				if nc.ChannelType() != "session" {
					nc.Reject(gossh.UnknownChannelType, "only sessions")
					continue
				}
				ch, rs, err := nc.Accept()
				if err != nil {
					continue
				}
				s.mu.Lock()
				s.sessions++
				s.mu.Unlock()
				go s.session(ch, rs)
			}
		}()
	}
}

// session serves one channel: env and pty requests are accepted and
// ignored (OpenSSH clients send them); the first exec ends the channel.
func (s *Server) session(ch gossh.Channel, rs <-chan *gossh.Request) {
	defer ch.Close()
	for r := range rs {
		switch r.Type {
		case "env", "pty-req":
			r.Reply(true, nil)
		case "exec":
			var req struct{ Command string }
			if err := gossh.Unmarshal(r.Payload, &req); err != nil {
				r.Reply(false, nil)
				return
			}
			r.Reply(true, nil)
			var status uint32
			switch {
			case s.env != nil:
				status = s.run(ch, req.Command)
			case req.Command == "sh" || strings.HasSuffix(req.Command, " -- sh"):
				answerScripts(ch)
			}
			b := make([]byte, 4)
			binary.BigEndian.PutUint32(b, status)
			ch.SendRequest("exit-status", false, b)
			return
		default:
			r.Reply(false, nil)
		}
	}
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

func (s *Server) run(ch gossh.Channel, command string) uint32 {
	cmd := exec.Command("/bin/sh", "-c", command)
	cmd.Env = s.env
	cmd.Stdout, cmd.Stderr = ch, ch.Stderr()
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
		return uint32(ee.ExitCode())
	default:
		fmt.Fprintln(ch.Stderr(), "sink:", err)
		return 255
	}
}
