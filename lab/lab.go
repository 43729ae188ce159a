// Package lab is a sandbox to practise game days on, in one process on
// loopback: a checkout service fleet behind a load balancer with steady
// load (lab/fleet), an SSH server per host that takes the lab's fault
// commands (lab/sshhost), a Prometheus-compatible API over the fleet's
// metrics (lab/prom) and an AWS-compatible endpoint whose EC2 instances are
// the hosts (lab/aws). gameday reaches it through the code paths it uses in
// production: the SSH executor, the AWS SDK and the Prometheus HTTP API.
package lab

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/gameday/gameday/lab/aws"
	"github.com/gameday/gameday/lab/fleet"
	"github.com/gameday/gameday/lab/prom"
	"github.com/gameday/gameday/lab/sshhost"
)

// User is the one user the lab's hosts let in.
const User = "gameday"

// Options size the lab. The zero value gives the defaults.
type Options struct {
	Hosts int     // checkout instances and SSH hosts; default 3
	RPS   float64 // load generator requests per second; default 50, negative for none
	Seed  int64   // latency draws and arrivals
	// Dir receives ssh_config, known_hosts and the lab user's key. Empty
	// means a temporary directory, removed by Close.
	Dir string
	// ScrapeInterval is how often the lab's Prometheus scrapes; default 1s.
	ScrapeInterval time.Duration
	// HealthInterval is the load balancer's health check interval; default 1s.
	HealthInterval time.Duration
}

// Host is one lab host: a checkout instance, its SSH server and its EC2
// instance.
type Host struct {
	Name       string // checkout-1: the ssh_config alias and instance label
	SSHAddr    string // 127.0.0.1:PORT
	ServiceURL string // the instance's HTTP base URL; /metrics is on it
	InstanceID string // the EC2 instance id at the lab's AWS endpoint
	AZ         string
}

// AWS is how to reach the lab's AWS-compatible endpoint with the SDK:
// BaseEndpoint plus static credentials.
type AWS struct {
	Endpoint        string
	Region          string
	Account         string
	AccessKeyID     string
	SecretAccessKey string
}

// Lab is a running lab. Its fields are fixed once Start returns.
type Lab struct {
	Dir             string
	PrometheusURL   string
	LoadBalancerURL string
	SSHConfigPath   string
	KnownHostsPath  string
	IdentityPath    string
	Hosts           []Host
	AWS             AWS

	fleet         *fleet.Fleet
	prom          *prom.Server
	aws           *aws.Server
	userKey       ssh.PublicKey
	hostKeys      map[string]ssh.Signer
	removeOnClose bool
	stopAfter     func() bool

	mu     sync.Mutex
	closed bool
	ssh    map[string]*sshhost.Server // running SSH servers by host name
	once   sync.Once
}

// Start brings the whole lab up. It stops when ctx ends or Close is called;
// Close must be called in either case.
func Start(ctx context.Context, o Options) (l *Lab, err error) {
	if o.Hosts == 0 {
		o.Hosts = 3
	}
	if o.Hosts < 1 || o.Hosts > 100 {
		return nil, fmt.Errorf("lab: %d hosts: expected 1 to 100", o.Hosts)
	}
	if o.RPS == 0 {
		o.RPS = 50
	}
	if o.RPS > 5000 {
		return nil, fmt.Errorf("lab: %g requests per second: expected at most 5000", o.RPS)
	}
	if o.ScrapeInterval <= 0 {
		o.ScrapeInterval = time.Second
	}
	l = &Lab{ssh: map[string]*sshhost.Server{}, hostKeys: map[string]ssh.Signer{}}
	defer func() {
		if err != nil {
			l.Close()
			l = nil
		}
	}()
	if err := l.makeDir(o.Dir); err != nil {
		return nil, err
	}
	l.fleet, err = fleet.Start(fleet.Options{Instances: o.Hosts, RPS: o.RPS, Seed: o.Seed, HealthInterval: o.HealthInterval})
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	l.LoadBalancerURL = l.fleet.LB().URL()
	if err := l.startSSH(); err != nil {
		return nil, err
	}
	var targets []prom.Target
	for _, t := range l.fleet.Targets() {
		targets = append(targets, prom.Target{Job: t.Job, Instance: t.Instance, URL: t.URL})
	}
	l.prom, err = prom.Start(ctx, prom.Options{Targets: targets, Interval: o.ScrapeInterval})
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	l.PrometheusURL = l.prom.URL()
	if err := l.startAWS(); err != nil {
		return nil, err
	}
	l.stopAfter = context.AfterFunc(ctx, func() { l.Close() })
	return l, nil
}

