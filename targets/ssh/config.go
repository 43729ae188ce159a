package ssh

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kevinburke/ssh_config"
)

// hostSpec is everything needed to reach one host, after ssh_config and the
// runbook target have been merged (the runbook wins, as ssh's command line
// wins over its config file).
type hostSpec struct {
	Alias          string   // what the runbook calls the host
	Addr           string   // host:port dialled
	User           string   // remote user
	Identities     []string // IdentityFile entries, expanded
	Jump           []string // ProxyJump hops, outermost first; each an alias or [user@]host[:port]
	ConnectTimeout time.Duration
	Config         string // the ssh_config file it came from ("" for the default); its jump hosts come from it too
	// KnownHosts and GlobalKnownHosts are ssh_config's UserKnownHostsFile
	// and GlobalKnownHostsFile, expanded; nil when the file does not set
	// them (OpenSSH's defaults then apply).
	KnownHosts       []string
	GlobalKnownHosts []string
	// AcceptNew is StrictHostKeyChecking accept-new for this host.
	AcceptNew bool
}

// configs caches parsed ssh_config files by path for the whole game day,
// and what they say about each host: finding a host's settings matches it
// against every Host block, so with a block per host, resolving each host
// at every step would cost the square of the fleet.
type configs struct {
	defaultPath string
	mu          sync.Mutex
	byPath      map[string]*ssh_config.Config
	index       map[*ssh_config.Config]*hostIndex
	resolved    map[resolveKey]resolution
}

// forAlias is cfg reduced to the blocks that match alias.
func (c *configs) forAlias(cfg *ssh_config.Config, alias string) *ssh_config.Config {
	c.mu.Lock()
	idx, ok := c.index[cfg]
	if !ok {
		idx = indexHosts(cfg)
		if c.index == nil {
			c.index = map[*ssh_config.Config]*hostIndex{}
		}
		c.index[cfg] = idx
	}
	c.mu.Unlock()
	return idx.only(cfg, alias)
}

type resolveKey struct {
	alias string
	o     override
}

type resolution struct {
	spec hostSpec
	err  error
}

func (c *configs) load(path string) (*ssh_config.Config, error) {
	explicit := path != ""
	if path == "" {
		path = c.defaultPath
	}
	path = expandHome(path)
	c.mu.Lock()
	defer c.mu.Unlock()
	if cfg, ok := c.byPath[path]; ok {
		return cfg, nil
	}
	f, err := os.Open(path)
	var cfg *ssh_config.Config
	switch {
	case err == nil:
		defer f.Close()
		cfg, err = ssh_config.Decode(f)
		if err != nil {
			return nil, fmt.Errorf("parse ssh_config %s: %w", path, err)
		}
	case errors.Is(err, fs.ErrNotExist) && !explicit:
		// No ~/.ssh/config is the common case on CI runners; behave like ssh.
		cfg = &ssh_config.Config{}
	default:
		return nil, fmt.Errorf("read ssh_config %s: %w", path, err)
	}
	if c.byPath == nil {
		c.byPath = map[string]*ssh_config.Config{}
	}
	c.byPath[path] = cfg
	return cfg, nil
}

// override is what a runbook target (or a ProxyJump hop) says about a host,
// taking precedence over ssh_config.
type override struct {
	User   string
	Port   int
	Jump   string // "none" disables a configured ProxyJump
	Config string
}

// resolve merges ssh_config for alias with o, once per game day.
func (c *configs) resolve(alias string, o override) (hostSpec, error) {
	k := resolveKey{alias, o}
	c.mu.Lock()
	r, ok := c.resolved[k]
	c.mu.Unlock()
	if !ok {
		r.spec, r.err = c.merge(alias, o)
		c.mu.Lock()
		if c.resolved == nil {
			c.resolved = map[resolveKey]resolution{}
		}
		c.resolved[k] = r
		c.mu.Unlock()
	}
	spec := r.spec
	// Callers may change their copy.
	spec.Identities = slices.Clone(spec.Identities)
	spec.Jump = slices.Clone(spec.Jump)
	spec.KnownHosts = slices.Clone(spec.KnownHosts)
	spec.GlobalKnownHosts = slices.Clone(spec.GlobalKnownHosts)
	return spec, r.err
}

