package gamedays

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/gameday/gameday/lab/e2e"
	"github.com/gameday/gameday/metrics"
	"github.com/gameday/gameday/metrics/metricstest"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
	"github.com/gameday/gameday/targets/ssh"
)

// The benchmarks in this file time what an operator waits for when a game
// day must stop: through the engine, the journal and the SSH executor, on
// real OpenSSH sshd hosts on loopback, each with its own /run/gameday as
// separate machines have. Only the engine's clock is a stand-in, and only
// for the baseline and the guardrail's samples: every SSH step is real.

// benchFault is the custom attacks' fault on a host: a file in the host's
// own /run/gameday. The first half of the fleet is attacked by "quick",
// whose inject lands at once; the second by "slow", whose inject takes
// slowInject before the fault lands, as a slow command (a unit stopping, a
// set of rules loading) does. So once the quick results are in, the slow
// injects are half-way: an abort then comes while they run.
const (
	benchFault = "/run/gameday/bench-fault"
	slowInject = 2 * time.Second
)

// realFleet is n real sshd on 127.0.0.1, named h01 and on in an ssh_config
// file, all accepting one user key as root.
type realFleet struct {
	hosts  []*e2e.SSHD
	names  []string
	config string // ssh_config
	kh     string // known_hosts for every host
	key    string // private key file
	signer gossh.Signer
}

