package lab

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// newKey makes an ed25519 key, the type OpenSSH prefers.
func newKey() (ssh.Signer, ed25519.PrivateKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	s, err := ssh.NewSignerFromKey(priv)
	return s, priv, err
}

// writeIdentity writes the lab user's key pair as ssh-keygen would: the
// private key in OpenSSH format, readable by its owner only, and the .pub.
func writeIdentity(path string, priv ed25519.PrivateKey, pub ssh.PublicKey) error {
	block, err := ssh.MarshalPrivateKey(priv, "gameday lab")
	if err != nil {
		return err
	}
	if err := writeFile(path, string(pem.EncodeToMemory(block)), 0o600); err != nil {
		return err
	}
	return writeFile(path+".pub", strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub)))+" gameday lab\n", 0o644)
}

// knownHostsLine is one host's entry as OpenSSH looks it up for a
// non-standard port: [127.0.0.1]:PORT.
func knownHostsLine(addr string, key ssh.PublicKey) string {
	return knownhosts.Line([]string{knownhosts.Normalize(addr)}, key) + "\n"
}

// sshConfigEntry lets `ssh -F ssh_config checkout-1` reach the host with the
// lab's key and known_hosts and nothing of the user's own.
func sshConfigEntry(name, addr, user, identity, knownHosts string) string {
	host, port, _ := net.SplitHostPort(addr)
	return fmt.Sprintf(`Host %s
  HostName %s
  Port %s
  User %s
  IdentityFile %s
  IdentitiesOnly yes
  UserKnownHostsFile %s
  StrictHostKeyChecking yes
  LogLevel ERROR

`, name, host, port, user, configPath(identity), configPath(knownHosts))
}

// configPath quotes a path for ssh_config when it holds a space.
func configPath(p string) string {
	if strings.ContainsAny(p, " \t") {
		return `"` + p + `"`
	}
	return p
}

// writeFile replaces path atomically, so a client never reads half a file.
func writeFile(path, content string, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(content); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