// merge reads ssh_config for alias and applies o.
func (c *configs) merge(alias string, o override) (hostSpec, error) {
	cfg, err := c.load(o.Config)
	if err != nil {
		return hostSpec{}, err
	}
	cfg = c.forAlias(cfg, alias)
	get := func(key string) string {
		v, _ := cfg.Get(alias, key)
		return strings.TrimSpace(v)
	}
	path := o.Config
	if path == "" {
		path = c.defaultPath
	}
	// where names the line a bad value came from, as ssh would.
	where := func(key string) string { return expandHome(path) + keyLine(cfg, alias, key) }
	spec := hostSpec{Alias: alias, Config: o.Config}

	hostname := get("HostName")
	if hostname == "" {
		hostname = alias
	}
	hostname = strings.ReplaceAll(hostname, "%h", alias)

	port := 22
	if p := get("Port"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return hostSpec{}, fmt.Errorf("%s: host %s: Port %q is not a port number (1-65535)", where("Port"), alias, p)
		}
		port = n
	}
	if o.Port != 0 {
		port = o.Port
	}
	spec.Addr = net.JoinHostPort(hostname, strconv.Itoa(port))

	spec.User = o.User
	if spec.User == "" {
		spec.User = get("User")
	}
	if spec.User == "" {
		spec.User = localUser()
	}

	ids, _ := cfg.GetAll(alias, "IdentityFile")
	for _, id := range ids {
		spec.Identities = append(spec.Identities, expandTokens(strings.TrimSpace(id), alias, hostname, spec.User))
	}

	jump := o.Jump
	if jump == "" {
		jump = get("ProxyJump")
	}
	if jump != "" && !strings.EqualFold(jump, "none") {
		for _, hop := range strings.Split(jump, ",") {
			if hop = strings.TrimSpace(hop); hop != "" {
				spec.Jump = append(spec.Jump, hop)
			}
		}
	}

	if t := get("ConnectTimeout"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 {
			return hostSpec{}, fmt.Errorf("%s: host %s: ConnectTimeout %q is not a whole number of seconds", where("ConnectTimeout"), alias, t)
		}
		spec.ConnectTimeout = time.Duration(n) * time.Second
	}
	if err := hostKeyConfig(&spec, get, where, hostname); err != nil {
		return hostSpec{}, err
	}
	return spec, nil
}

// hostKeyConfig reads what ssh_config says about host keys. Known-hosts
// files are honoured as OpenSSH does; what would turn checking off is
// refused, because a game day sends root commands to the host, and a
// changed key is the one sign that someone else would receive them.
func hostKeyConfig(spec *hostSpec, get func(string) string, where func(string) string, hostname string) error {
	const why = "gameday always checks host keys: it sends root commands to the host, and a key it has not seen before is the one sign they would go to someone else"
	switch v := strings.ToLower(get("StrictHostKeyChecking")); v {
	case "", "yes", "ask":
	case "accept-new":
		spec.AcceptNew = true
	case "no", "off":
		return fmt.Errorf("%s: host %s: StrictHostKeyChecking %s is refused: %s; remove it, or use accept-new (or --accept-new-host-keys) to trust hosts seen for the first time",
			where("StrictHostKeyChecking"), spec.Alias, v, why)
	default:
		return fmt.Errorf("%s: host %s: StrictHostKeyChecking %q is not yes, ask, accept-new or no", where("StrictHostKeyChecking"), spec.Alias, v)
	}
	for _, key := range []string{"UserKnownHostsFile", "GlobalKnownHostsFile"} {
		v := get(key)
		if v == "" {
			continue
		}
		var files []string
		for _, f := range strings.Fields(v) {
			f = strings.Trim(f, `"`)
			if f == "/dev/null" || strings.EqualFold(f, "none") {
				return fmt.Errorf("%s: host %s: %s %s is refused: it would forget every host key, so no key could be checked; %s. Point it at a real file, or leave it out",
					where(key), spec.Alias, key, f, why)
			}
			files = append(files, expandTokens(f, spec.Alias, hostname, spec.User))
		}
		if key == "UserKnownHostsFile" {
			spec.KnownHosts = files
		} else {
			spec.GlobalKnownHosts = files
		}
	}
	return nil
}

