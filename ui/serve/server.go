// Package serve lets participants join a live game day with a plain
// `ssh -p PORT host`: a wish SSH server that admits only the keys the
// runbook's roles or an authorized_keys file name and runs, through wish's
// Bubble Tea middleware, one console program per session, sized to the
// participant's pty and resized with it.
package serve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/ssh"
	"github.com/charmbracelet/wish"
	bm "github.com/charmbracelet/wish/bubbletea"
	gossh "golang.org/x/crypto/ssh"

	"github.com/gameday/gameday/runbook"
)

// Who is the participant a key belongs to.
type Who struct {
	Name string
	Role string // runbook.RoleFacilitator, RoleScribe, RoleObserver, RoleResponder
	// Abort is set for the facilitator and the runbook's safety officers.
	Abort bool
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
	// Console builds one session's console program, reading s.In and
	// drawing on s.Out. The server runs it, sends it the pty's size and
	// every resize as tea.WindowSizeMsg, quits it when the participant or
	// the server goes, and then calls done. A nil program ends the session.
	Console func(s *Session) (p *tea.Program, done func(), err error)
	// OutputLimit bounds bytes queued for a slow terminal before frames are
	// dropped (default 1 MiB).
	OutputLimit int
	// Logf, when set, receives one line per connection and refusal.
	Logf func(format string, args ...any)
	// OpenTimeout bounds a client that connects and opens no session: the
	// handshake, authentication and the first channel must fit in it
	// (default 20s).
	OpenTimeout time.Duration
	// CloseGrace bounds how long Close waits for consoles to end and hand
	// their terminals back before it cuts the connections (default 3s).
	CloseGrace time.Duration
}

// Server is a running share server.
type Server struct {
	opts   Options
	keys   map[string]Who // by SHA256 fingerprint
	ssh    *ssh.Server
	ln     net.Listener
	hostFP string

	mu     sync.Mutex
	closed bool
	conns  map[ssh.Context]*conn
	wg     sync.WaitGroup // the accept loop, connections and sessions
	// ending ends each live session's console; Close calls them all and
	// waits (bounded by CloseGrace) on live, so every terminal is given
	// back, and told why, before the connections close.
	ending map[*session]context.CancelFunc
	live   sync.WaitGroup
}

// Start listens and serves until Close.
func Start(opts Options) (*Server, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:2222"
	}
	if opts.OutputLimit <= 0 {
		opts.OutputLimit = 1 << 20
	}
	if opts.OpenTimeout <= 0 {
		opts.OpenTimeout = 20 * time.Second
	}
	if opts.CloseGrace <= 0 {
		opts.CloseGrace = 3 * time.Second
	}
	if opts.Console == nil {
		return nil, errors.New("serve: no session console")
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
		return nil, errors.New("serve: no participant has a key; give roles a key in the runbook (roles: observers: - {name: ..., key: \"ssh-ed25519 ...\"}) or pass --authorized-keys FILE, whose keys join as the role the command gives them")
	}
	s := &Server{opts: opts, keys: keys, conns: map[ssh.Context]*conn{}, ending: map[*session]context.CancelFunc{}, hostFP: gossh.FingerprintSHA256(signer.PublicKey())}
	// The middleware sets lipgloss's global colour profile; handing it the
	// one in force leaves the facilitator's own console as it was. Each
	// participant's console draws with its own renderer.
	s.ssh, err = wish.NewServer(
		wish.WithVersion("gameday"),
		func(srv *ssh.Server) error { srv.AddHostKey(signer); return nil },
		wish.WithPublicKeyAuth(s.auth),
		wish.WithMiddleware(bm.MiddlewareWithProgramHandler(s.program, lipgloss.ColorProfile()), s.participant),
	)
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	s.ssh.ConnCallback = s.track
	s.ssh.ChannelHandlers = map[string]ssh.ChannelHandler{"session": s.open}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("serve: listen on %s: %w", opts.Addr, err)
	}
	s.ln = ln
	s.wg.Go(func() {
		_ = s.ssh.Serve(ln)
	})
	return s, nil
}

