package main

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/targets"
	"github.com/gameday/gameday/targets/aws"
	"github.com/gameday/gameday/targets/ssh"
)

// runFlags are the options of gameday run, and the target connection options
// gameday recover shares with it. gameday lab fills one in code to run a lab
// runbook; the zero value of every field is a sensible default.
type runFlags struct {
	// RunsDir is where run directories are made (and recover looks for
	// unfinished ones). Empty means ./gameday-runs.
	RunsDir string
	// Prometheus is the metrics server's base URL; it wins over
	// GAMEDAY_PROMETHEUS_URL and the runbook's metrics.url.
	Prometheus string
	// AlertWebhook is where gameday listens for Alertmanager's webhook
	// during the run (--alert-webhook); empty means no receiver.
	AlertWebhook string
	// MetricsListen is where gameday serves its own metrics for the
	// team's Prometheus (--metrics-listen); empty means not served.
	MetricsListen string

	// SSH connection: the ssh_config file (ssh -F; empty means
	// ~/.ssh/config), the known_hosts file (empty means ~/.ssh/known_hosts),
	// extra private keys tried after the agent, trust on first use of an
	// unknown host key, and how many hosts are worked on at once (0 = 64).
	SSHConfig         string
	KnownHosts        string
	Identities        []string
	AcceptNewHostKeys bool
	Fanout            int
	// FaultChecks is how often a run checks that each landed SSH fault is
	// still in place (--fault-checks); 0 means the executor's default.
	FaultChecks time.Duration
	// SSHAgent is the ssh-agent socket; empty means $SSH_AUTH_SOCK and "-"
	// no agent. It has no flag: the lab sets it so only its own keys are used.
	SSHAgent string

	// ConfirmEachStage asks the console before each escalation of a
	// staged run (--confirm-each-stage); refused with --autopilot.
	ConfirmEachStage bool

	// AbortTimeout bounds the rollback after an abort (and a recovery's
	// rollbacks). Zero means the runbook's abort.timeout, else 60s.
	AbortTimeout time.Duration

	// Autopilot runs with no console: every phase advances on its own and
	// each event is one line on stderr.
	Autopilot bool
	// JSON writes every event as a JSON line on stdout.
	JSON bool
	// JUnit is where the run's result goes as JUnit XML when it ends, for
	// CI (--junit); empty means none.
	JUnit string
	// junitWritten: the run had a journal and withJUnit wrote from it.
	junitWritten bool
	// Verbose has the autopilot say every member's step on a line of its
	// own instead of one line per step of an attack (gamedays.Log).
	Verbose bool
	// Yes confirms the blast radius. Without it the autopilot refuses to
	// touch any member that is not on this machine (loopback): the lab runs
	// without it, staging and production need it.
	Yes bool
	// DryRun resolves, preflights and prints every command and API call,
	// and injects nothing.
	DryRun bool
	// TimeScale multiplies the runbook's durations for a rehearsal
	// (runbook.Scale); 0 means as written. The lab scales its own
	// scenarios and leaves it 0.
	TimeScale float64
	// Getenv reads the environment (GAMEDAY_PROMETHEUS_URL); nil means os.Getenv.
	Getenv func(string) string
	// Notes receives what an executor learns between its calls, such as an
	// FIS experiment that AWS ended; a run points it at its journal. nil
	// drops them.
	Notes func(source, msg string)
	// Ended receives a fault an executor saw end on its own before its
	// rollback (an FIS experiment AWS stopped or completed); a run hands it
	// to its engine, which judges whether the run can go on. nil drops them.
	Ended func(source string, inj targets.Injection, msg string)
}

// families builds the resolver and executor of each target family, keyed by
// the family name runbook targets use (targets.FamilySSH, targets.FamilyAWS).
// A family registers itself by adding an entry, from an init() in its own
// file when it lives outside this one. A builder is called only when a runbook
// attacks targets of its family, or a journal being recovered holds
// injections of it, so a family that is not needed is never configured. An
// executor that implements io.Closer is closed when the command ends.
var families = map[string]func(f *runFlags) (targets.Resolver, targets.Executor, error){
	targets.FamilySSH: newSSH,
}

