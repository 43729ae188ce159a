package e2e

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"os"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// WriteKey writes a fresh ed25519 private key to path in OpenSSH form and
// returns its signer.
func WriteKey(t testing.TB, path string) gossh.Signer {
	t.Helper()
	priv, s := newKey(t)
	block, err := gossh.MarshalPrivateKey(priv, "gameday-test")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

// Key is a fresh ed25519 key that lives only in memory, for a test SSH
// server's host key or a client that never needs a key file.
func Key(t testing.TB) gossh.Signer {
	t.Helper()
	_, s := newKey(t)
	return s
}

// AuthorizedKey is k as one authorized_keys line, without the newline.
func AuthorizedKey(k gossh.PublicKey) string {
	return strings.TrimSpace(string(gossh.MarshalAuthorizedKey(k)))
}

// Participant is how a test's ssh client joins a served game day as user
// with signer's key: any host key is taken (the host key has tests of
// its own), and a handshake that takes over 5s fails.
func Participant(user string, signer gossh.Signer) *gossh.ClientConfig {
	return &gossh.ClientConfig{User: user, Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second}
}

func newKey(t testing.TB) (ed25519.PrivateKey, gossh.Signer) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return priv, s
}
