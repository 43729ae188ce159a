package ssh

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/gameday/gameday/lab/e2e"
	"github.com/gameday/gameday/targets"
)

// sshd is the shared real-sshd harness, with the executor helpers these
// tests add to it.
type sshd struct{ *e2e.SSHD }

func writeKey(t testing.TB, path string) gossh.Signer { return e2e.WriteKey(t, path) }

// startSSHD runs sshd -D on listen (an IP) and a free port; netns, when set,
// runs it inside that network namespace.
func startSSHD(t testing.TB, listen, netns string) *sshd {
	t.Helper()
	return &sshd{e2e.StartSSHD(t, listen, netns)}
}

// executor returns an Executor that trusts s and logs in as root with its key.
func (s *sshd) executor(t testing.TB, mod func(*Options)) *Executor {
	o := Options{
		SSHConfig:     filepath.Join(s.Dir, "no-ssh-config"),
		KnownHosts:    s.KnownHosts,
		IdentityFiles: []string{s.UserKey},
		AgentSocket:   "-", // never the developer's agent: tests must not depend on it
		Grace:         time.Second,
		HostDeadline:  30 * time.Second,
		Logf:          t.Logf,
	}
	if mod != nil {
		mod(&o)
	}
	e := New(o)
	t.Cleanup(func() { e.Close() })
	return e
}

func (s *sshd) member() targets.Member {
	return targets.Member{Target: "test", ID: "test-host", Addr: s.Addr, Labels: map[string]string{LabelUser: "root"}}
}

// acceptAll listens on addr until the test ends and hands every connection
// to handle, each in its own goroutine.
func acceptAll(t testing.TB, network, addr string, handle func(net.Conn)) net.Listener {
	t.Helper()
	l, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go handle(c)
		}
	}()
	return l
}

func ctxFor(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}