func newSSH(f *runFlags) (targets.Resolver, targets.Executor, error) {
	if f.Fanout < 0 {
		return nil, nil, fmt.Errorf("--fanout %d: want a positive number of hosts", f.Fanout)
	}
	if f.FaultChecks < 0 {
		return nil, nil, fmt.Errorf("--fault-checks %s: want a positive interval", f.FaultChecks)
	}
	// A run follows its faults between inject and rollback (Options.Ended);
	// recover and the other commands do not.
	var ended func(targets.Injection, string)
	if f.Ended != nil {
		ended = func(inj targets.Injection, msg string) { f.Ended(gamedays.SourceFaultCheck, inj, msg) }
	}
	e := ssh.New(ssh.Options{
		SSHConfig:         f.SSHConfig,
		KnownHosts:        f.KnownHosts,
		IdentityFiles:     f.Identities,
		AcceptNewHostKeys: f.AcceptNewHostKeys,
		Fanout:            f.Fanout,
		AgentSocket:       f.SSHAgent,
		Ended:             ended,
		WatchEvery:        f.FaultChecks,
	})
	return e, e, nil
}

// wiring is the families a command built, so it can close them.
type wiring struct {
	resolvers map[string]targets.Resolver
	executors map[string]targets.Executor
}

func newWiring() *wiring {
	return &wiring{resolvers: map[string]targets.Resolver{}, executors: map[string]targets.Executor{}}
}

// family builds (once) the named family from the flags.
func (w *wiring) family(name string, f *runFlags) (targets.Resolver, targets.Executor, error) {
	if e, ok := w.executors[name]; ok {
		return w.resolvers[name], e, nil
	}
	build := families[name]
	if build == nil {
		return nil, nil, fmt.Errorf("%s targets are not supported by this build (it knows %s)", name, strings.Join(familyNames(), ", "))
	}
	r, e, err := build(f)
	if err != nil {
		return nil, nil, fmt.Errorf("set up %s targets: %w", name, err)
	}
	w.resolvers[name], w.executors[name] = r, e
	return r, e, nil
}

func (w *wiring) close() {
	for _, e := range w.executors {
		if c, ok := e.(io.Closer); ok {
			c.Close()
		}
	}
}

func familyNames() []string {
	var out []string
	for k := range families {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// addTargetFlags registers the connection flags run and recover share.
func addTargetFlags(cmd *cobra.Command, f *runFlags) {
	fs := cmd.Flags()
	fs.StringVar(&f.RunsDir, "runs-dir", defaultRunsDir, "directory that holds one directory per run")
	fs.StringVarP(&f.SSHConfig, "ssh-config", "F", "", "ssh_config file (default ~/.ssh/config)")
	fs.StringVar(&f.KnownHosts, "known-hosts", "", "known_hosts file; replaces ssh_config's UserKnownHostsFile and GlobalKnownHostsFile (default: those, else ~/.ssh/known_hosts)")
	fs.StringArrayVarP(&f.Identities, "identity", "i", nil, "private key file to try after the agent (repeatable)")
	fs.BoolVar(&f.AcceptNewHostKeys, "accept-new-host-keys", false, "trust and record the key of a host not yet in known_hosts (a changed key is still refused)")
	fs.IntVar(&f.Fanout, "fanout", 0, "members worked on at once per attack: SSH hosts, AWS resources (default 64)")
	fs.DurationVar(&f.AbortTimeout, "abort-timeout", 0, "deadline for rolling everything back (default: the runbook's abort.timeout, else 60s)")
}

// defaultRunsDir is relative to where gameday runs, so each project keeps
// its own record next to its runbooks.
const defaultRunsDir = "gameday-runs"

// onThisMachine says whether a member is reached over loopback: the lab,
// and nothing an operator could be surprised to see attacked. A cloud
// resource counts only when the API that acts on it is itself on loopback,
// as the lab's AWS endpoint is; a real endpoint never is.
func onThisMachine(m targets.Member) bool {
	if ep := m.Labels[aws.LabelEndpoint]; ep != "" {
		u, err := url.Parse(ep)
		return err == nil && (u.Scheme == "http" || u.Scheme == "https") && isLoopback(u.Host)
	}
	host := m.Addr
	if host == "" {
		host = m.ID
	}
	return isLoopback(host)
}

// isLoopback says whether host, with or without a port, names this machine.
func isLoopback(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
