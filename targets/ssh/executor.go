package ssh

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

// Member labels the executor reads. Resolve sets them from the runbook
// target; they travel in the journal with every injection, so a recovery
// reconnects the same way.
const (
	LabelUser   = "user"   // remote user
	LabelPort   = "port"   // remote port, when Addr is empty
	LabelSudo   = "sudo"   // "true": run through sudo -n
	LabelJump   = "jump"   // ProxyJump hops, comma-separated
	LabelConfig = "config" // ssh_config file for this host and its jump hosts
)

// Executor runs attacks over SSH. It implements targets.Executor and
// targets.Resolver. It is safe for concurrent use; callers fan out one
// goroutine per host and the executor bounds how many work at once.
type Executor struct {
	opts Options
	cfg  *configs
	pool *pool
	sem  chan struct{}

	shells shells
	execs  int // sessions of their own (Run, lab kinds), under shells.mu

	watchers watchers

	cat *targets.Catalogue
}

var (
	_ targets.Executor = (*Executor)(nil)
	_ targets.Resolver = (*Executor)(nil)
)

// New returns an Executor. Nothing is dialled until a host is first used.
func New(opts Options) *Executor {
	explicitKnownHosts := expandHome(opts.KnownHosts)
	opts = opts.withDefaults()
	cfg := &configs{defaultPath: opts.SSHConfig}
	e := &Executor{
		opts: opts,
		cfg:  cfg,
		sem:  make(chan struct{}, opts.Fanout),
		cat:  targets.Default(),
	}
	e.pool = &pool{
		opts:  opts,
		turns: make(chan struct{}, opts.Handshakes),
		cfg:   cfg,
		keys:  &keyStore{explicit: explicitKnownHosts, acceptNew: opts.AcceptNewHostKeys, logf: opts.Logf},
		auth:  &auth{agentSocket: opts.AgentSocket, identities: opts.IdentityFiles},
	}
	return e
}

// Close ends every pooled connection. Attacks already injected stay bounded
// by their dead man's switches.
func (e *Executor) Close() error {
	e.stopWatching()
	e.shells.closeAll()
	e.pool.closeAll()
	return nil
}

// Handshakes reports how many SSH connections have been made, jump hosts
// included; with pooling it is one per host for a whole game day.
func (e *Executor) Handshakes() int {
	e.pool.mu.Lock()
	defer e.pool.mu.Unlock()
	return e.pool.dials
}

// Resolve turns an ssh target into members: ID is the host as the runbook
// names it, Addr the host:port ssh_config resolves it to, and Labels carry
// user, sudo, jump and config so the injection alone can reach the host.
func (e *Executor) Resolve(ctx context.Context, t runbook.Target) ([]targets.Member, error) {
	if t.SSH == nil {
		return nil, fmt.Errorf("target %s is not an ssh target", t.Name)
	}
	if len(t.SSH.Hosts) == 0 {
		return nil, fmt.Errorf("target %s lists no hosts", t.Name)
	}
	seen := map[string]bool{}
	var out []targets.Member
	for _, h := range t.SSH.Hosts {
		if seen[h] {
			return nil, fmt.Errorf("target %s lists host %s twice", t.Name, h)
		}
		seen[h] = true
		if h == "" || strings.ContainsAny(h, " \t\r\n/") || strings.HasPrefix(h, "-") {
			return nil, fmt.Errorf("target %s: %q is not a host name or ssh_config alias", t.Name, h)
		}
		spec, err := e.cfg.resolve(h, override{User: t.SSH.User, Port: t.SSH.Port, Jump: t.SSH.Jump, Config: t.SSH.Config})
		if err != nil {
			return nil, fmt.Errorf("target %s: %w", t.Name, err)
		}
		if _, err := e.cfg.route(spec); err != nil {
			return nil, fmt.Errorf("target %s: %w", t.Name, err)
		}
		labels := map[string]string{LabelUser: spec.User}
		if t.SSH.Sudo {
			labels[LabelSudo] = "true"
		}
		if len(spec.Jump) > 0 {
			labels[LabelJump] = strings.Join(spec.Jump, ",")
		}
		if t.SSH.Config != "" {
			labels[LabelConfig] = t.SSH.Config
		}
		out = append(out, targets.Member{Target: t.Name, ID: h, Addr: spec.Addr, Labels: labels})
	}
	return out, nil
}