func newRealFleet(b *testing.B, n int) *realFleet {
	b.Helper()
	dir := b.TempDir()
	f := &realFleet{config: filepath.Join(dir, "ssh_config"), kh: filepath.Join(dir, "known_hosts"), key: filepath.Join(dir, "user_ed25519")}
	f.signer = e2e.WriteKey(b, f.key)
	var conf, kh strings.Builder
	for i := range n {
		s := e2e.StartHost(b, "127.0.0.1", "")
		// One key for the fleet, as an operator's: sshd gives up after six
		// keys offered, so thirty hosts' own keys would not all be tried.
		ak, err := os.OpenFile(filepath.Join(s.Dir, "authorized_keys"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			b.Fatal(err)
		}
		fmt.Fprintln(ak, e2e.AuthorizedKey(f.signer.PublicKey()))
		if err := ak.Close(); err != nil {
			b.Fatal(err)
		}
		line, err := os.ReadFile(s.KnownHosts)
		if err != nil {
			b.Fatal(err)
		}
		kh.Write(line)
		name := fmt.Sprintf("h%02d", i+1)
		ip, port, _ := net.SplitHostPort(s.Addr)
		fmt.Fprintf(&conf, "Host %s\n  HostName %s\n  Port %s\n  User root\n", name, ip, port)
		f.hosts, f.names = append(f.hosts, s), append(f.names, name)
	}
	if err := os.WriteFile(f.config, []byte(conf.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(f.kh, []byte(kh.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	return f
}

// realRun is one game day on the fleet and what its events showed, each
// stamped with the wall time it was emitted.
type realRun struct {
	eng    *Engine
	clock  *ManualClock
	breach atomic.Bool // the fake p95 reads above the guardrail from now on

	mu            sync.Mutex
	intents       map[string]bool // members whose inject was begun: may have been injected
	results       int
	failed        map[string]string // member: why its inject did not succeed (cut off by the abort)
	rolledBack    map[string]bool   // members whose rollback was confirmed
	firstResult   chan struct{}     // closed at the first inject result
	lastRollback  time.Time
	guardrailAt   time.Time
	guardrailSeen chan struct{}
}

// run starts a game day of the quick and the slow attack on f, with the
// guardrail p95 > 1s. runID names the hosts' state directories, so each
// run's switches can be told apart.
func (f *realFleet) run(b *testing.B, runID string) (*realRun, <-chan Outcome) {
	b.Helper()
	half := len(f.names) / 2
	src := fmt.Sprintf(`version: 1
name: stop on real sshd
metrics:
  step: 1s
  panels:
    p95: {query: latency, unit: seconds}
baseline:
  duration: 2s
  steady_state: {p95: "< 1s"}
hypothesis: {statement: it copes, expect: {p95: "< 1s"}}
guardrails:
  p95: "> 1s"
targets:
  first: {ssh: {hosts: [%s]}}
  second: {ssh: {hosts: [%s]}}
blast_radius:
  first: {all: true}
  second: {all: true}
attacks:
  - name: quick
    target: first
    kind: custom
    params: {inject: "touch %[3]s", rollback: "rm -f %[3]s"}
    duration: 10m
  - name: slow
    target: second
    kind: custom
    params: {inject: "sleep %[4]d; touch %[3]s", rollback: "rm -f %[3]s"}
    duration: 10m
observe: {duration: 1h}
abort: {timeout: 60s}
`, strings.Join(f.names[:half], ", "), strings.Join(f.names[half:], ", "), benchFault, int(slowInject/time.Second))
	cat := targets.Default()
	rb, err := runbook.Parse("realssh.yaml", []byte(src), cat)
	if err != nil {
		b.Fatal(err)
	}
	exec := ssh.New(ssh.Options{SSHConfig: f.config, KnownHosts: f.kh, IdentityFiles: []string{f.key}, AgentSocket: "-", Fanout: len(f.names)})
	b.Cleanup(func() { exec.Close() })
	r := &realRun{
		clock:   NewManualClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)),
		intents: map[string]bool{}, rolledBack: map[string]bool{}, failed: map[string]string{},
		firstResult: make(chan struct{}), guardrailSeen: make(chan struct{}),
	}
	q := &metricstest.Querier{Value: func(string, string, time.Time) float64 {
		if r.breach.Load() {
			return 2
		}
		return 0.1
	}}
	poller := metrics.NewPoller(q, metrics.Config{Panels: rb.Metrics.Panels, Step: time.Second, Now: r.clock.Now, Since: r.clock.Now()})
	j, err := CreateJournal(filepath.Join(b.TempDir(), JournalName), r.clock)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { j.Close() })
	r.eng = New(rb, Options{
		RunID: runID, Source: []byte(src), Journal: j, Clock: r.clock, Catalogue: cat,
		Resolvers: map[string]targets.Resolver{"ssh": exec},
		Executors: map[string]targets.Executor{"ssh": exec},
		Metrics:   poller, AutoAdvance: true, AutoConfirm: true, Parallel: len(f.names),
		OnEvent: r.note,
	})
	done := make(chan Outcome, 1)
	go func() {
		out, err := r.eng.Run(context.Background())
		if err != nil {
			b.Error(err)
		}
		done <- out
	}()
	return r, done
}

func (r *realRun) note(ev Event) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	switch ev.Type {
	case EvAttackIntent:
		r.intents[ev.Injection.Member.ID] = true
	case EvAttackResult:
		if r.results == 0 {
			close(r.firstResult)
		}
		r.results++
		if ev.OK == nil || !*ev.OK {
			why := ev.Result.Err
			if !ev.Result.Applied.IsZero() {
				why += ", after the host acknowledged it"
			}
			r.failed[ev.Injection.Member.ID] = why
		}
	case EvRollbackResult:
		if ev.OK != nil && *ev.OK {
			r.rolledBack[ev.Injection.Member.ID] = true
		}
		r.lastRollback = now
	case EvGuardrail:
		if r.guardrailAt.IsZero() {
			r.guardrailAt = now
			close(r.guardrailSeen)
		}
	}
}

// counts are the intents and results so far.
func (r *realRun) counts() (intents, results int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.intents), r.results
}

// walk advances the engine clock through the baseline and the preflight
// until until says stop, or fails b after a minute of wall time.
func (r *realRun) walk(b *testing.B, what string, until func() bool) {
	b.Helper()
	if !walkClockUntil(r.clock, time.Minute, time.Millisecond, until) {
		i, res := r.counts()
		b.Fatalf("no %s after a minute (%d inject intents, %d results)", what, i, res)
	}
}

