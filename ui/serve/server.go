// Package serve lets participants join a live game day with a plain
// `ssh -p PORT host`: an SSH server (golang.org/x/crypto/ssh) that admits
// only the keys the runbook's roles or an authorized_keys file name, gives
// each session its pty size and resizes, and hands it to a handler that runs
// that participant's own console.
package serve

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gameday/gameday/runbook"
	gossh "golang.org/x/crypto/ssh"
)

// Who is the participant a key belongs to.
type Who struct {
	Name string
	Role string // runbook.RoleFacilitator, RoleScribe, RoleObserver, RoleResponder
	// Abort is set for the facilitator and the runbook's safety officers.
	Abort bool
}

// Session is one participant's terminal.
type Session struct {
	Who    Who
	Term   string // TERM from the pty request; "" without a pty
	Width  int
	Height int
	// Resize delivers window changes; only the latest size is kept.
	Resize <-chan [2]int
	// In is what the participant types; Out is their screen. Out never
	// blocks the writer: see FrameWriter.
	In  io.Reader
	Out *FrameWriter
	// Ctx ends when the participant disconnects or the server closes.
	Ctx context.Context
}

// Options configure a Server.
type Options struct {
	// Addr to listen on; default 127.0.0.1:2222. Loopback unless told otherwise.
	Addr string
	// HostKey is the server's private key file, created (ed25519) if missing
	// so participants' known_hosts stay valid across game days.
	HostKey string
	Roles   runbook.Roles
	// AuthorizedKeys, if set, admits more keys, named by the key's comment,
	// in AuthorizedRole (default observer; a drill makes them responders).
	AuthorizedKeys string
	AuthorizedRole string
	// Handler runs one session; the session ends when it returns.
	Handler func(*Session)
	// OutputLimit bounds bytes queued for a slow terminal before frames are
	// dropped (default 1 MiB).
	OutputLimit int
	// Logf, when set, receives one line per connection and refusal.
	Logf func(format string, args ...any)
}

// Server is a running share server.
type Server struct {
	opts   Options
	cfg    *gossh.ServerConfig
	keys   map[string]Who // by SHA256 fingerprint
	ln     net.Listener
	hostFP string

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[net.Conn]bool
}

// Start listens and serves until Close.
func Start(opts Options) (*Server, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:2222"
	}
	if opts.OutputLimit <= 0 {
		opts.OutputLimit = 1 << 20
	}
	if opts.Handler == nil {
		return nil, errors.New("serve: no session handler")
	}
	signer, err := hostKey(opts.HostKey)
	if err != nil {
		return nil, err
	}
	if opts.AuthorizedRole == "" {
		opts.AuthorizedRole = runbook.RoleObserver
	}
	keys, err := admitted(opts.Roles, opts.AuthorizedKeys, opts.AuthorizedRole)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, errors.New("serve: no participant has a key; give roles a key in the runbook or pass an authorized_keys file")
	}
	s := &Server{opts: opts, keys: keys, conns: map[net.Conn]bool{}, hostFP: gossh.FingerprintSHA256(signer.PublicKey())}
	s.cfg = &gossh.ServerConfig{
		PublicKeyCallback: s.auth,
		ServerVersion:     "SSH-2.0-gameday",
	}
	s.cfg.AddHostKey(signer)
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("serve: listen on %s: %w", opts.Addr, err)
	}
	s.ln = ln
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Addr is where the server listens.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// HostKeyFingerprint is what participants should see on first connect.
func (s *Server) HostKeyFingerprint() string { return s.hostFP }

// Close stops listening, ends every session and waits for them.
func (s *Server) Close() error {
	s.cancel()
	err := s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

func (s *Server) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf(format, args...)
	}
}

func (s *Server) auth(meta gossh.ConnMetadata, key gossh.PublicKey) (*gossh.Permissions, error) {
	fp := gossh.FingerprintSHA256(key)
	who, ok := s.keys[fp]
	if !ok {
		s.logf("refused %s from %s: key %s is not a participant's", meta.User(), meta.RemoteAddr(), fp)
		return nil, fmt.Errorf("key %s is not in the runbook's roles or the authorized keys", fp)
	}
	abort := "false"
	if who.Abort {
		abort = "true"
	}
	return &gossh.Permissions{Extensions: map[string]string{"name": who.Name, "role": who.Role, "abort": abort}}, nil
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.ctx.Err() != nil {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Add(1)
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
	c.SetDeadline(time.Now().Add(20 * time.Second))
	conn, chans, reqs, err := gossh.NewServerConn(c, s.cfg)
	if err != nil {
		return
	}
	c.SetDeadline(time.Time{})
	defer conn.Close()
	who := Who{Name: conn.Permissions.Extensions["name"], Role: conn.Permissions.Extensions["role"], Abort: conn.Permissions.Extensions["abort"] == "true"}
	s.logf("%s (%s) joined from %s", who.Name, who.Role, conn.RemoteAddr())
	var wg sync.WaitGroup
	defer wg.Wait()
	go gossh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(gossh.UnknownChannelType, "only sessions are served here")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.session(conn, ch, creqs, who)
		}()
	}
}