// spec rebuilds how to reach a member from the member alone.
func (e *Executor) spec(m targets.Member) (hostSpec, error) {
	o := override{User: m.Labels[LabelUser], Jump: m.Labels[LabelJump], Config: m.Labels[LabelConfig]}
	if p := m.Labels[LabelPort]; p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return hostSpec{}, fmt.Errorf("host %s: label port=%q is not a port number", m.ID, p)
		}
		o.Port = n
	}
	if o.Jump == "" {
		// Resolve recorded the hops it found; none recorded means none,
		// whatever ssh_config says today.
		o.Jump = "none"
	}
	spec, err := e.cfg.resolve(m.ID, o)
	if err != nil {
		return hostSpec{}, err
	}
	if m.Addr != "" {
		spec.Addr = m.Addr
	}
	if len(spec.Jump) > 0 {
		// A loop would otherwise wait on its own pending dial until the
		// deadline.
		if _, err := e.cfg.route(spec); err != nil {
			return hostSpec{}, err
		}
	}
	return spec, nil
}

func sudo(m targets.Member) bool { return m.Labels[LabelSudo] == "true" }

// build parses inj's params with the catalogue and returns its scripts.
// Params are parsed again here, not trusted from the journal: Rollback and
// recovery build commands from a file on disk.
func (e *Executor) build(inj targets.Injection) (*attack, names, error) {
	n := namesFor(inj)
	kind, ok := e.cat.Spec(inj.Kind)
	if !ok || kind.Family != targets.FamilySSH {
		return nil, n, fmt.Errorf("attack kind %q is not an ssh kind (the ssh executor runs %s and the lab-* kinds)", inj.Kind, strings.Join(Kinds(), ", "))
	}
	v, probs := kind.Parse(inj.Params)
	if len(probs) > 0 {
		msgs := make([]string, len(probs))
		for i, p := range probs {
			msgs[i] = p.Msg
		}
		return nil, n, fmt.Errorf("%s: %s", inj.Kind, strings.Join(msgs, "; "))
	}
	if cmd := kind.LabCommand(); cmd != "" {
		a, err := labAttack(inj.Kind, v.Canonical(), inj.Duration)
		return a, n, err
	}
	b, ok := linux[inj.Kind]
	if !ok {
		return nil, n, fmt.Errorf("attack kind %s is not run by the ssh executor yet", inj.Kind)
	}
	if inj.Duration > kind.MaxDuration {
		return nil, n, fmt.Errorf("%s: duration %s is above the kind's maximum of %s", inj.Kind, inj.Duration, kind.MaxDuration)
	}
	a := b(v, n, inj.Duration+e.opts.Grace)
	a.needs = append(a.needs, kind.Tools...)
	if !a.noRollback && inj.Duration <= 0 {
		return nil, n, fmt.Errorf("%s: a duration is required; the dead man's switch rolls back at duration plus %s", inj.Kind, e.opts.Grace)
	}
	return a, n, nil
}

// steps holds what each step sends: sh scripts for the host's shell, or
// for lab kinds the command lines the lab's SSH server reads.
type steps struct {
	preflight, inject, rollback string
	lab                         bool
	ack                         func(time.Time) // see runOpts.ack
}

// scripts returns the scripts of each step. An empty rollback means there
// is nothing to revert.
func (e *Executor) scripts(inj targets.Injection) (steps, error) {
	a, n, err := e.build(inj)
	if err != nil {
		return steps{}, err
	}
	if strings.HasPrefix(inj.Kind, "lab-") {
		return steps{preflight: a.check, inject: a.apply, rollback: a.revert, lab: true}, nil
	}
	st := steps{preflight: preflightScript(a, sudo(inj.Member)), inject: injectScript(n, a, inj.Duration+e.opts.Grace)}
	if !a.noRollback {
		st.rollback = rollbackScript(n, a)
	}
	return st, nil
}