// end waits for the run's outcome and checks it was aborted with every
// injection it began rolled back, by the engine's account.
func (r *realRun) end(b *testing.B, done <-chan Outcome) {
	b.Helper()
	var out Outcome
	select {
	case out = <-done:
	case <-time.After(2 * time.Minute):
		b.Fatal("the aborted run did not end within 2 minutes")
	}
	r.mu.Lock()
	var missing []string
	for m := range r.intents {
		if !r.rolledBack[m] {
			missing = append(missing, m)
		}
	}
	r.mu.Unlock()
	if out.Verdict != VerdictAborted || len(out.Unreverted) != 0 || len(missing) != 0 {
		b.Fatalf("verdict %s (%s), %d unreverted, begun but not rolled back: %v", out.Verdict, out.Reason, len(out.Unreverted), missing)
	}
}

// leftovers checks the rollbacks by the hosts' account: once a late inject
// would have landed, no host keeps the fault or state of this run, and no
// switch of this run is left on the machine.
func (r *realRun) leftovers(b *testing.B, f *realFleet, runID string) {
	b.Helper()
	// An inject cut off by the abort may still be sleeping on its host; its
	// fault must not land after the rollback.
	time.Sleep(slowInject + time.Second)
	var wg sync.WaitGroup
	left := make([]string, len(f.hosts))
	for i, s := range f.hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			left[i] = f.ask(s, "ls -A /run/gameday")
		}()
	}
	wg.Wait()
	for i, l := range left {
		if l == "" {
			continue
		}
		r.mu.Lock()
		why := r.failed[f.names[i]]
		r.mu.Unlock()
		if why != "" {
			why = "; its inject was cut off (" + why + ")"
		}
		b.Errorf("%s (%s) keeps after the abort's rollback: %s%s", f.names[i], f.hosts[i].Addr, l, why)
	}
	if pids := switchesOf(runID); len(pids) > 0 {
		b.Errorf("dead man's switches of run %s still waiting: pids %v", runID, pids)
	}
	if b.Failed() {
		b.FailNow()
	}
}

// ask runs cmd as root on s over a connection of its own and returns its
// output, or why it could not.
func (f *realFleet) ask(s *e2e.SSHD, cmd string) string {
	c, err := gossh.Dial("tcp", s.Addr, &gossh.ClientConfig{
		User: "root", Auth: []gossh.AuthMethod{gossh.PublicKeys(f.signer)},
		HostKeyCallback: gossh.FixedHostKey(s.HostKey), Timeout: 10 * time.Second,
	})
	if err != nil {
		return "cannot ask: " + err.Error()
	}
	defer c.Close()
	sess, err := c.NewSession()
	if err != nil {
		return "cannot ask: " + err.Error()
	}
	defer sess.Close()
	// Only what follows the marker: root's shell rc may print too.
	out, err := sess.Output("echo gameday-ask; " + cmd)
	if err != nil {
		return fmt.Sprintf("%s: %v: %s", cmd, err, out)
	}
	_, after, ok := strings.Cut(string(out), "gameday-ask\n")
	if !ok {
		return fmt.Sprintf("%s: no answer: %q", cmd, out)
	}
	return strings.TrimSpace(after)
}

// switchesOf lists the processes on this machine (the hosts share its pid
// namespace) whose command line names runID: a switch's carries its state
// directory.
func switchesOf(runID string) []string {
	var pids []string
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		cmd, err := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
		if err == nil && strings.Contains(string(cmd), "/"+runID+"/") {
			pids = append(pids, d.Name())
		}
	}
	return pids
}

// realSizes are the fleets both benchmarks run on.
var realSizes = []int{10, 30}

