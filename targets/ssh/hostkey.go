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
	"golang.org/x/crypto/ssh/knownhosts"
)

// hostKeys checks host keys against one known_hosts file and, when allowed,
// records keys of hosts seen for the first time.
type hostKeys struct {
	path      string
	acceptNew bool
	logf      func(string, ...any)

	mu sync.Mutex
	cb gossh.HostKeyCallback // reloaded after every append
}

func (h *hostKeys) callback() (gossh.HostKeyCallback, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cb != nil {
		return h.cb, nil
	}
	if err := h.reloadLocked(); err != nil {
		return nil, err
	}
	return h.cb, nil
}

func (h *hostKeys) reloadLocked() error {
	if _, err := os.Stat(h.path); errors.Is(err, os.ErrNotExist) {
		// An empty database: every host is unknown, which is refused unless
		// accept-new is on, and then the file is created on first append.
		h.cb = func(string, net.Addr, gossh.PublicKey) error { return &knownhosts.KeyError{} }
		return nil
	}
	cb, err := knownhosts.New(h.path)
	if err != nil {
		return fmt.Errorf("read known_hosts %s: %w", h.path, err)
	}
	h.cb = cb
	return nil
}

// check is the ssh.HostKeyCallback for a connection to alias at addr.
func (h *hostKeys) check(alias string) gossh.HostKeyCallback {
	return func(addr string, remote net.Addr, key gossh.PublicKey) error {
		cb, err := h.callback()
		if err != nil {
			return err
		}
		err = cb(addr, remote, key)
		var ke *knownhosts.KeyError
		if err == nil || !errors.As(err, &ke) {
			return err
		}
		if len(ke.Want) > 0 {
			var known []string
			for _, w := range ke.Want {
				known = append(known, fmt.Sprintf("%s %s (%s:%d)", w.Key.Type(), gossh.FingerprintSHA256(w.Key), w.Filename, w.Line))
			}
			return fmt.Errorf("host %s (%s): HOST KEY CHANGED: it presented %s %s but known_hosts has %s; "+
				"if the host was really rebuilt, remove the old line (ssh-keygen -R %s -f %s) after checking the new fingerprint out of band",
				alias, addr, key.Type(), gossh.FingerprintSHA256(key), strings.Join(known, ", "), knownhosts.Normalize(addr), h.path)
		}
		if !h.acceptNew {
			return fmt.Errorf("host %s (%s) is not in known_hosts %s: it presented %s %s; check that fingerprint, then add the host with ssh-keyscan or rerun with --accept-new-host-keys",
				alias, addr, h.path, key.Type(), gossh.FingerprintSHA256(key))
		}
		return h.record(alias, addr, key)
	}
}

func (h *hostKeys) record(alias, addr string, key gossh.PublicKey) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	// Another connection may have recorded this host meanwhile.
	if h.cb != nil {
		if err := h.cb(addr, nil, key); err == nil {
			return nil
		}
	}
	if err := os.MkdirAll(filepath.Dir(h.path), 0o700); err != nil {
		return fmt.Errorf("host %s: record new host key: %w", alias, err)
	}
	f, err := os.OpenFile(h.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("host %s: record new host key in %s: %w", alias, h.path, err)
	}
	line := knownhosts.Line([]string{knownhosts.Normalize(addr)}, key) + "\n"
	if _, err := f.WriteString(line); err != nil {
		f.Close()
		return fmt.Errorf("host %s: record new host key in %s: %w", alias, h.path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("host %s: record new host key in %s: %w", alias, h.path, err)
	}
	h.logf("ssh %s: accepted new host key %s %s, recorded in %s", alias, key.Type(), gossh.FingerprintSHA256(key), h.path)
	return h.reloadLocked()
}

// algorithms returns the host key algorithms to offer for addr so the server
// presents a key of a type known_hosts already has. Without this the server
// may pick another type and a known host would look like a changed key.
func (h *hostKeys) algorithms(addr string) []string {
	cb, err := h.callback()
	if err != nil {
		return nil
	}
	var ke *knownhosts.KeyError
	if err := cb(addr, &net.TCPAddr{IP: net.IPv4zero}, probeKey{}); !errors.As(err, &ke) || len(ke.Want) == 0 {
		return nil
	}
	var algos []string
	seen := map[string]bool{}
	add := func(a string) {
		if !seen[a] {
			seen[a] = true
			algos = append(algos, a)
		}
	}
	for _, w := range ke.Want {
		switch t := w.Key.Type(); t {
		case gossh.KeyAlgoRSA:
			add(gossh.KeyAlgoRSASHA512)
			add(gossh.KeyAlgoRSASHA256)
			add(gossh.KeyAlgoRSA)
		default:
			add(t)
		}
	}
	return algos
}

// probeKey matches no known key; it makes knownhosts list what it knows.
type probeKey struct{}

func (probeKey) Type() string                          { return "gameday-probe" }
func (probeKey) Marshal() []byte                       { return []byte("gameday-probe") }
func (probeKey) Verify([]byte, *gossh.Signature) error { return errors.New("probe key") }
