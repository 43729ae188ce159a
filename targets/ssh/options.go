package ssh

import (
	"os"
	"path/filepath"
	"time"

	"github.com/gameday/gameday/targets"
)

// Options configures an Executor. The zero value works: it reads
// ~/.ssh/config and ~/.ssh/known_hosts, uses SSH_AUTH_SOCK and the default
// identity files, and refuses unknown host keys.
type Options struct {
	// SSHConfig is the ssh_config file (ssh -F). Empty means ~/.ssh/config;
	// a missing default file is not an error. A target's own config label
	// overrides it for that target's hosts.
	SSHConfig string
	// KnownHosts is the known_hosts file checked and, with
	// AcceptNewHostKeys, appended to. When set it replaces whatever
	// ssh_config names (UserKnownHostsFile, GlobalKnownHostsFile), as ssh
	// -o does. Empty means the files ssh_config names for each host, or
	// OpenSSH's defaults (~/.ssh/known_hosts, ~/.ssh/known_hosts2,
	// /etc/ssh/ssh_known_hosts, /etc/ssh/ssh_known_hosts2), new keys going
	// to the first.
	KnownHosts string
	// IdentityFiles are private keys tried after the agent and before the
	// ssh_config IdentityFile entries.
	IdentityFiles []string
	// AgentSocket is the ssh-agent socket. Empty means $SSH_AUTH_SOCK;
	// "-" means no agent.
	AgentSocket string
	// AcceptNewHostKeys trusts a host that is not in known_hosts yet and
	// records its key (OpenSSH StrictHostKeyChecking=accept-new). A key that
	// differs from the recorded one is refused regardless.
	AcceptNewHostKeys bool
	// Fanout bounds how many hosts are worked on at once. Default 64.
	Fanout int
	// Handshakes bounds how many connections are being set up at once,
	// whatever the fan-out: a handshake costs this machine CPU, so beyond
	// what the cores do at once more of them only make each one slower,
	// and with a thousand hosts started together every one of them would
	// overrun ConnectTimeout. The timeout counts from when a handshake gets
	// its turn. Default 64.
	Handshakes int
	// ConnectTimeout bounds TCP connect plus SSH handshake per hop, unless
	// ssh_config sets ConnectTimeout for the host. Default 10s.
	ConnectTimeout time.Duration
	// Keepalive is the interval of keepalive requests on idle connections;
	// a connection that misses three is closed and redialled on next use.
	// Default 15s; negative disables.
	Keepalive time.Duration
	// HostDeadline bounds one step (preflight, inject, rollback) on one
	// host, connection included, when the caller's context has no earlier
	// deadline. Default 60s.
	HostDeadline time.Duration
	// LinkTimeout is how long a keepalive may go unanswered, while a step
	// runs or before an idle shell is reused, before the link counts as
	// lost: a fault that cuts the link is then seen in seconds, not at the
	// step's deadline. Default 5s.
	LinkTimeout time.Duration
	// Grace is added to an attack's duration before the dead man's switch
	// rolls it back on its own. Default 30s.
	Grace time.Duration
	// OutputLimit bounds the output kept per command for the journal.
	// Default 16 KiB.
	OutputLimit int
	// Logf, when set, receives one line per command run and per connection.
	Logf func(format string, args ...any)
	// Ended, when set, is told when a check finds a landed fault no longer
	// in place before its rollback: something other than gameday ended it.
	// Faults are checked every WatchEvery (default 15s), for the kinds that
	// can tell, from the inject until the rollback begins.
	Ended      func(inj targets.Injection, msg string)
	WatchEvery time.Duration
}

func (o Options) withDefaults() Options {
	home, _ := os.UserHomeDir()
	if o.SSHConfig == "" {
		o.SSHConfig = filepath.Join(home, ".ssh", "config")
	}
	if o.AgentSocket == "" {
		o.AgentSocket = os.Getenv("SSH_AUTH_SOCK")
	}
	targets.OrDefault(&o.WatchEvery, 15*time.Second)
	targets.OrDefault(&o.Fanout, 64)
	targets.OrDefault(&o.Handshakes, 64)
	targets.OrDefault(&o.ConnectTimeout, 10*time.Second)
	if o.Keepalive == 0 { // a negative one turns keepalives off
		o.Keepalive = 15 * time.Second
	}
	targets.OrDefault(&o.HostDeadline, 60*time.Second)
	targets.OrDefault(&o.LinkTimeout, 5*time.Second)
	targets.OrDefault(&o.Grace, 30*time.Second)
	targets.OrDefault(&o.OutputLimit, 16<<10)
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	return o
}
