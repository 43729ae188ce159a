package ssh

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/gameday/gameday/lab/e2e"
	"github.com/gameday/gameday/targets"
)

// sshd is a real OpenSSH server a test started on loopback (or in a test
// network namespace), with its own host key and one authorised user key.
type sshd struct {
	Addr       string // host:port
	Dir        string
	HostKey    gossh.PublicKey
	UserKey    string // private key file
	KnownHosts string // a known_hosts that trusts HostKey
}

func writeKey(t testing.TB, path string) gossh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "gameday-test")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startSSHD runs sshd -D on listen (an IP) and a free port; netns, when set,
// runs it inside that network namespace.
func startSSHD(t testing.TB, listen, netns string) *sshd {
	t.Helper()
	paths := e2e.Need(t, "sshd")
	e2e.NeedRoot(t)
	dir := t.TempDir()
	host := writeKey(t, filepath.Join(dir, "host_ed25519"))
	user := writeKey(t, filepath.Join(dir, "user_ed25519"))
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), gossh.MarshalAuthorizedKey(user.PublicKey()), 0o600); err != nil {
		t.Fatal(err)
	}
	port := 22
	if netns == "" {
		port = freePort(t)
	}
	conf := fmt.Sprintf(`Port %d
ListenAddress %s
HostKey %s/host_ed25519
PidFile %s/sshd.pid
AuthorizedKeysFile %s/authorized_keys
StrictModes no
UsePAM no
PermitRootLogin yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowTcpForwarding yes
MaxStartups 200
MaxSessions 200
LogLevel ERROR
`, port, listen, dir, dir, dir)
	if err := os.WriteFile(filepath.Join(dir, "sshd_config"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	// sshd refuses to start without its privilege separation directory,
	// which a host that never ran sshd as a service lacks.
	os.MkdirAll("/run/sshd", 0o755)
	sshdPath, _ := filepath.Abs(paths[0])
	args := []string{sshdPath, "-D", "-e", "-f", filepath.Join(dir, "sshd_config")}
	if netns != "" {
		args = append([]string{"ip", "netns", "exec", netns}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	logf, _ := os.Create(filepath.Join(dir, "sshd.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sshd: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
	})
	addr := net.JoinHostPort(listen, strconv.Itoa(port))
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "sshd.log"))
			t.Fatalf("sshd did not listen on %s: %v\n%s", addr, err, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
	kh := filepath.Join(dir, "known_hosts")
	line := knownhosts.Line([]string{knownhosts.Normalize(addr)}, host.PublicKey()) + "\n"
	if err := os.WriteFile(kh, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	return &sshd{Addr: addr, Dir: dir, HostKey: host.PublicKey(), UserKey: filepath.Join(dir, "user_ed25519"), KnownHosts: kh}
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

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", within, what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func ctxFor(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}