// keyLine returns ":LINE" for the line of the main file that gives alias
// its key, or "" when it comes from an Include or nowhere.
func keyLine(cfg *ssh_config.Config, alias, key string) string {
	for _, h := range cfg.Hosts {
		if !h.Matches(alias) {
			continue
		}
		for _, n := range h.Nodes {
			if kv, ok := n.(*ssh_config.KV); ok && strings.EqualFold(kv.Key, key) {
				return ":" + strconv.Itoa(kv.Pos().Line)
			}
		}
	}
	return ""
}

// maxHops bounds a ProxyJump chain; ssh_config loops are refused before it.
const maxHops = 8

// nextHop returns how to reach the jump host next to spec's host: the last
// ProxyJump hop, itself reached through the hops before it (ProxyJump a,b
// means a, then b, then the host). A first hop follows its own ssh_config
// ProxyJump, as ssh does.
func (c *configs) nextHop(spec hostSpec) (hostSpec, error) {
	last := spec.Jump[len(spec.Jump)-1]
	alias, o, err := parseHop(last)
	if err != nil {
		return hostSpec{}, fmt.Errorf("host %s: %w", spec.Alias, err)
	}
	o.Jump = strings.Join(spec.Jump[:len(spec.Jump)-1], ",")
	o.Config = spec.Config
	hop, err := c.resolve(alias, o)
	if err != nil {
		return hostSpec{}, fmt.Errorf("host %s: jump host: %w", spec.Alias, err)
	}
	return hop, nil
}

// route lists the jump hosts on the way to spec, the one next to the host
// first. A chain that passes the same jump host twice, or is longer than
// maxHops, is refused here rather than left to wait on itself.
func (c *configs) route(spec hostSpec) ([]hostSpec, error) {
	seen := map[string]bool{}
	path := []string{spec.Alias}
	var hops []hostSpec
	for cur := spec; len(cur.Jump) > 0; {
		hop, err := c.nextHop(cur)
		if err != nil {
			return nil, err
		}
		path = append(path, hop.Alias)
		if k := hop.User + "@" + hop.Addr; seen[k] {
			return nil, fmt.Errorf("host %s: ProxyJump loops (%s): check ssh_config", spec.Alias, strings.Join(path, " via "))
		}
		seen[hop.User+"@"+hop.Addr] = true
		if len(hops) == maxHops {
			return nil, fmt.Errorf("host %s: ProxyJump chain longer than %d hops (%s)", spec.Alias, maxHops, strings.Join(path, " via "))
		}
		hops = append(hops, hop)
		cur = hop
	}
	return hops, nil
}

// parseHop splits a ProxyJump hop "[user@]host[:port]" (or the
// ssh://user@host:port form) into its parts.
func parseHop(hop string) (alias string, o override, err error) {
	hop = strings.TrimPrefix(hop, "ssh://")
	if i := strings.LastIndex(hop, "@"); i >= 0 {
		o.User, hop = hop[:i], hop[i+1:]
	}
	alias = hop
	if h, p, splitErr := net.SplitHostPort(hop); splitErr == nil {
		n, convErr := strconv.Atoi(p)
		if convErr != nil || n < 1 || n > 65535 {
			return "", o, fmt.Errorf("jump host %q: port %q is not a port number", hop, p)
		}
		alias, o.Port = h, n
	}
	if alias == "" {
		return "", o, fmt.Errorf("jump host %q has no host name", hop)
	}
	return alias, o, nil
}

func localUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return os.Getenv("USER")
}

func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[1:])
		}
	}
	return p
}

// expandTokens handles the ssh_config tokens that appear in IdentityFile in
// practice; others are left as written so the error names them.
func expandTokens(p, alias, hostname, remoteUser string) string {
	home, _ := os.UserHomeDir()
	r := strings.NewReplacer("%d", home, "%u", localUser(), "%h", hostname, "%n", alias, "%r", remoteUser, "%%", "%")
	return expandHome(r.Replace(p))
}
