// Package sshhost is the SSH server of one lab host: real host keys, public
// key authentication only, and exec requests handed to the host's command
// handler. It gives the lab's hosts the same front door a real fleet has,
// so gameday's SSH executor and the system's ssh client reach them as they
// would any server.
package sshhost

import (
	"bytes"
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

// Options configure a Server.
type Options struct {
	Name    string // host name, for messages
	Addr    string // default 127.0.0.1:0
	HostKey ssh.Signer
	User    string        // the one user that may log in
	UserKey ssh.PublicKey // that user's one authorized key
	Handler Handler
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
	if o.HostKey == nil || o.UserKey == nil || o.Handler == nil || o.User == "" {
		return nil, errors.New("sshhost: host key, user, user key and handler are required")
	}
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	s := &Server{opts: o, conns: map[net.Conn]bool{}}
	want := o.UserKey.Marshal()
	s.cfg = &ssh.ServerConfig{
		PublicKeyCallback: func(c ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
			if c.User() == o.User && bytes.Equal(k.Marshal(), want) {
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
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
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
	wg.Add(1)
	go func() {
		defer wg.Done()
		ssh.DiscardRequests(reqs)
	}()
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.Prohibited, "this lab host offers sessions only (no forwarding)")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.session(ch, creqs)
		}()
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
			out, errOut, code := s.opts.Handler(ctx, p.Command)
			finish(ch, out, errOut, code)
			return
		case "shell":
			r.Reply(true, nil)
			finish(ch, "", s.opts.ShellMessage, 1)
			return
		case "pty-req", "env":
			r.Reply(true, nil)
		default:
			r.Reply(false, nil)
		}
	}
}

// finish writes the output and the exit status, in the order OpenSSH's
// server does: data, EOF, exit-status, close.
func finish(ch ssh.Channel, out, errOut string, code int) {
	ch.Write([]byte(out))
	ch.Stderr().Write([]byte(errOut))
	ch.CloseWrite()
	status := make([]byte, 4)
	binary.BigEndian.PutUint32(status, uint32(code))
	ch.SendRequest("exit-status", false, status)
}