// BenchmarkAbortDuringInject aborts a game day on 10 and 30 real sshd
// hosts while injects are still running: the abort is sent when the first
// result arrives, a quick one, while the slow half is still sleeping before
// its fault lands. It reports abort-ms, from the abort intent to the last
// rollback result; inflight, how many injects had begun but not returned
// at the abort; and cut, how many of them the abort cut off.
// Run by hand, as root: go test ./gamedays/ -run '^$' -bench AbortDuringInject -benchtime 3x
func BenchmarkAbortDuringInject(b *testing.B) {
	for _, n := range realSizes {
		b.Run(fmt.Sprintf("hosts-%d", n), func(b *testing.B) {
			f := newRealFleet(b, n)
			var total time.Duration
			var inflight, cut int
			for i := range b.N {
				runID := fmt.Sprintf("abortbench-%d-%d-%d", os.Getpid(), n, i)
				r, done := f.run(b, runID)
				r.walk(b, "inject intent", func() bool { i, _ := r.counts(); return i > 0 })
				// The injects run on the hosts in wall time; the clock stays
				// put meanwhile, so the attack's duration cannot run out.
				select {
				case <-r.firstResult:
				case <-time.After(time.Minute):
					b.Fatal("no inject result a minute after the first intent")
				}
				intents, results := r.counts()
				t0 := time.Now()
				if err := r.eng.Send(Local, Intent{Type: IntentAbort, Source: "bench"}); err != nil {
					b.Fatal(err)
				}
				r.end(b, done)
				if intents == results {
					b.Fatalf("no inject was running at the abort (%d begun, %d returned)", intents, results)
				}
				took := r.lastRollback.Sub(t0)
				r.mu.Lock()
				c := len(r.failed)
				r.mu.Unlock()
				// Said before the hosts are asked, so a failing check still
				// shows the time.
				b.Logf("run %d: abort to last rollback result %s, %d inject(s) in flight at the abort, %d cut off", i+1, took.Round(time.Millisecond), intents-results, c)
				r.leftovers(b, f, runID)
				total, inflight, cut = total+took, inflight+intents-results, cut+c
			}
			b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "abort-ms")
			b.ReportMetric(float64(inflight)/float64(b.N), "inflight")
			b.ReportMetric(float64(cut)/float64(b.N), "cut")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkGuardrailBreachToRollback injects on 10 and 30 real sshd hosts,
// then has the fake p95 cross its guardrail, and reports breach-ms: from
// the guardrail breach event to the last rollback result.
// Run by hand, as root: go test ./gamedays/ -run '^$' -bench GuardrailBreachToRollback -benchtime 3x
func BenchmarkGuardrailBreachToRollback(b *testing.B) {
	for _, n := range realSizes {
		b.Run(fmt.Sprintf("hosts-%d", n), func(b *testing.B) {
			f := newRealFleet(b, n)
			var total time.Duration
			for i := range b.N {
				runID := fmt.Sprintf("breachbench-%d-%d-%d", os.Getpid(), n, i)
				r, done := f.run(b, runID)
				r.walk(b, "inject intent", func() bool { i, _ := r.counts(); return i > 0 })
				deadline := time.Now().Add(time.Minute)
				for _, res := r.counts(); res < n; _, res = r.counts() {
					if time.Now().After(deadline) {
						b.Fatalf("%d of %d injected after a minute", res, n)
					}
					time.Sleep(time.Millisecond)
				}
				r.breach.Store(true)
				r.walk(b, "guardrail breach", func() bool {
					select {
					case <-r.guardrailSeen:
						return true
					default:
						return false
					}
				})
				r.end(b, done)
				r.mu.Lock()
				took := r.lastRollback.Sub(r.guardrailAt)
				r.mu.Unlock()
				b.Logf("run %d: guardrail breach to last rollback result %s", i+1, took.Round(time.Millisecond))
				r.leftovers(b, f, runID)
				total += took
			}
			b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "breach-ms")
			b.ReportMetric(0, "ns/op")
		})
	}
}