// commands returns each step as one command line, as ssh HOST CMD would
// run it: what --dry-run shows, and what other transports send. Over SSH
// the executor sends the same scripts to its shell on the host.
func (e *Executor) commands(inj targets.Injection) (preflight, inject, rollback string, err error) {
	st, err := e.scripts(inj)
	if err != nil || st.lab {
		return st.preflight, st.inject, st.rollback, err
	}
	s := sudo(inj.Member)
	line := func(script string) string {
		if script == "" {
			return ""
		}
		return wrap(script, s)
	}
	return line(st.preflight), line(st.inject), line(st.rollback), nil
}

// Plan lists the command lines Preflight, Inject and Rollback would run.
func (e *Executor) Plan(inj targets.Injection) []string {
	pre, in, rb, err := e.commands(inj)
	host := inj.Member.ID
	if err != nil {
		return []string{fmt.Sprintf("ssh %s: cannot plan: %v", host, err)}
	}
	var out []string
	if pre != "" {
		out = append(out, fmt.Sprintf("ssh %s preflight: %s", host, pre))
	}
	out = append(out, fmt.Sprintf("ssh %s inject: %s", host, in))
	if rb != "" {
		out = append(out, fmt.Sprintf("ssh %s rollback: %s", host, rb))
	}
	return append(out, e.Warnings(inj)...)
}

// Preflight checks, in one session, that the host is reachable with a
// verified key, that sudo works without a password when asked for, and that
// the kind's tools and conditions are there. It changes nothing.
func (e *Executor) Preflight(ctx context.Context, inj targets.Injection) error {
	st, err := e.scripts(inj)
	if err != nil {
		return fmt.Errorf("host %s: %w", inj.Member.ID, err)
	}
	if st.lab {
		// Reaching the lab host is the check.
		_, err := e.exec(ctx, inj.Member, "", "preflight", nil)
		return err
	}
	out, err := e.exec(ctx, inj.Member, st.preflight, "preflight", &st)
	if err == nil {
		if cut := e.controlPath(inj, out); cut != "" {
			e.opts.Logf("ssh %s: %s", inj.Member.ID, cut)
		}
		return nil
	}
	if sudo(inj.Member) && !strings.Contains(out, "gameday-preflight") {
		return sudoFailure(inj.Member, out)
	}
	return fmt.Errorf("host %s: preflight for %s failed: %s", inj.Member.ID, inj.Kind, problems(out, err))
}

// controlPath reads what preflight printed about the control session and
// says whether inj's fault covers it, and what follows; "" when it does
// not.
func (e *Executor) controlPath(inj targets.Injection, out string) string {
	var sess session
	var ok bool
	var route string
	for _, l := range strings.Split(out, "\n") {
		if rest, found := strings.CutPrefix(l, sessionPrefix); found {
			sess, ok = parseSession(rest)
		}
		if rest, found := strings.CutPrefix(l, routePrefix); found {
			route = strings.TrimSpace(rest)
		}
	}
	kind, _ := e.cat.Spec(inj.Kind)
	if !ok || kind == nil {
		return ""
	}
	v, probs := kind.Parse(inj.Params)
	if len(probs) > 0 {
		return ""
	}
	cut := controlCut(inj.Kind, v, sess, route)
	switch {
	case cut == "":
		return ""
	case v.Bool("spare_control"):
		return cut + "; gameday's own session is spared (spare_control)"
	}
	return cut + fmt.Sprintf("; spare_control is false, so gameday will lose the host from the inject until its dead man's switch ends the fault, %s later", inj.Duration+e.opts.Grace)
}

// sudoFailure words a shell that sudo -n would not start.
func sudoFailure(m targets.Member, out string) error {
	if strings.Contains(out, "password") || strings.Contains(out, "terminal is required") {
		return fmt.Errorf("host %s: sudo needs a password for %s; allow it NOPASSWD for the commands gameday runs, or connect as root: %s",
			m.ID, m.Labels[LabelUser], lastLine(out))
	}
	return fmt.Errorf("host %s: sudo -n failed (is sudo installed and is %s a sudoer?): %s", m.ID, m.Labels[LabelUser], lastLine(out))
}