// session waits for a shell (or exec) request, then runs the handler while
// forwarding window changes.
func (s *Server) session(conn *gossh.ServerConn, ch gossh.Channel, reqs <-chan *gossh.Request, who Who) {
	defer ch.Close()
	// Requests that arrive after the session ends must not stall the
	// connection's other channels.
	defer func() { go gossh.DiscardRequests(reqs) }()
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	resize := make(chan [2]int, 1)
	sess := &Session{Who: who, Resize: resize, In: ch, Ctx: ctx}
	started := make(chan struct{})
	done := make(chan struct{})
	for {
		select {
		case <-ctx.Done():
			return
		case <-done:
			sendExit(ch, 0)
			return
		case req, ok := <-reqs:
			if !ok {
				cancel()
				select {
				case <-done:
				case <-started:
					<-done
				default:
				}
				return
			}
			switch req.Type {
			case "pty-req":
				term, w, h, ok := parsePty(req.Payload)
				if ok {
					sess.Term, sess.Width, sess.Height = term, w, h
				}
				req.Reply(ok, nil)
			case "window-change":
				if w, h, ok := parseWindow(req.Payload); ok {
					select {
					case <-resize:
					default:
					}
					resize <- [2]int{w, h}
				}
				req.Reply(true, nil)
			case "shell", "exec":
				select {
				case <-started:
					req.Reply(false, nil)
					continue
				default:
				}
				req.Reply(true, nil)
				close(started)
				sess.Out = NewFrameWriter(ch, s.opts.OutputLimit)
				go func() {
					defer close(done)
					defer sess.Out.Close()
					s.opts.Handler(sess)
				}()
			default:
				req.Reply(false, nil)
			}
		}
	}
}

func sendExit(ch gossh.Channel, code uint32) {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], code)
	ch.SendRequest("exit-status", false, b[:])
}

func parsePty(p []byte) (term string, w, h int, ok bool) {
	var req struct {
		Term          string
		Cols, Rows    uint32
		Width, Height uint32
		Modes         string
	}
	if err := gossh.Unmarshal(p, &req); err != nil {
		return "", 0, 0, false
	}
	return req.Term, int(req.Cols), int(req.Rows), true
}

func parseWindow(p []byte) (w, h int, ok bool) {
	var req struct{ Cols, Rows, Width, Height uint32 }
	if err := gossh.Unmarshal(p, &req); err != nil {
		return 0, 0, false
	}
	return int(req.Cols), int(req.Rows), true
}

// hostKey loads the server key, creating it on first use.
func hostKey(path string) (gossh.Signer, error) {
	if path == "" {
		return nil, errors.New("serve: no host key path; the key is kept so participants' known_hosts stay valid")
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		_, priv, gerr := ed25519.GenerateKey(rand.Reader)
		if gerr != nil {
			return nil, gerr
		}
		block, merr := gossh.MarshalPrivateKey(priv, "gameday serve")
		if merr != nil {
			return nil, merr
		}
		data = pem.EncodeToMemory(block)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("serve: host key: %w", err)
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return nil, fmt.Errorf("serve: host key: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("serve: host key: %w", err)
	}
	signer, err := gossh.ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("serve: host key %s: %w", path, err)
	}
	return signer, nil
}

// admitted maps each key to its participant: the runbook's roles first, then
// authorized_keys entries in role.
func admitted(roles runbook.Roles, authorized, role string) (map[string]Who, error) {
	keys := map[string]Who{}
	for _, m := range roles.Members() {
		if m.Key == "" {
			continue
		}
		pk, _, _, _, err := gossh.ParseAuthorizedKey([]byte(m.Key))
		if err != nil {
			return nil, fmt.Errorf("serve: %s's key: %w", m.Name, err)
		}
		keys[gossh.FingerprintSHA256(pk)] = Who{Name: m.Name, Role: m.Role, Abort: roles.CanAbort(m.Name)}
	}
	if authorized == "" {
		return keys, nil
	}
	f, err := os.Open(authorized)
	if err != nil {
		return nil, fmt.Errorf("serve: authorized keys: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		pk, comment, _, _, err := gossh.ParseAuthorizedKey([]byte(text))
		if err != nil {
			return nil, fmt.Errorf("%s:%d: expected an authorized_keys line (type key comment): %v", authorized, line, err)
		}
		fp := gossh.FingerprintSHA256(pk)
		if _, ok := keys[fp]; ok {
			continue // the runbook's role wins
		}
		name := comment
		if name == "" {
			name = fmt.Sprintf("%s-%d", role, line)
		}
		keys[fp] = Who{Name: name, Role: role}
	}
	return keys, sc.Err()
}
