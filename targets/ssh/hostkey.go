package ssh

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// keyStore hands out the known-hosts database each host is checked
// against: the --known-hosts file when one was given (it wins, as ssh -o
// does over the config file), else the files ssh_config names for the host,
// else OpenSSH's defaults. Hosts that share files share one database.
type keyStore struct {
	explicit  string // --known-hosts, expanded; "" when not given
	acceptNew bool   // --accept-new-host-keys
	logf      func(string, ...any)

	mu  sync.Mutex
	dbs map[string]*hostKeys
}

// OpenSSH's defaults when ssh_config names no files.
var (
	defaultUserKnownHosts   = []string{"~/.ssh/known_hosts", "~/.ssh/known_hosts2"}
	defaultGlobalKnownHosts = []string{"/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"}
)

// forHost returns the database spec's host is checked against.
func (k *keyStore) forHost(spec hostSpec) *hostKeys {
	var files []string
	if k.explicit != "" {
		files = []string{k.explicit}
	} else {
		user, global := spec.KnownHosts, spec.GlobalKnownHosts
		if user == nil {
			user = defaultUserKnownHosts
		}
		if global == nil {
			global = defaultGlobalKnownHosts
		}
		for _, f := range append(slices.Clone(user), global...) {
			files = append(files, expandHome(f))
		}
	}
	acceptNew := k.acceptNew || spec.AcceptNew
	key := fmt.Sprint(acceptNew, files)
	k.mu.Lock()
	defer k.mu.Unlock()
	if db, ok := k.dbs[key]; ok {
		return db
	}
	if k.dbs == nil {
		k.dbs = map[string]*hostKeys{}
	}
	db := &hostKeys{files: files, acceptNew: acceptNew, logf: k.logf}
	k.dbs[key] = db
	return db
}

// hostKeys checks host keys against known_hosts files and, when allowed,
// records keys of hosts seen for the first time in the first of them, as
// OpenSSH does with UserKnownHostsFile.
type hostKeys struct {
	files     []string
	acceptNew bool
	logf      func(string, ...any)

	mu sync.Mutex
	cb gossh.HostKeyCallback // reloaded after every append
}

// path is the file new keys are recorded in.
func (h *hostKeys) path() string { return h.files[0] }

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
	var present []string
	for _, f := range h.files {
		if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
			present = append(present, f)
		}
	}
	if len(present) == 0 {
		// An empty database: every host is unknown, which is refused unless
		// accept-new is on, and then the file is created on first append.
		h.cb = func(string, net.Addr, gossh.PublicKey) error { return &knownhosts.KeyError{} }
		return nil
	}
	cb, err := knownhosts.New(present...)
	if err != nil {
		return fmt.Errorf("read known_hosts %s: %w", strings.Join(present, ", "), err)
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
				alias, addr, key.Type(), gossh.FingerprintSHA256(key), strings.Join(known, ", "), knownhosts.Normalize(addr), ke.Want[0].Filename)
		}
		if !h.acceptNew {
			return fmt.Errorf("host %s (%s) is not in known_hosts %s: it presented %s %s; check that fingerprint, then add the host with ssh-keyscan or rerun with --accept-new-host-keys",
				alias, addr, strings.Join(h.files, ", "), key.Type(), gossh.FingerprintSHA256(key))
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
	path := h.path()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("host %s: record new host key: %w", alias, err)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("host %s: record new host key in %s: %w", alias, path, err)
	}
	line := knownhosts.Line([]string{knownhosts.Normalize(addr)}, key) + "\n"
	if _, err := f.WriteString(line); err != nil {
		f.Close()
		return fmt.Errorf("host %s: record new host key in %s: %w", alias, path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("host %s: record new host key in %s: %w", alias, path, err)
	}
	h.logf("ssh %s: accepted new host key %s %s, recorded in %s", alias, key.Type(), gossh.FingerprintSHA256(key), path)
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
