package ssh

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/kevinburke/ssh_config"
)

// KnownHost is a host that `gameday new --hosts` found in the user's
// ssh_config or known_hosts, with what ssh_config makes of it.
type KnownHost struct {
	// Alias is the name a runbook lists under ssh.hosts.
	Alias string
	// Addr is the host:port ssh_config resolves the alias to.
	Addr string
	// User is the remote user ssh_config gives (else the local user).
	User string
	// From says where the name was found: the ssh_config or known_hosts path.
	From string
}

// HostSearch is what FindHosts looked through, so that a pattern matching
// nothing can be answered with the names that were there instead.
type HostSearch struct {
	Config     string   // the ssh_config file read
	KnownHosts string   // the known_hosts file read, if any
	Names      []string // every concrete host name seen, sorted
	Hashed     int      // known_hosts lines whose names are hashed (cannot match)
}

// FindHosts returns the concrete host names in the ssh_config file
// (default ~/.ssh/config) and, when knownHosts is set, the known_hosts file
// that match any of the ssh_config-style patterns (`*`, `?`, `!` to
// exclude), each resolved through ssh_config as a run would resolve it.
// Wildcard Host lines are patterns, not hosts, and are never returned.
// A pattern that matches nothing is an error that lists what was there.
func FindHosts(sshConfig, knownHosts string, patterns []string) ([]KnownHost, HostSearch, error) {
	cfgs := &configs{defaultPath: sshConfig}
	if cfgs.defaultPath == "" {
		cfgs.defaultPath = "~/.ssh/config"
	}
	search := HostSearch{Config: expandHome(cfgs.defaultPath), KnownHosts: expandHome(knownHosts)}
	cfg, err := cfgs.load(sshConfig)
	if err != nil {
		return nil, search, err
	}
	from := map[string]string{}
	for _, name := range configNames(cfg) {
		from[name] = search.Config
	}
	if knownHosts != "" {
		names, hashed, err := knownHostNames(search.KnownHosts)
		if err != nil {
			return nil, search, err
		}
		search.Hashed = hashed
		for _, n := range names {
			if _, ok := from[n]; !ok {
				from[n] = search.KnownHosts
			}
		}
	}
	for n := range from {
		search.Names = append(search.Names, n)
	}
	slices.Sort(search.Names)

	match, err := matcher(patterns)
	if err != nil {
		return nil, search, err
	}
	var out []KnownHost
	for _, name := range search.Names {
		if !match(name) {
			continue
		}
		spec, err := cfgs.resolve(name, override{})
		if err != nil {
			return nil, search, fmt.Errorf("host %s: %w", name, err)
		}
		out = append(out, KnownHost{Alias: name, Addr: spec.Addr, User: spec.User, From: from[name]})
	}
	if len(out) == 0 {
		return nil, search, &NoHostsError{Patterns: patterns, Search: search}
	}
	return out, search, nil
}

// NoHostsError is a host pattern that matched no host.
type NoHostsError struct {
	Patterns []string
	Search   HostSearch
}

func (e *NoHostsError) Error() string {
	where := e.Search.Config
	if e.Search.KnownHosts != "" {
		where += " and " + e.Search.KnownHosts
	}
	found := "no concrete host names at all (only wildcard Host lines, or an empty file)"
	if n := len(e.Search.Names); n > 0 {
		shown := e.Search.Names
		if n > 20 {
			shown = shown[:20]
		}
		found = fmt.Sprintf("%d host name(s): %s", n, strings.Join(shown, ", "))
		if n > 20 {
			found += fmt.Sprintf(", and %d more", n-20)
		}
	}
	if e.Search.Hashed > 0 {
		found += fmt.Sprintf("; %d known_hosts line(s) are hashed and cannot be matched by name", e.Search.Hashed)
	}
	return fmt.Sprintf("no host matches %s in %s; found %s", strings.Join(quoteAll(e.Patterns), " "), where, found)
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = fmt.Sprintf("%q", v)
	}
	return out
}

// matcher turns ssh_config patterns into one test: a name matches when a
// positive pattern matches it and no negated one does, as in a Host line.
func matcher(patterns []string) (func(string) bool, error) {
	if len(patterns) == 0 {
		return nil, errors.New("no host pattern given")
	}
	h := &ssh_config.Host{}
	for _, p := range patterns {
		for _, f := range strings.FieldsFunc(p, func(r rune) bool { return r == ',' || r == ' ' }) {
			pat, err := ssh_config.NewPattern(f)
			if err != nil {
				return nil, fmt.Errorf("host pattern %q: %w", f, err)
			}
			h.Patterns = append(h.Patterns, pat)
		}
	}
	if len(h.Patterns) == 0 {
		return nil, fmt.Errorf("host pattern %q names nothing", strings.Join(patterns, " "))
	}
	return h.Matches, nil
}

// configNames lists the Host names in cfg that are hosts rather than
// patterns: no wildcard, not negated.
func configNames(cfg *ssh_config.Config) []string {
	var out []string
	for _, h := range cfg.Hosts {
		for _, p := range h.Patterns {
			s := p.String()
			if s == "" || strings.ContainsAny(s, "*?!") || !h.Matches(s) {
				continue
			}
			out = append(out, s)
		}
	}
	return out
}

// knownHostNames reads the plain host names of a known_hosts file: each
// name of each line, without markers, and [host]:port kept as host only
// when the port is 22 (other ports are reached through an ssh_config
// entry, which the name alone cannot say).
func knownHostNames(path string) (names []string, hashed int, err error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, 0, fmt.Errorf("read known_hosts %s: %w", path, err)
		}
		return nil, 0, fmt.Errorf("read known_hosts: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		if strings.HasPrefix(fields[0], "@") {
			// @cert-authority lines name patterns of hosts, and @revoked
			// keys are ones no host should be trusted with.
			continue
		}
		if strings.HasPrefix(fields[0], "|") {
			hashed++
			continue
		}
		for _, n := range strings.Split(fields[0], ",") {
			if strings.HasPrefix(n, "[") {
				host, port, ok := strings.Cut(strings.TrimPrefix(n, "["), "]:")
				if !ok || port != "22" {
					continue
				}
				n = host
			}
			if n != "" && !strings.ContainsAny(n, "*?!") {
				names = append(names, n)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, 0, fmt.Errorf("read known_hosts %s: %w", path, err)
	}
	return names, hashed, nil
}