// inShell runs script in one of the host's shells. A pooled shell found
// dead before it took the script is replaced once; nothing had run.
func (e *Executor) inShell(ctx context.Context, c *gossh.Client, script string, sudo bool, ack func(time.Time)) (string, error) {
	for attempt := 0; ; attempt++ {
		sh, err := e.shells.take(c, sudo, e.opts.LinkTimeout)
		if err != nil {
			return "", err
		}
		out, err := sh.run(ctx, script, e.opts.OutputLimit, runOpts{ack: ack, linkTimeout: e.opts.LinkTimeout})
		if errors.Is(err, errShellGone) && attempt == 0 {
			sh.close()
			continue
		}
		e.shells.put(c, sudo, sh)
		return out, err
	}
}

// ScriptMessages is what a gameday script said for the operator, over SSH
// or Run Command alike: the text of its "gameday: " lines, in order.
func ScriptMessages(out string) []string {
	var ms []string
	for _, l := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(l), "gameday: "); ok {
			ms = append(ms, rest)
		}
	}
	return ms
}

// problems lists the "gameday:" lines a script printed, or the error.
func problems(out string, err error) string {
	var ps []string
	for _, m := range ScriptMessages(out) {
		// What became of the switch is worded apart, by SwitchFate.
		if m != switchCancelled && m != noSwitch {
			ps = append(ps, m)
		}
	}
	if len(ps) == 0 {
		return err.Error()
	}
	return strings.Join(ps, "; ")
}

// Inject arms the dead man's switch on the host, has the host acknowledge
// that it is applying the fault, then applies it. Result.Applied is when
// the acknowledgement arrived and Result.Expires when the switch ends the
// fault on its own. A link lost after the acknowledgement (the fault cut
// it) is a success with LinkLost set: the fault is applied, and bounded by
// the switch. On success inj.State records where the switch lives.
func (e *Executor) Inject(ctx context.Context, inj *targets.Injection) (targets.Result, error) {
	st, err := e.scripts(*inj)
	if err != nil {
		return targets.Result{Err: err.Error()}, fmt.Errorf("host %s: %w", inj.Member.ID, err)
	}
	var bound time.Duration
	if a, _, _ := e.build(*inj); a != nil && !a.noRollback && !st.lab {
		bound = inj.Duration + e.opts.Grace
	}
	var mu sync.Mutex
	var acked time.Time
	if !st.lab {
		st.ack = func(at time.Time) {
			mu.Lock()
			acked = at
			mu.Unlock()
		}
	}
	out, err := e.exec(ctx, inj.Member, st.inject, "inject", &st)
	mu.Lock()
	res := targets.Result{Output: out, Applied: acked}
	mu.Unlock()
	if !res.Applied.IsZero() && bound > 0 {
		// The switch's sleep started just before the acknowledgement.
		res.Expires = res.Applied.Add(bound.Round(time.Second))
	}
	lost := err != nil && !res.Applied.IsZero() && errors.Is(err, errLinkLost)
	if err != nil && !lost {
		err = fmt.Errorf("host %s: inject %s: %s", inj.Member.ID, inj.Kind, reason(out, err))
		res.Err = err.Error()
		return res, err
	}
	if inj.State == nil {
		inj.State = map[string]string{}
	}
	n := namesFor(*inj)
	inj.State["state"] = n.run + "/" + n.item
	if bound > 0 {
		at := res.Expires
		if at.IsZero() {
			at = time.Now().Add(bound)
		}
		inj.State["switch_at"] = at.UTC().Format(time.RFC3339Nano)
	}
	if lost {
		res.LinkLost = true
		inj.State["link_lost"] = "true"
		e.opts.Logf("ssh %s: link lost after the inject was acknowledged: %v", inj.Member.ID, err)
	} else {
		e.watch(*inj)
	}
	return res, nil
}

// reason is what a failed step's host said: its output lines without
// gameday's own markers, the last few of them, else the error. The host's
// own words (tc's "Error: Specified qdisc kind is unknown.") are the point.
func reason(out string, err error) string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, ackPrefix) || l == "gameday-preflight" || l == "gameday-probe" {
			continue
		}
		lines = append(lines, strings.TrimPrefix(l, "gameday: "))
	}
	if len(lines) > 6 {
		lines = lines[len(lines)-6:]
	}
	if len(lines) == 0 {
		return err.Error()
	}
	return strings.Join(lines, "; ")
}