func (l *Lab) makeDir(dir string) error {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "gameday-lab-")
		if err != nil {
			return fmt.Errorf("lab: %w", err)
		}
		l.Dir, l.removeOnClose = tmp, true
		return nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("lab: dir %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return fmt.Errorf("lab: dir %s: %w", dir, err)
	}
	l.Dir = abs
	return nil
}

// startSSH makes the keys, starts one SSH server per host and writes the
// files the ssh client and gameday's executor read.
func (l *Lab) startSSH() error {
	user, userPriv, err := newKey()
	if err != nil {
		return fmt.Errorf("lab: user key: %w", err)
	}
	l.userKey = user.PublicKey()
	l.IdentityPath = filepath.Join(l.Dir, "id_ed25519")
	l.KnownHostsPath = filepath.Join(l.Dir, "known_hosts")
	l.SSHConfigPath = filepath.Join(l.Dir, "ssh_config")
	if err := writeIdentity(l.IdentityPath, userPriv, l.userKey); err != nil {
		return fmt.Errorf("lab: write %s: %w", l.IdentityPath, err)
	}
	var known, config strings.Builder
	config.WriteString("# gameday lab hosts: ssh -F " + configPath(l.SSHConfigPath) + " checkout-1 help\n\n")
	for _, in := range l.fleet.Instances() {
		hk, _, err := newKey()
		if err != nil {
			return fmt.Errorf("lab: host key: %w", err)
		}
		l.hostKeys[in.Name()] = hk
		srv, err := l.startHost(in, "127.0.0.1:0")
		if err != nil {
			return err
		}
		h := Host{Name: in.Name(), SSHAddr: srv.Addr(), ServiceURL: in.URL()}
		l.Hosts = append(l.Hosts, h)
		known.WriteString(knownHostsLine(h.SSHAddr, hk.PublicKey()))
		config.WriteString(sshConfigEntry(h.Name, h.SSHAddr, User, l.IdentityPath, l.KnownHostsPath))
	}
	if err := writeFile(l.KnownHostsPath, known.String(), 0o644); err != nil {
		return fmt.Errorf("lab: write %s: %w", l.KnownHostsPath, err)
	}
	if err := writeFile(l.SSHConfigPath, config.String(), 0o644); err != nil {
		return fmt.Errorf("lab: write %s: %w", l.SSHConfigPath, err)
	}
	return nil
}

// startHost starts in's SSH server on addr. A host that comes back after a
// stop gets its old port again, which the kernel may briefly hold.
func (l *Lab) startHost(in *fleet.Instance, addr string) (*sshhost.Server, error) {
	opts := sshhost.Options{
		Name: in.Name(), Addr: addr, HostKey: l.hostKeys[in.Name()], User: User, UserKey: l.userKey,
		Handler: func(_ context.Context, cmd string) (string, string, int) { return in.Exec(cmd) },
		ShellMessage: fmt.Sprintf("%s is a gameday lab host: it runs fault commands, not a shell.\nTry: ssh -F %s %s help\n",
			in.Name(), configPath(l.SSHConfigPath), in.Name()),
	}
	var srv *sshhost.Server
	var err error
	for i := 0; i < 40; i++ {
		if srv, err = sshhost.Start(opts); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		srv.Close()
		return nil, errors.New("lab: closed")
	}
	l.ssh[in.Name()] = srv
	return srv, nil
}

