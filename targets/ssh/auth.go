package ssh

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// auth provides client authentication: the agent first, then key files.
// Parsed keys are cached so a 100-host fan-out reads each file once.
type auth struct {
	agentSocket string
	identities  []string // from Options

	mu      sync.Mutex
	agent   agent.ExtendedAgent
	agentOK bool
	keys    map[string]keyResult
}

type keyResult struct {
	signer gossh.Signer
	err    error // errEncrypted, or why the file could not be used
}

var errEncrypted = errors.New("passphrase-protected")

func defaultIdentities() []string {
	home, err := os.UserHomeDir()
	if err != nil {
		return nil
	}
	var out []string
	for _, n := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
		out = append(out, filepath.Join(home, ".ssh", n))
	}
	return out
}

// methods returns the auth methods for a host whose ssh_config names
// identities, and a note describing keys that could not be used, to add to an
// authentication failure.
func (a *auth) methods(identities []string) ([]gossh.AuthMethod, string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var methods []gossh.AuthMethod
	var notes []string
	if a.agentSocket != "" && a.agentSocket != "-" && !a.agentOK {
		if conn, err := net.Dial("unix", a.agentSocket); err == nil {
			a.agent, a.agentOK = agent.NewClient(conn), true
		} else {
			notes = append(notes, fmt.Sprintf("ssh-agent at %s: %v", a.agentSocket, err))
		}
	}
	if a.agentOK {
		methods = append(methods, gossh.PublicKeysCallback(a.agent.Signers))
	}

	files := append(append([]string{}, a.identities...), identities...)
	explicit := len(files)
	if len(files) == 0 {
		files = defaultIdentities()
	}
	var signers []gossh.Signer
	for i, f := range files {
		r := a.loadLocked(f)
		switch {
		case r.signer != nil:
			signers = append(signers, r.signer)
		case errors.Is(r.err, errEncrypted):
			notes = append(notes, fmt.Sprintf("key %s is passphrase-protected: add it to ssh-agent (ssh-add %s) and make sure SSH_AUTH_SOCK is set", f, f))
		case errors.Is(r.err, os.ErrNotExist) && i >= explicit:
			// Default key names that do not exist are not worth a word.
		default:
			notes = append(notes, fmt.Sprintf("key %s: %v", f, r.err))
		}
	}
	if len(signers) > 0 {
		methods = append(methods, gossh.PublicKeys(signers...))
	}
	if len(methods) == 0 {
		notes = append(notes, "no ssh-agent (SSH_AUTH_SOCK unset) and no usable identity file")
	}
	return methods, strings.Join(notes, "; ")
}

func (a *auth) loadLocked(path string) keyResult {
	if r, ok := a.keys[path]; ok {
		return r
	}
	var r keyResult
	pem, err := os.ReadFile(path)
	if err != nil {
		r.err = err
	} else if s, err := gossh.ParsePrivateKey(pem); err != nil {
		var pm *gossh.PassphraseMissingError
		if errors.As(err, &pm) {
			r.err = errEncrypted
		} else {
			r.err = err
		}
	} else {
		r.signer = s
	}
	if a.keys == nil {
		a.keys = map[string]keyResult{}
	}
	a.keys[path] = r
	return r
}