// Rollback cancels the switch and reverts. It needs only the journalled
// fields of inj, and succeeds when there is nothing to revert.
//
// It keeps ctx's deadline in every step, connection included. A host it
// cannot reach is "cannot confirm yet", never a long wait: when the
// switch's time is known (inj.State switch_at), it retries until that time
// plus a settling margin, bounded by ctx, and once it gets through after
// a lost link it runs a status step to confirm the fault is gone.
func (e *Executor) Rollback(ctx context.Context, inj targets.Injection) (targets.Result, error) {
	e.unwatch(inj)
	st, err := e.scripts(inj)
	if err != nil {
		return targets.Result{Err: err.Error()}, fmt.Errorf("host %s: %w", inj.Member.ID, err)
	}
	if st.rollback == "" {
		return targets.Result{Output: "nothing to roll back"}, nil
	}
	switchAt, _ := time.Parse(time.RFC3339Nano, inj.State["switch_at"])
	lost := inj.State["link_lost"] == "true"
	for {
		out, err := e.exec(ctx, inj.Member, st.rollback, "rollback", &st)
		if err == nil {
			res := targets.Result{Output: out, Gone: FaultGone(out)}
			if lost && !st.lab {
				if err := e.confirmClean(ctx, inj, &res); err != nil {
					res.Err = err.Error()
					return res, err
				}
			}
			return res, nil
		}
		var ee *exitError
		hostSaid := errors.As(err, &ee)
		if !hostSaid {
			lost = true
		}
		retry := !hostSaid && !switchAt.IsZero() && time.Now().Before(switchAt.Add(switchSettle))
		if retry {
			e.opts.Logf("ssh %s: rollback: %v; retrying until the switch has had time to fire", inj.Member.ID, err)
			select {
			case <-ctx.Done():
			case <-time.After(rollbackRetry):
				continue
			}
			err = fmt.Errorf("%w (last attempt: %v)", ctx.Err(), err)
		}
		res := targets.Result{Output: out}
		if hostSaid {
			err = fmt.Errorf("host %s: rollback %s: %s (%s)", inj.Member.ID, inj.Kind, problems(out, err), SwitchFate(out, inj))
		} else {
			err = fmt.Errorf("host %s: rollback %s: cannot confirm yet: %v%s (%s)", inj.Member.ID, inj.Kind, err, switchNote(switchAt), SwitchFate(out, inj))
		}
		res.Err = err.Error()
		return res, err
	}
}

// How long after its time a switch is given to finish (its revert stops
// processes for up to five seconds), and how often an unreachable host is
// tried meanwhile.
const (
	switchSettle  = 10 * time.Second
	rollbackRetry = time.Second
)

// switchNote says when the switch ends the fault on its own, if known.
func switchNote(at time.Time) string {
	if at.IsZero() {
		return ""
	}
	if time.Now().After(at) {
		return fmt.Sprintf("; its dead man's switch was due at %s UTC", at.UTC().Format("15:04:05"))
	}
	return fmt.Sprintf("; its dead man's switch ends the fault at %s UTC", at.UTC().Format("15:04:05"))
}

// confirmClean runs a status step after a rollback that followed a lost
// link: the revert ran, or the switch had already done it; either way the
// fault must be gone.
func (e *Executor) confirmClean(ctx context.Context, inj targets.Injection, res *targets.Result) error {
	s, err := e.Status(ctx, inj)
	if err != nil {
		return fmt.Errorf("host %s: rolled back, but the status step that confirms it failed: %w", inj.Member.ID, err)
	}
	res.Output = joinLines(res.Output, s.Output)
	if s.Known && s.InPlace {
		return fmt.Errorf("host %s: rolled back, yet the %s fault is still in place", inj.Member.ID, inj.Kind)
	}
	return nil
}

// Status is what a status step found on one host.
type Status struct {
	Known   bool   // the kind can tell whether its fault is in place (custom ones cannot)
	InPlace bool   // the fault's effect is there, when Known
	Armed   bool   // the dead man's switch is still waiting
	Output  string // what the host printed
}