// startAWS seeds one EC2 instance per host; stopping one stops the host,
// and Run Command runs lab commands on it.
func (l *Lab) startAWS() error {
	id, secret := randomHex(8), randomHex(20)
	l.AWS = AWS{Region: "us-east-1", Account: aws.DefaultAccount, AccessKeyID: "AKIALAB" + strings.ToUpper(id), SecretAccessKey: secret}
	l.aws = aws.New(aws.Options{
		Keys:   []aws.Key{{AccessKeyID: l.AWS.AccessKeyID, SecretAccessKey: secret}},
		Region: l.AWS.Region,
		Hooks:  aws.Hooks{InstanceState: l.instanceState, RunShell: l.runShell},
	})
	if err := l.aws.Start(); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	l.AWS.Endpoint = l.aws.URL()
	zones := []string{"a", "b", "c"}
	for i := range l.Hosts {
		h := &l.Hosts[i]
		h.InstanceID = aws.InstanceID(i + 1)
		h.AZ = l.AWS.Region + zones[i%len(zones)]
		err := l.aws.AddInstance(aws.Instance{
			ID: h.InstanceID, AZ: h.AZ, PrivateIP: fmt.Sprintf("10.0.%d.%d", i%3, 10+i),
			Tags:           map[string]string{"Name": h.Name, "service": "checkout", "env": "lab"},
			SecurityGroups: []string{SecurityGroupID},
		})
		if err != nil {
			return fmt.Errorf("lab: %w", err)
		}
	}
	return l.seedAWS()
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (l *Lab) hostByInstance(id string) (Host, bool) {
	for _, h := range l.Hosts {
		if h.InstanceID == id {
			return h, true
		}
	}
	return Host{}, false
}

// instanceState follows the EC2 view: a stopping, rebooting or terminating
// instance takes its host's service and SSH server down; running brings
// them back on the same ports.
func (l *Lab) instanceState(id, state string) {
	h, ok := l.hostByInstance(id)
	if !ok {
		return
	}
	in, _ := l.fleet.Instance(h.Name)
	switch state {
	case "stopping", "shutting-down", "rebooting":
		l.fleet.PowerOff(h.Name)
		l.mu.Lock()
		srv := l.ssh[h.Name]
		delete(l.ssh, h.Name)
		l.mu.Unlock()
		if srv != nil {
			srv.Close()
		}
	case "running":
		l.fleet.PowerOn(h.Name)
		l.mu.Lock()
		_, up := l.ssh[h.Name]
		l.mu.Unlock()
		if !up {
			l.startHost(in, h.SSHAddr)
		}
	}
}

// runShell runs each line of an AWS-RunShellScript invocation as a lab
// command, stopping at the first that fails, as sh -e would.
func (l *Lab) runShell(ctx context.Context, id string, commands []string) (string, string, int) {
	h, ok := l.hostByInstance(id)
	if !ok {
		return "", "no lab host for instance " + id + "\n", 1
	}
	in, _ := l.fleet.Instance(h.Name)
	var stdout, stderr strings.Builder
	for _, c := range commands {
		for _, line := range strings.Split(c, "\n") {
			if strings.TrimSpace(line) == "" {
				continue
			}
			if ctx.Err() != nil {
				return stdout.String(), stderr.String() + "cancelled\n", 1
			}
			out, errOut, code := in.Exec(line)
			stdout.WriteString(out)
			stderr.WriteString(errOut)
			if code != 0 {
				return stdout.String(), stderr.String(), code
			}
		}
	}
	return stdout.String(), stderr.String(), 0
}

// Fleet is the service fleet, for tests and drills that look at its state.
func (l *Lab) Fleet() *fleet.Fleet { return l.fleet }

// Close stops everything the lab started and waits for it: no port is left
// listening and no goroutine running. A temporary directory is removed.
func (l *Lab) Close() error {
	l.once.Do(func() {
		if l.stopAfter != nil {
			l.stopAfter()
		}
		if l.aws != nil {
			l.aws.Close()
		}
		if l.prom != nil {
			l.prom.Close()
		}
		l.mu.Lock()
		l.closed = true
		servers := l.ssh
		l.ssh = nil
		l.mu.Unlock()
		for _, s := range servers {
			s.Close()
		}
		if l.fleet != nil {
			l.fleet.Close()
		}
		if l.removeOnClose {
			os.RemoveAll(l.Dir)
		}
	})
	return nil
}
