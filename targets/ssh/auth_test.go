package ssh

import (
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/gameday/gameday/targets"
)

// TestEncryptedKey: a passphrase-protected key file is not usable on its
// own, and the error says to load it into ssh-agent; with the agent holding
// it, the same host is reached.
func TestEncryptedKey(t *testing.T) {
	dir := t.TempDir()
	s, kh, plain := startLightServer(t, 1, dir)
	plainPEM, err := os.ReadFile(plain)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := gossh.ParseRawPrivateKey(plainPEM)
	if err != nil {
		t.Fatal(err)
	}
	block, err := gossh.MarshalPrivateKeyWithPassphrase(raw, "gameday-test", []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	enc := filepath.Join(dir, "id_encrypted")
	if err := os.WriteFile(enc, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	m := targets.Member{ID: "web-1", Addr: s.addrs[0], Labels: map[string]string{LabelUser: "deploy"}}
	opts := Options{SSHConfig: "/nonexistent-gameday-test", KnownHosts: kh, IdentityFiles: []string{enc}, AgentSocket: "-", Logf: t.Logf}

	_, err = New(opts).Run(ctxFor(t), m, "true")
	for _, want := range []string{"host web-1: authentication as deploy failed", "key " + enc + " is passphrase-protected: add it to ssh-agent (ssh-add " + enc + ")", "SSH_AUTH_SOCK"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("got %v\nwant it to say %q", err, want)
		}
	}

	// The agent the error points to.
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: raw}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "agent.sock")
	acceptAll(t, "unix", sock, func(c net.Conn) { agent.ServeAgent(keyring, c) })
	opts.AgentSocket = sock
	e := New(opts)
	t.Cleanup(func() { e.Close() })
	if _, err := e.Run(ctxFor(t), m, "true"); err != nil {
		t.Fatalf("with the key in ssh-agent: %v", err)
	}
}

// fakeSudo returns a stand-in host environment whose sudo behaves as
// sudo -n does when the user may not run it without a password (say is
// what it prints), or runs the command when say is empty. No sudo is
// installed on the test machines and no test may change their accounts;
// an in-process SSH server runs commands in this environment.
func fakeSudo(t *testing.T, say string) []string {
	dir := t.TempDir()
	script := `#!/bin/sh
[ "$1" = -n ] && [ "$2" = -- ] || { echo "fake sudo: called without -n --: $*" >&2; exit 2; }
shift 2
if [ -n "$SUDO_SAYS" ]; then echo "$SUDO_SAYS" >&2; exit 1; fi
exec "$@"
`
	if err := os.WriteFile(filepath.Join(dir, "sudo"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return []string{"PATH=" + dir + ":/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + t.TempDir(), "SUDO_SAYS=" + say}
}

// TestSudoPreflight: with sudo: true, a host where sudo wants a password
// fails preflight with that reason and host, at once (sudo -n never
// prompts), while a host where sudo works passes; a user who is not a
// sudoer gets its own message.
func TestSudoPreflight(t *testing.T) {
	cases := []struct {
		says string
		want string
	}{
		{"", ""},
		{"sudo: a password is required", "host web-1: sudo needs a password for deploy; allow it NOPASSWD for the commands gameday runs, or connect as root: sudo: a password is required"},
		{"deploy is not in the sudoers file.  This incident will be reported.", "host web-1: sudo -n failed (is sudo installed and is deploy a sudoer?): deploy is not in the sudoers file."},
	}
	for _, tc := range cases {
		s, kh, key := startServer(t, 1, t.TempDir(), fakeSudo(t, tc.says))
		e := New(Options{SSHConfig: "/nonexistent-gameday-test", KnownHosts: kh, IdentityFiles: []string{key}, AgentSocket: "-", HostDeadline: 30 * time.Second})
		t.Cleanup(func() { e.Close() })
		m := targets.Member{ID: "web-1", Addr: s.addrs[0], Labels: map[string]string{LabelUser: "deploy", LabelSudo: "true"}}
		inj := targets.Injection{RunID: "sudo", Attack: "a", Kind: "custom", Member: m, Params: map[string]string{"inject": "true", "rollback": "true"}, Duration: time.Minute}
		err := e.Preflight(ctxFor(t), inj)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("sudo works: preflight failed: %v", err)
		case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)):
			t.Errorf("sudo says %q:\n got %v\nwant %s", tc.says, err, tc.want)
		}
	}
}
