package ssh

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// pool holds one SSH connection per (user, address, route) for the whole
// game day: handshakes are what a host pays most for, so preflight, inject,
// status and rollback all ride the same one.
type pool struct {
	opts  Options
	cfg   *configs
	keys  *keyStore
	auth  *auth
	mu    sync.Mutex
	conns map[string]*poolEntry
	dials int // handshakes made, for tests and benchmarks

	turns chan struct{} // one per handshake under way (Options.Handshakes)
}

type poolEntry struct {
	ready  chan struct{} // closed when the dial finished
	client *gossh.Client
	err    error
}

func connKey(spec hostSpec) string {
	return spec.User + "@" + spec.Addr + " via " + strings.Join(spec.Jump, ",")
}

// get returns the pooled client for spec, dialling it (and its jump hosts)
// once however many callers ask at the same time.
func (p *pool) get(ctx context.Context, spec hostSpec, depth int) (*gossh.Client, error) {
	key := connKey(spec)
	p.mu.Lock()
	e, ok := p.conns[key]
	if !ok {
		e = &poolEntry{ready: make(chan struct{})}
		if p.conns == nil {
			p.conns = map[string]*poolEntry{}
		}
		p.conns[key] = e
		p.mu.Unlock()
		e.client, e.err = p.dial(ctx, spec, depth)
		close(e.ready)
		if e.err != nil {
			p.drop(key, e)
		} else {
			go p.watch(key, e)
		}
		return e.client, e.err
	}
	p.mu.Unlock()
	select {
	case <-e.ready:
	case <-ctx.Done():
		return nil, fmt.Errorf("host %s: waiting for connection: %w", spec.Alias, ctx.Err())
	}
	if e.err != nil {
		// Someone else's dial failed; try our own rather than share a
		// failure that may have come from their shorter deadline.
		return p.get(ctx, spec, depth)
	}
	return e.client, nil
}

func (p *pool) drop(key string, e *poolEntry) {
	p.mu.Lock()
	if p.conns[key] == e {
		delete(p.conns, key)
	}
	p.mu.Unlock()
}

// forget closes and removes a client that failed to open a session, so the
// next use dials afresh.
func (p *pool) forget(c *gossh.Client) {
	p.mu.Lock()
	for k, e := range p.conns {
		if e.client == c {
			delete(p.conns, k)
		}
	}
	p.mu.Unlock()
	c.Close()
}

// watch sends keepalives until the connection ends, then removes it.
func (p *pool) watch(key string, e *poolEntry) {
	closed := make(chan struct{})
	go func() {
		e.client.Wait()
		close(closed)
		p.drop(key, e)
	}()
	if p.opts.Keepalive < 0 {
		return
	}
	t := time.NewTicker(p.opts.Keepalive)
	defer t.Stop()
	missed := 0
	for {
		select {
		case <-closed:
			return
		case <-t.C:
		}
		reply := make(chan error, 1)
		go func() {
			_, _, err := e.client.SendRequest("keepalive@openssh.com", true, nil)
			reply <- err
		}()
		select {
		case err := <-reply:
			if err != nil {
				missed = 3
			} else {
				missed = 0
			}
		case <-time.After(p.opts.Keepalive):
			missed++
		case <-closed:
			return
		}
		if missed >= 3 {
			p.opts.Logf("ssh %s: keepalive lost, closing; the next step redials", key)
			e.client.Close()
			return
		}
	}
}

func (p *pool) dial(ctx context.Context, spec hostSpec, depth int) (*gossh.Client, error) {
	if depth > maxHops {
		return nil, fmt.Errorf("host %s: ProxyJump chain longer than %d hops; check ssh_config for a loop", spec.Alias, maxHops)
	}
	timeout := spec.ConnectTimeout
	if timeout <= 0 {
		timeout = p.opts.ConnectTimeout
	}
	// The jump host is reached before taking a turn: a turn held while
	// waiting for the jump host's own handshake could leave none for it.
	var jc *gossh.Client
	var last string
	if len(spec.Jump) > 0 {
		hop, err := p.cfg.nextHop(spec)
		if err != nil {
			return nil, err
		}
		last = spec.Jump[len(spec.Jump)-1]
		jc, err = p.get(ctx, hop, depth+1)
		if err != nil {
			return nil, fmt.Errorf("host %s: via jump host %s: %w", spec.Alias, last, err)
		}
	}
	select {
	case p.turns <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("host %s: waiting for a turn to connect: %w", spec.Alias, ctx.Err())
	}
	defer func() { <-p.turns }()
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var conn net.Conn
	var err error
	if jc == nil {
		var d net.Dialer
		conn, err = d.DialContext(dctx, "tcp", spec.Addr)
		if err != nil {
			return nil, fmt.Errorf("host %s: connect to %s: %w (is sshd running and the port open?)", spec.Alias, spec.Addr, err)
		}
	} else {
		conn, err = jc.DialContext(dctx, "tcp", spec.Addr)
		if err != nil {
			return nil, fmt.Errorf("host %s: jump host %s could not connect to %s: %w", spec.Alias, last, spec.Addr, err)
		}
	}

	// NewClientConn takes no context, and connections through a jump host
	// do not support deadlines, so closing the conn is how a slow handshake
	// is cut off.
	stop := context.AfterFunc(dctx, func() { conn.Close() })
	defer stop()

	methods, notes := p.auth.methods(spec.Identities)
	keys := p.keys.forHost(spec)
	cc := &gossh.ClientConfig{
		User:              spec.User,
		Auth:              methods,
		HostKeyCallback:   keys.check(spec.Alias),
		HostKeyAlgorithms: keys.algorithms(spec.Addr),
		Timeout:           timeout,
	}
	c, chans, reqs, err := gossh.NewClientConn(conn, spec.Addr, cc)
	if err != nil {
		conn.Close()
		if dctx.Err() != nil && ctx.Err() == nil {
			return nil, fmt.Errorf("host %s: SSH handshake with %s took longer than %s (ConnectTimeout)", spec.Alias, spec.Addr, timeout)
		}
		msg := err.Error()
		if strings.Contains(msg, "unable to authenticate") {
			hint := fmt.Sprintf("check that user %s accepts your key (authorized_keys) or that ssh-agent holds it", spec.User)
			if notes != "" {
				hint += "; " + notes
			}
			return nil, fmt.Errorf("host %s: authentication as %s failed: %w; %s", spec.Alias, spec.User, err, hint)
		}
		return nil, fmt.Errorf("host %s: SSH handshake with %s: %w", spec.Alias, spec.Addr, err)
	}
	p.mu.Lock()
	p.dials++
	p.mu.Unlock()
	p.opts.Logf("ssh %s: connected to %s as %s", spec.Alias, spec.Addr, spec.User)
	return gossh.NewClient(c, chans, reqs), nil
}

func (p *pool) closeAll() {
	p.mu.Lock()
	entries := p.conns
	p.conns = nil
	p.mu.Unlock()
	for _, e := range entries {
		select {
		case <-e.ready:
			if e.client != nil {
				e.client.Close()
			}
		default:
		}
	}
}
