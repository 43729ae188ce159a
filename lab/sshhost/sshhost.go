// Package sshhost is the small SSH server of the lab's hosts and of the
// benchmarks' stand-in hosts (bench/sshsink): real host keys, public key
// authentication only, and exec requests handed to a command handler. It
// gives them the same front door a real fleet has, so gameday's SSH
// executor and the system's ssh client reach them as they would any server.
package sshhost

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// Handler runs one exec request's command line.
type Handler func(ctx context.Context, cmd string) (stdout, stderr string, code int)

// Exec runs one exec request's command line reading its standard input
// from ch and writing its output to ch and ch.Stderr() as it goes, and
// returns its exit status. ctx ends when the client signals or closes the
// session, or the server closes.
type Exec func(ctx context.Context, cmd string, ch ssh.Channel) (code int)

// AnyUser as Options.User admits every user name that has a key.
const AnyUser = "*"

// Options configure a Server.
type Options struct {
	Name    string // host name, for messages
	Addr    string // default 127.0.0.1:0
	HostKey ssh.Signer
	User    string        // the one user that may log in, or AnyUser
	UserKey ssh.PublicKey // that user's authorized key
	// UserKeys are more authorized keys, for a server many clients reach.
	UserKeys []ssh.PublicKey
	// Handler or Exec runs commands; Exec wins when both are set.
	Handler Handler
	Exec    Exec
	// ShellMessage is what an interactive login is told before it is closed.
	ShellMessage string
}

// Server is one host's running SSH server.
type Server struct {
	opts Options
	cfg  *ssh.ServerConfig
	ln   net.Listener

	mu     sync.Mutex
	closed bool
	conns  map[net.Conn]bool
	wg     sync.WaitGroup
}

// handshakeTimeout bounds a client that connects and says nothing.
const handshakeTimeout = 10 * time.Second

// Start listens and serves until Close.
func Start(o Options) (*Server, error) {
	keys := map[string]bool{}
	for _, k := range append([]ssh.PublicKey{o.UserKey}, o.UserKeys...) {
		if k != nil {
			keys[string(k.Marshal())] = true
		}
	}
	if o.HostKey == nil || len(keys) == 0 || (o.Handler == nil && o.Exec == nil) || o.User == "" {
		return nil, errors.New("sshhost: host key, user, user key and handler are required")
	}
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if o.Exec == nil {
		o.Exec = o.Handler.exec
	}
	s := &Server{opts: o, conns: map[net.Conn]bool{}}
	s.cfg = &ssh.ServerConfig{
		PublicKeyCallback: func(c ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
			if (o.User == AnyUser || c.User() == o.User) && keys[string(k.Marshal())] {
				return nil, nil
			}
			return nil, fmt.Errorf("%s: key %s for user %s is not authorized", o.Name, ssh.FingerprintSHA256(k), c.User())
		},
		ServerVersion: "SSH-2.0-gameday-lab",
	}
	s.cfg.AddHostKey(o.HostKey)
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("%s: ssh listen on %s: %w", o.Name, o.Addr, err)
	}
	s.ln = ln
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Addr is the host:port the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops listening, ends every connection and waits for them.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	err := s.ln.Close()
	s.mu.Unlock()
	s.Drop()
	s.wg.Wait()
	return err
}

// Drop closes every open connection and keeps listening, as a host that
// rebooted (or a middlebox that forgot its connections) would.
func (s *Server) Drop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.Close()
	}
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = true
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				c.Close()
			}()
			s.serveConn(c)
		}()
	}
}

func (s *Server) serveConn(c net.Conn) {
	c.SetDeadline(time.Now().Add(handshakeTimeout))
	sc, chans, reqs, err := ssh.NewServerConn(c, s.cfg)
	if err != nil {
		return
	}
	defer sc.Close()
	c.SetDeadline(time.Time{})
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		ssh.DiscardRequests(reqs)
	})
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.Prohibited, "this lab host offers sessions only (no forwarding)")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			continue
		}
		wg.Go(func() {
			s.session(ch, creqs)
		})
	}
}

// session serves one session channel: environment and pty requests are
// accepted and ignored, one exec or shell request ends it.
func (s *Server) session(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	defer close(done)
	for r := range reqs {
		switch r.Type {
		case "exec":
			var p struct{ Command string }
			if err := ssh.Unmarshal(r.Payload, &p); err != nil {
				r.Reply(false, nil)
				continue
			}
			r.Reply(true, nil)
			// Later requests on the channel (a signal, the client closing)
			// end the command.
			go func() {
				for {
					select {
					case r, ok := <-reqs:
						if !ok {
							cancel()
							return
						}
						if r.Type == "signal" {
							cancel()
						}
						if r.WantReply {
							r.Reply(false, nil)
						}
					case <-done:
						return
					}
				}
			}()
			finish(ch, s.opts.Exec(ctx, p.Command, ch))
			return
		case "shell":
			r.Reply(true, nil)
			ch.Stderr().Write([]byte(s.opts.ShellMessage))
			finish(ch, 1)
			return
		case "pty-req", "env":
			r.Reply(true, nil)
		default:
			r.Reply(false, nil)
		}
	}
}

// exec runs h and writes what it returns.
func (h Handler) exec(ctx context.Context, cmd string, ch ssh.Channel) int {
	out, errOut, code := h(ctx, cmd)
	ch.Write([]byte(out))
	ch.Stderr().Write([]byte(errOut))
	return code
}

// finish ends a command's output with the exit status, in the order
// OpenSSH's server does: data, EOF, exit-status, close.
func finish(ch ssh.Channel, code int) {
	ch.CloseWrite()
	status := make([]byte, 4)
	binary.BigEndian.PutUint32(status, uint32(code))
	ch.SendRequest("exit-status", false, status)
}