// Status checks, changing nothing, whether inj's fault is still in place
// on its host and whether its dead man's switch is still armed. Like
// Rollback, it needs only the journalled fields of inj. For lab kinds the
// lab host answers for the fault (NAME --status); it has no switch.
func (e *Executor) Status(ctx context.Context, inj targets.Injection) (Status, error) {
	a, n, err := e.build(inj)
	if err != nil {
		return Status{}, fmt.Errorf("host %s: %w", inj.Member.ID, err)
	}
	if strings.HasPrefix(inj.Kind, "lab-") {
		out, err := e.exec(ctx, inj.Member, a.labStatus, "status", nil)
		st := Status{Output: out}
		if err != nil {
			return st, fmt.Errorf("host %s: status of %s: %s", inj.Member.ID, inj.Kind, problems(out, err))
		}
		st.InPlace = strings.Contains(out, targets.LabInPlace)
		st.Known = st.InPlace || strings.Contains(out, targets.LabNotInPlace)
		return st, nil
	}
	out, err := e.exec(ctx, inj.Member, statusScript(n, a), "status", &steps{})
	st := Status{Output: out}
	if err != nil {
		return st, fmt.Errorf("host %s: status of %s: %s", inj.Member.ID, inj.Kind, problems(out, err))
	}
	st.Armed = strings.Contains(out, "gameday: switch armed")
	st.Known = !strings.Contains(out, "gameday: cannot tell")
	st.InPlace = strings.Contains(out, "gameday: in place")
	return st, nil
}

// Run executes one command line on a member through the pooled connection,
// in a session of its own as ssh HOST CMD would, and returns its bounded
// output. An empty cmd only connects.
func (e *Executor) Run(ctx context.Context, m targets.Member, cmd string) (string, error) {
	return e.exec(ctx, m, cmd, "run", nil)
}

// Sessions reports how many SSH sessions have been opened: with the host
// shell, one per host and concurrent step, whatever the number of steps.
func (e *Executor) Sessions() int {
	e.shells.mu.Lock()
	defer e.shells.mu.Unlock()
	return e.shells.made + e.execs
}

// exec runs cmd on m: in the host's shell when st is a non-lab step, in a
// session of its own otherwise.
func (e *Executor) exec(ctx context.Context, m targets.Member, cmd, step string, st *steps) (string, error) {
	if d, ok := ctx.Deadline(); !ok || time.Until(d) > e.opts.HostDeadline {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.opts.HostDeadline)
		defer cancel()
	}
	select {
	case e.sem <- struct{}{}:
	case <-ctx.Done():
		return "", fmt.Errorf("host %s: %s: waiting for a fan-out slot: %w", m.ID, step, ctx.Err())
	}
	defer func() { <-e.sem }()

	spec, err := e.spec(m)
	if err != nil {
		return "", err
	}
	for attempt := 0; ; attempt++ {
		c, err := e.pool.get(ctx, spec, 0)
		if err != nil {
			return "", err
		}
		if cmd == "" {
			return "", nil
		}
		start := time.Now()
		var out string
		if st != nil && !st.lab {
			out, err = e.inShell(ctx, c, cmd, sudo(m), st.ack)
		} else {
			e.shells.mu.Lock()
			e.execs++
			e.shells.mu.Unlock()
			out, err = run(ctx, c, cmd, e.opts.OutputLimit, e.opts.LinkTimeout)
		}
		if errors.Is(err, errSession) && attempt == 0 {
			// The pooled connection died since last use (a keepalive not
			// yet missed, a host that rebooted): redial once. The command
			// never started, so running it again is safe.
			e.opts.Logf("ssh %s: %v; redialling", m.ID, err)
			e.shells.forget(c)
			e.pool.forget(c)
			continue
		}
		e.opts.Logf("ssh %s: %s took %s: err=%v", m.ID, step, time.Since(start).Round(time.Millisecond), err)
		if errors.Is(err, errLinkLost) {
			// Whatever comes next needs a connection that answers.
			e.shells.forget(c)
			e.pool.forget(c)
			return out, fmt.Errorf("host %s: %s: %w", m.ID, step, err)
		}
		if err != nil && ctx.Err() != nil {
			return out, fmt.Errorf("host %s: %s did not finish in time: %w", m.ID, step, ctx.Err())
		}
		return out, err
	}
}
