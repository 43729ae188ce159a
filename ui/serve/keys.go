package serve

import (
	"bufio"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gameday/gameday/runbook"
	gossh "golang.org/x/crypto/ssh"
)

// hostKey loads the server key, creating it on first use.
func hostKey(path string) (gossh.Signer, error) {
	if path == "" {
		return nil, errors.New("serve: no host key path; the key is kept so participants' known_hosts stay valid")
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		_, priv, gerr := ed25519.GenerateKey(rand.Reader)
		if gerr != nil {
			return nil, gerr
		}
		block, merr := gossh.MarshalPrivateKey(priv, "gameday serve")
		if merr != nil {
			return nil, merr
		}
		data = pem.EncodeToMemory(block)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("serve: host key: %w", err)
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return nil, fmt.Errorf("serve: host key: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("serve: host key: %w", err)
	}
	signer, err := gossh.ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("serve: host key %s: %w", path, err)
	}
	return signer, nil
}

// admitted maps each key to its participant: the runbook's roles first, then
// authorized_keys entries in role.
func admitted(roles runbook.Roles, authorized, role string) (map[string]Who, error) {
	keys := map[string]Who{}
	for _, m := range roles.Members() {
		if m.Key == "" {
			continue
		}
		pk, _, _, _, err := gossh.ParseAuthorizedKey([]byte(m.Key))
		if err != nil {
			return nil, fmt.Errorf("serve: %s's key: %w", m.Name, err)
		}
		keys[gossh.FingerprintSHA256(pk)] = Who{Name: m.Name, Role: m.Role, Abort: roles.CanAbort(m.Name)}
	}
	if authorized == "" {
		return keys, nil
	}
	f, err := os.Open(authorized)
	if err != nil {
		return nil, fmt.Errorf("serve: authorized keys: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		pk, comment, _, _, err := gossh.ParseAuthorizedKey([]byte(text))
		if err != nil {
			return nil, fmt.Errorf("%s:%d: expected an authorized_keys line (type key comment): %v", authorized, line, err)
		}
		fp := gossh.FingerprintSHA256(pk)
		if _, ok := keys[fp]; ok {
			continue // the runbook's role wins
		}
		name := comment
		if name == "" {
			name = fmt.Sprintf("%s-%d", role, line)
		}
		keys[fp] = Who{Name: name, Role: role}
	}
	return keys, sc.Err()
}
