package ssh

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/gameday/gameday/targets"
)

// lightServer is an x/crypto/ssh server that answers every exec request
// with exit status 0 at once, on many loopback addresses, so a benchmark
// measures the client and not the host. With env set, it runs each command
// with sh -c in that environment instead: a stand-in host for unit tests
// of the client.
type lightServer struct {
	addrs []string
	ls    []net.Listener
	wg    sync.WaitGroup
	env   []string
}

func startLightServer(b testing.TB, n int, dir string) (*lightServer, string, string) {
	return startServer(b, n, dir, nil)
}

// startServer starts a lightServer on 127.0.0.1 to 127.0.0.n; it returns
// it, a known_hosts file that trusts it, and the user key it accepts.
func startServer(b testing.TB, n int, dir string, env []string) (*lightServer, string, string) {
	host := writeKey(b, filepath.Join(dir, "host"))
	user := writeKey(b, filepath.Join(dir, "user"))
	cfg := &gossh.ServerConfig{PublicKeyCallback: func(_ gossh.ConnMetadata, k gossh.PublicKey) (*gossh.Permissions, error) {
		if string(k.Marshal()) == string(user.PublicKey().Marshal()) {
			return nil, nil
		}
		return nil, fmt.Errorf("unknown key")
	}}
	cfg.AddHostKey(host)
	s := &lightServer{env: env}
	var kh []byte
	for i := 1; i <= n; i++ {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.%d:0", i))
		if err != nil {
			b.Skipf("cannot listen on 127.0.0.%d: %v", i, err)
		}
		s.ls = append(s.ls, l)
		s.addrs = append(s.addrs, l.Addr().String())
		kh = append(kh, knownhosts.Line([]string{knownhosts.Normalize(l.Addr().String())}, host.PublicKey())+"\n"...)
		s.wg.Add(1)
		go s.serve(l, cfg)
	}
	khPath := filepath.Join(dir, "known_hosts")
	os.WriteFile(khPath, kh, 0o600)
	b.Cleanup(func() {
		for _, l := range s.ls {
			l.Close()
		}
	})
	return s, khPath, filepath.Join(dir, "user")
}

func (s *lightServer) serve(l net.Listener, cfg *gossh.ServerConfig) {
	defer s.wg.Done()
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			_, chans, reqs, err := gossh.NewServerConn(c, cfg)
			if err != nil {
				return
			}
			go gossh.DiscardRequests(reqs)
			for nc := range chans {
				ch, rs, err := nc.Accept()
				if err != nil {
					continue
				}
				go func() {
					for r := range rs {
						r.Reply(r.Type == "exec", nil)
						if r.Type == "exec" {
							status := make([]byte, 4)
							binary.BigEndian.PutUint32(status, s.exec(ch, r.Payload))
							ch.SendRequest("exit-status", false, status)
							ch.Close()
							return
						}
					}
				}()
			}
		}()
	}
}

// exec runs an exec request's command when the server has an environment.
func (s *lightServer) exec(ch gossh.Channel, payload []byte) uint32 {
	if s.env == nil {
		return 0
	}
	var req struct{ Command string }
	if err := gossh.Unmarshal(payload, &req); err != nil {
		return 255
	}
	cmd := exec.Command("sh", "-c", req.Command)
	cmd.Env = s.env
	cmd.Stdout, cmd.Stderr = ch, ch.Stderr()
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return uint32(ee.ExitCode())
	}
	if err != nil {
		return 255
	}
	return 0
}

// BenchmarkFanout100: preflight + inject + rollback of a cpu attack on 100
// hosts (127.0.0.1-127.0.0.100), connections included, as one game day
// would; and an abort (rollback on hosts already connected) alone.
func BenchmarkFanout100(b *testing.B) {
	s, kh, key := startLightServer(b, 100, b.TempDir())
	members := make([]targets.Member, len(s.addrs))
	for i, a := range s.addrs {
		members[i] = targets.Member{ID: fmt.Sprintf("h%03d", i+1), Addr: a, Labels: map[string]string{LabelUser: "bench"}}
	}
	newExec := func() *Executor {
		return New(Options{SSHConfig: "/nonexistent-gameday-bench", KnownHosts: kh, IdentityFiles: []string{key}, AgentSocket: "-", Fanout: 100})
	}
	each := func(f func(i int) error) {
		var wg sync.WaitGroup
		for i := range members {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := f(i); err != nil {
					b.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	inj := func(i int) targets.Injection {
		return targets.Injection{RunID: "bench", Attack: "cpu", Kind: "cpu", Member: members[i], Params: map[string]string{"workers": "1"}, Duration: time.Minute}
	}
	ctx := context.Background()
	b.Run("preflight+inject+rollback", func(b *testing.B) {
		for b.Loop() {
			e := newExec()
			each(func(i int) error { return e.Preflight(ctx, inj(i)) })
			each(func(i int) error { x := inj(i); _, err := e.Inject(ctx, &x); return err })
			each(func(i int) error { _, err := e.Rollback(ctx, inj(i)); return err })
			if e.Handshakes() != 100 {
				b.Fatalf("%d handshakes", e.Handshakes())
			}
			e.Close()
		}
	})
	b.Run("abort-connected", func(b *testing.B) {
		e := newExec()
		defer e.Close()
		each(func(i int) error { return e.Preflight(ctx, inj(i)) })
		for b.Loop() {
			each(func(i int) error { _, err := e.Rollback(ctx, inj(i)); return err })
		}
	})
}