// Addr is where the server listens.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// HostKeyFingerprint is what participants should see on first connect.
func (s *Server) HostKeyFingerprint() string { return s.hostFP }

// Close stops listening, ends every session and waits for them, so that
// what a session does on its way out (a participant's leaving, journalled)
// is done when Close returns.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	conns := make([]*conn, 0, len(s.conns))
	for _, c := range s.conns {
		conns = append(conns, c)
	}
	for _, end := range s.ending {
		end()
	}
	s.mu.Unlock()
	// Each console quits, its terminal is restored and told the game day
	// ended (see participant); a terminal that does not take it in time
	// is cut below.
	ended := make(chan struct{})
	go func() {
		s.live.Wait()
		close(ended)
	}()
	deadline := time.Now().Add(s.opts.CloseGrace)
	select {
	case <-ended:
		// Each client has its exit status and leaves on its own; cutting
		// its connection under it turns a clean exit into a broken pipe.
		s.waitGone(deadline)
	case <-time.After(s.opts.CloseGrace):
	}
	err := s.ssh.Close()
	// Serve may not have registered the listener yet, and connections
	// still in their handshake are not the ssh server's to close.
	if lerr := s.ln.Close(); err == nil && !errors.Is(lerr, net.ErrClosed) {
		err = lerr
	}
	for _, c := range conns {
		c.Close()
	}
	s.wg.Wait()
	return err
}

// waitGone waits, until deadline at the latest, for every connection to
// be closed by its client.
func (s *Server) waitGone(deadline time.Time) {
	for time.Now().Before(deadline) {
		s.mu.Lock()
		n := len(s.conns)
		s.mu.Unlock()
		if n == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// enter counts one more connection or session unless the server is closed.
func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

func (s *Server) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf(format, args...)
	}
}

func (s *Server) auth(ctx ssh.Context, key ssh.PublicKey) bool {
	fp := gossh.FingerprintSHA256(key)
	if _, ok := s.keys[fp]; !ok {
		s.logf("refused %s from %s: key %s is not in the runbook's roles or the authorized keys", ctx.User(), ctx.RemoteAddr(), fp)
		return false
	}
	return true
}

// conn is one client connection, closed if it opens no session in time.
type conn struct {
	net.Conn
	s     *Server
	ctx   ssh.Context
	timer *time.Timer
	once  sync.Once
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.timer.Stop()
		c.s.mu.Lock()
		delete(c.s.conns, c.ctx)
		c.s.mu.Unlock()
		c.s.wg.Done()
	})
	return err
}

// track wraps each accepted connection so that Close reaches it even
// during its handshake, and starts its open timer.
func (s *Server) track(ctx ssh.Context, nc net.Conn) net.Conn {
	if !s.enter() {
		return nil
	}
	c := &conn{Conn: nc, s: s, ctx: ctx}
	c.timer = time.AfterFunc(s.opts.OpenTimeout, func() { c.Close() })
	s.mu.Lock()
	s.conns[ctx] = c
	s.mu.Unlock()
	return c
}

// open serves a session channel; its connection has shown it is a client
// and may stay as long as it likes.
func (s *Server) open(srv *ssh.Server, sc *gossh.ServerConn, nc gossh.NewChannel, ctx ssh.Context) {
	s.mu.Lock()
	if c := s.conns[ctx]; c != nil {
		c.timer.Stop()
	}
	s.mu.Unlock()
	ssh.DefaultSessionHandler(srv, sc, nc, ctx)
}

// who is the participant an authenticated session's key belongs to.
func (s *Server) who(key ssh.PublicKey) (Who, bool) {
	if key == nil {
		return Who{}, false
	}
	w, ok := s.keys[gossh.FingerprintSHA256(key)]
	return w, ok
}

// sessionContext is a connection's context that also ends with one
// session, so that the middleware stops forwarding resizes to a console
// that has ended even while the connection stays up.
type sessionContext struct {
	ssh.Context
	ctx context.Context
}

func (c sessionContext) Done() <-chan struct{} { return c.ctx.Done() }
func (c sessionContext) Err() error            { return c.ctx.Err() }
