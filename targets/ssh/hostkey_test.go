package ssh

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

func TestHostKeys(t *testing.T) {
	s := startSSHD(t, "127.0.0.1", "")
	inj := func() targets.Injection {
		return targets.Injection{RunID: "hk", Attack: "a", Kind: "custom", Member: s.member(),
			Params: map[string]string{"inject": "true", "rollback": "true"}, Duration: time.Second}
	}

	t.Run("unknown host refused", func(t *testing.T) {
		kh := filepath.Join(t.TempDir(), "known_hosts")
		e := s.executor(t, func(o *Options) { o.KnownHosts = kh })
		err := e.Preflight(ctxFor(t), inj())
		if err == nil || !strings.Contains(err.Error(), "is not in known_hosts") || !strings.Contains(err.Error(), gossh.FingerprintSHA256(s.HostKey)) {
			t.Fatalf("got %v, want refusal naming the fingerprint", err)
		}
		if _, err := os.Stat(kh); !os.IsNotExist(err) {
			t.Fatalf("known_hosts written without accept-new: %v", err)
		}
	})

	t.Run("accept new records", func(t *testing.T) {
		kh := filepath.Join(t.TempDir(), "known_hosts")
		e := s.executor(t, func(o *Options) { o.KnownHosts = kh; o.AcceptNewHostKeys = true })
		if err := e.Preflight(ctxFor(t), inj()); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(kh)
		if err != nil || !strings.Contains(string(b), knownhosts.Normalize(s.Addr)) || !strings.Contains(string(b), strings.TrimSpace(string(gossh.MarshalAuthorizedKey(s.HostKey)))) {
			t.Fatalf("known_hosts after accept-new: %q %v", b, err)
		}
		// A strict executor now trusts the recorded key.
		e2 := s.executor(t, func(o *Options) { o.KnownHosts = kh })
		if err := e2.Preflight(ctxFor(t), inj()); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("changed key refused with both fingerprints", func(t *testing.T) {
		dir := t.TempDir()
		other := writeKey(t, filepath.Join(dir, "other"))
		kh := filepath.Join(dir, "known_hosts")
		os.WriteFile(kh, []byte(knownhosts.Line([]string{knownhosts.Normalize(s.Addr)}, other.PublicKey())+"\n"), 0o600)
		for _, accept := range []bool{false, true} {
			e := s.executor(t, func(o *Options) { o.KnownHosts = kh; o.AcceptNewHostKeys = accept })
			err := e.Preflight(ctxFor(t), inj())
			if err == nil || !strings.Contains(err.Error(), "HOST KEY CHANGED") ||
				!strings.Contains(err.Error(), gossh.FingerprintSHA256(s.HostKey)) || !strings.Contains(err.Error(), gossh.FingerprintSHA256(other.PublicKey())) {
				t.Fatalf("accept-new=%v: got %v, want refusal with both fingerprints", accept, err)
			}
		}
	})
}

// TestProxyJump reaches the host through a jump host (the same sshd, which
// forwards to itself) and reuses the jump connection.
func TestProxyJump(t *testing.T) {
	s := startSSHD(t, "127.0.0.1", "")
	e := s.executor(t, nil)
	members, err := e.Resolve(ctxFor(t), runbook.Target{Name: "web", SSH: &runbook.SSHTarget{
		Hosts: []string{"127.0.0.1"}, User: "root", Port: mustPort(t, s.Addr), Jump: "root@" + s.Addr}})
	if err != nil {
		t.Fatal(err)
	}
	if members[0].Labels[LabelJump] != "root@"+s.Addr || members[0].Addr != s.Addr {
		t.Fatalf("member %+v", members[0])
	}
	out, err := e.Run(ctxFor(t), members[0], "echo hello-through-jump")
	if err != nil || out != "hello-through-jump" {
		t.Fatalf("run via jump: %q %v", out, err)
	}
	if _, err := e.Run(ctxFor(t), members[0], "true"); err != nil {
		t.Fatal(err)
	}
	if n := e.Handshakes(); n != 2 {
		t.Fatalf("%d handshakes, want 2 (jump host and target, each once)", n)
	}
}

func mustPort(t *testing.T, addr string) int {
	i := strings.LastIndexByte(addr, ':')
	var p int
	for _, c := range addr[i+1:] {
		p = p*10 + int(c-'0')
	}
	return p
}

// TestKnownHostsFromSSHConfig: a host whose ssh_config names its
// known-hosts file is checked against it with no --known-hosts; a
// --known-hosts file still wins, and a wrong key in it is refused.
func TestKnownHostsFromSSHConfig(t *testing.T) {
	s := startSSHD(t, "127.0.0.1", "")
	host, port, _ := strings.Cut(s.Addr, ":")
	cfg := filepath.Join(t.TempDir(), "config")
	os.WriteFile(cfg, []byte("Host fleet-1\n  HostName "+host+"\n  Port "+port+"\n  User root\n  UserKnownHostsFile "+s.KnownHosts+"\n"), 0o600)
	m := targets.Member{Target: "t", ID: "fleet-1", Labels: map[string]string{LabelUser: "root"}}
	e := s.executor(t, func(o *Options) { o.KnownHosts = ""; o.SSHConfig = cfg })
	if _, err := e.Run(ctxFor(t), m, "true"); err != nil {
		t.Fatalf("UserKnownHostsFile from ssh_config not honoured: %v", err)
	}

	other := writeKey(t, filepath.Join(t.TempDir(), "other"))
	wrong := filepath.Join(t.TempDir(), "known_hosts")
	os.WriteFile(wrong, []byte(knownhosts.Line([]string{knownhosts.Normalize(s.Addr)}, other.PublicKey())+"\n"), 0o600)
	e = s.executor(t, func(o *Options) { o.KnownHosts = wrong; o.SSHConfig = cfg })
	if _, err := e.Run(ctxFor(t), m, "true"); err == nil || !strings.Contains(err.Error(), "HOST KEY CHANGED") || !strings.Contains(err.Error(), wrong) {
		t.Fatalf("--known-hosts did not win over ssh_config: %v", err)
	}
}
