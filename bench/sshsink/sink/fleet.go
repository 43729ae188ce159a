package sink

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"

	gossh "golang.org/x/crypto/ssh"
)

// Fleet is a sink with keys of its own, as benchmarks and tests use it.
type Fleet struct {
	*Server
	KnownHosts string // a known_hosts file that trusts the server on every address
	UserKey    string // the private key file of the one user key it accepts
}

// StartFleet serves listen with a fresh host key and accepts one fresh user
// key; the user key and a known_hosts file are written under dir.
func StartFleet(dir string, listen []string, env []string) (*Fleet, error) {
	_, host, err := NewKey()
	if err != nil {
		return nil, err
	}
	userKey, user, err := NewKey()
	if err != nil {
		return nil, err
	}
	f := &Fleet{KnownHosts: filepath.Join(dir, "known_hosts"), UserKey: filepath.Join(dir, "user")}
	block, err := gossh.MarshalPrivateKey(userKey, "sink user")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(f.UserKey, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, fmt.Errorf("write the user key: %w", err)
	}
	if f.Server, err = Start(listen, host, []gossh.PublicKey{user.PublicKey()}, env); err != nil {
		return nil, err
	}
	if err := os.WriteFile(f.KnownHosts, f.Server.KnownHosts(), 0o600); err != nil {
		f.Close()
		return nil, fmt.Errorf("write known_hosts: %w", err)
	}
	return f, nil
}

// NewKey makes a fresh ed25519 key, for a host or a user, and its signer.
func NewKey() (ed25519.PrivateKey, gossh.Signer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	signer, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		return nil, nil, err
	}
	return priv, signer, nil
}
