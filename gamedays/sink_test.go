package gamedays

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gameday/gameday/bench/sshsink/sink"
	"github.com/gameday/gameday/lab/e2e"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
	"github.com/gameday/gameday/targets/ssh"
)

// TestAbortOn300SinkHosts runs a game day through the engine and the SSH
// executor on 300 loopback hosts served by the benchmarks' sink server,
// aborts it once every host is injected, and checks on the server's side
// that every host was sent exactly its preflight, its inject and then its
// own rollback, the scripts the executor plans for that injection.
// sinkFleet is n hosts on loopback addresses served by the benchmarks'
// sink server, named h001 and on in an ssh_config file; the last refuse of
// them are served by a second sink that does not accept the executor's key.
type sinkFleet struct {
	srv    *sink.Server
	exec   *ssh.Executor
	names  []string
	addrOf map[string]string
	clock  *ManualClock
}

func newSinkFleet(t testing.TB, n, refuse int) *sinkFleet {
	t.Helper()
	dir := t.TempDir()
	listen := sink.Loopback(n, 0)
	accepting, err := sink.StartFleet(dir, listen[:n-refuse], nil)
	if err != nil {
		e2e.Missing(t, "loopback addresses for the sink: "+err.Error())
	}
	t.Cleanup(accepting.Close)
	srv, addrs := accepting.Server, accepting.Addrs
	kh, err := os.ReadFile(accepting.KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	if refuse > 0 {
		// Another sink, with a user key of its own: the executor's is refused.
		strict, err := sink.StartFleet(t.TempDir(), listen[n-refuse:], nil)
		if err != nil {
			e2e.Missing(t, "loopback addresses for the sink: "+err.Error())
		}
		t.Cleanup(strict.Close)
		addrs, kh = append(addrs, strict.Addrs...), append(kh, strict.Server.KnownHosts()...)
	}
	khPath := filepath.Join(dir, "known_hosts_all")
	if err := os.WriteFile(khPath, kh, 0o600); err != nil {
		t.Fatal(err)
	}
	// The hosts are ssh_config aliases, as an operator's would be.
	f := &sinkFleet{srv: srv, names: make([]string, n), addrOf: map[string]string{}}
	var conf strings.Builder
	for i, a := range addrs {
		f.names[i] = fmt.Sprintf("h%03d", i+1)
		f.addrOf[f.names[i]] = a
		ip, port, _ := strings.Cut(a, ":")
		fmt.Fprintf(&conf, "Host %s\n  HostName %s\n  Port %s\n  User bench\n", f.names[i], ip, port)
	}
	cfg := filepath.Join(dir, "ssh_config")
	if err := os.WriteFile(cfg, []byte(conf.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	f.exec = ssh.New(ssh.Options{SSHConfig: cfg, KnownHosts: khPath, IdentityFiles: []string{accepting.UserKey}, AgentSocket: "-", Fanout: n})
	t.Cleanup(func() { f.exec.Close() })
	return f
}

// engine runs testRunbook's one attack, a cpu attack, on every host of f.
func (f *sinkFleet) engine(t testing.TB, onEvent func(Event)) *Engine {
	t.Helper()
	n := len(f.names)
	src := strings.Replace(testRunbook, "hosts: [web-1, web-2, web-3]", "hosts: ["+strings.Join(f.names, ", ")+"]", 1)
	src = strings.Replace(src, "web: {count: 1, seed: 3}", "web: {all: true}", 1)
	src = strings.Replace(src, "kind: network-latency, params: {interface: eth0, delay: 200ms}", "kind: cpu, params: {workers: 1}", 1)
	src = strings.Replace(src, "duration: 30s}", "duration: 10m}", 1)
	src = strings.Replace(src, "observe: {duration: 40s}", "observe: {duration: 1h}", 1)
	cat := targets.Default()
	rb, err := runbook.Parse("sink.yaml", []byte(src), cat)
	if err != nil {
		t.Fatal(err)
	}
	clock, poller, j := quietRun(t, rb)
	t.Cleanup(func() { j.Close() })
	f.clock = clock
	return New(rb, Options{
		RunID: "sink", Source: []byte(src), Journal: j, Clock: clock, Catalogue: cat,
		Resolvers: map[string]targets.Resolver{"ssh": f.exec},
		Executors: map[string]targets.Executor{"ssh": f.exec},
		Metrics:   poller, AutoAdvance: true, AutoConfirm: true, Parallel: n,
		OnEvent: onEvent,
	})
}

func TestAbortOn300SinkHosts(t *testing.T) {
	const n = 300
	f := newSinkFleet(t, n, 0)
	exec := f.exec
	var mu sync.Mutex
	injected := map[string]targets.Injection{}
	var errs strings.Builder
	log := &Log{Stdout: io.Discard, Stderr: &errs, Journal: "j.jsonl"}
	eng := f.engine(t, func(ev Event) {
		log.Event(ev)
		if ev.Type == EvAttackResult && ev.Injection != nil && ev.OK != nil && *ev.OK {
			mu.Lock()
			injected[ev.Injection.Member.ID] = *ev.Injection
			mu.Unlock()
		}
	})
	clock := f.clock
	done := make(chan Outcome, 1)
	go func() {
		out, err := eng.Run(context.Background())
		if err != nil {
			t.Error(err)
		}
		done <- out
	}()
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(injected) }
	if !walkClockUntil(clock, 2*time.Minute, time.Millisecond, func() bool { return count() >= n }) {
		t.Fatalf("only %d of %d hosts injected after 2 minutes", count(), n)
	}
	if err := eng.Send(Local, Intent{Type: IntentAbort, Source: "test"}); err != nil {
		t.Fatal(err)
	}
	var out Outcome
	select {
	case out = <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("the aborted run did not end within 2 minutes")
	}
	if out.Verdict != VerdictAborted || len(out.Unreverted) != 0 || out.RolledBack != n {
		t.Fatalf("verdict %s, %d unreverted, %d of %d rolled back", out.Verdict, len(out.Unreverted), out.RolledBack, out.Pending)
	}
	// The autopilot says each step once for all 300 hosts.
	for _, want := range []string{
		"preflight slow (cpu) on 300 member(s) of web: 300 ok",
		"inject slow (cpu) on 300 member(s) of web for 10m",
		"injected slow (cpu) on 300 member(s) of web: 300 ok",
		"roll back slow (cpu) on 300 member(s) of web",
		"rolled back slow (cpu) on 300 member(s) of web: 300 ok",
	} {
		if !strings.Contains(errs.String(), want+"\n") {
			t.Errorf("autopilot output lacks %q", want)
		}
	}
	// The manual clock runs minutes while the hosts connect: the samples
	// journalled meanwhile are lines of their own, not per host.
	if lines := strings.Count(errs.String(), "\n") - strings.Count(errs.String(), "sample(s) of"); lines > 40 {
		t.Errorf("%d lines of autopilot output for 300 hosts:\n%s", lines, errs.String())
	}
	if exec.Handshakes() != n {
		t.Errorf("%d handshakes for %d hosts, want one each", exec.Handshakes(), n)
	}
	f.checkScripts(t, injected)
}

// checkScripts: each host was sent exactly the preflight, inject and
// rollback scripts the executor planned for its injection, in that order.
func (f *sinkFleet) checkScripts(t *testing.T, injected map[string]targets.Injection) {
	t.Helper()
	for _, name := range f.names {
		inj, ok := injected[name]
		if !ok {
			t.Fatalf("%s: no successful inject", name)
		}
		plan := map[string]string{}
		for _, l := range f.exec.Plan(inj) {
			if rest, ok := strings.CutPrefix(l, "ssh "+name+" "); ok {
				step, cmd, _ := strings.Cut(rest, ": ")
				plan[step] = cmd
			}
		}
		ran := f.srv.Ran(f.addrOf[name])
		if len(ran) != 3 {
			t.Errorf("%s was sent %d scripts, want preflight, inject, rollback: %q", name, len(ran), ran)
			continue
		}
		for i, step := range []string{"preflight", "inject", "rollback"} {
			if got := "sh -c " + ssh.Quote(ran[i]); got != plan[step] {
				t.Errorf("%s: script %d is not its %s:\ngot  %.200s\nwant %.200s", name, i+1, step, got, plan[step])
			}
		}
	}
}

// TestRefusedKeysFoldIntoOneLine: of 1,000 hosts, 37 do not accept the key.
// The autopilot says so in one line, then one line per reason naming all
// 37; with Verbose every host's refusal is a line of its own.
func TestRefusedKeysFoldIntoOneLine(t *testing.T) {
	const n, refuse = 1000, 37
	f := newSinkFleet(t, n, refuse)
	refused := f.names[n-refuse:]
	for _, verbose := range []bool{false, true} {
		var out, errs strings.Builder
		log := &Log{Stdout: &out, Stderr: &errs, Verbose: verbose, Journal: "j.jsonl"}
		eng := f.engine(t, log.Event)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		res, err := eng.Run(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if res.Verdict == VerdictAborted || !strings.Contains(res.Reason, "37 problem(s) reaching the 1000 member(s)") {
			t.Fatalf("verdict %s: %s", res.Verdict, res.Reason)
		}
		lines := strings.Split(strings.TrimSpace(errs.String()), "\n")
		var summary, details []string
		for _, l := range lines {
			switch {
			case strings.Contains(l, "problem(s) reaching"):
				summary = append(summary, l)
			case len(l) > 25 && l[21:25] == "    ": // "T+mm:ss PHASE(12) " then the indented text
				details = append(details, l)
			}
		}
		if len(summary) == 0 || !strings.Contains(summary[0], "authentication as bench failed") || !strings.HasSuffix(summary[0], "(37)") {
			t.Fatalf("verbose=%v: no summary line with the reason and its count:\n%s", verbose, errs.String())
		}
		if len(lines) > 30+len(details) {
			t.Errorf("verbose=%v: %d lines of output for one refusal:\n%s", verbose, len(lines), errs.String())
		}
		want := 1 // one reason, naming all 37
		if verbose {
			want = refuse
		}
		if len(details) != want {
			t.Errorf("verbose=%v: %d detail lines, want %d:\n%s", verbose, len(details), want, strings.Join(details, "\n"))
		}
		all := strings.Join(details, "\n")
		for _, h := range refused {
			if !strings.Contains(all, h+",") && !strings.Contains(all, h+":") {
				t.Errorf("verbose=%v: %s is not named in the details", verbose, h)
			}
		}
		if strings.Contains(all, f.names[0]+":") || strings.Contains(all, f.names[0]+",") {
			t.Errorf("verbose=%v: %s accepted the key but is named among the failures", verbose, f.names[0])
		}
	}
}

// BenchmarkSinkGameday runs a game day through the engine, the journal,
// the autopilot's log and the SSH executor on 100, 300 and 1,000 hosts of
// the sink server, and reports, per run: ms-to-preflight (from Run to the
// last preflight: resolve, probe with its handshakes, preflight), ms-inject
// (first inject intent to last result) and ms-abort (abort intent to the
// run's end, every host rolled back and journalled). The server runs in
// this process, so its CPU is in the figures.
func BenchmarkSinkGameday(b *testing.B) {
	for _, n := range []int{100, 300, 1000} {
		b.Run(fmt.Sprintf("hosts-%d", n), func(b *testing.B) {
			var pre, inj, abort time.Duration
			for range b.N {
				p, i, a := sinkGameday(b, n)
				pre, inj, abort = pre+p, inj+i, abort+a
			}
			b.ReportMetric(float64(pre.Milliseconds())/float64(b.N), "ms-to-preflight")
			b.ReportMetric(float64(inj.Milliseconds())/float64(b.N), "ms-inject")
			b.ReportMetric(float64(abort.Milliseconds())/float64(b.N), "ms-abort")
			b.ReportMetric(0, "ns/op")
		})
	}
}

func sinkGameday(b *testing.B, n int) (preflight, inject, abort time.Duration) {
	f := newSinkFleet(b, n, 0)
	var mu sync.Mutex
	var preflights, results int
	var lastPreflight, firstIntent, lastResult time.Time
	log := &Log{Stdout: io.Discard, Stderr: io.Discard, Journal: "j.jsonl"}
	eng := f.engine(b, func(ev Event) {
		log.Event(ev)
		now := time.Now()
		mu.Lock()
		defer mu.Unlock()
		switch ev.Type {
		case EvPreflight:
			preflights++
			lastPreflight = now
		case EvAttackIntent:
			if firstIntent.IsZero() {
				firstIntent = now
			}
		case EvAttackResult:
			results++
			lastResult = now
		}
	})
	done := make(chan Outcome, 1)
	start := time.Now()
	go func() {
		out, _ := eng.Run(context.Background())
		done <- out
	}()
	injected := func() int {
		mu.Lock()
		defer mu.Unlock()
		return results
	}
	if !walkClockUntil(f.clock, 5*time.Minute, time.Millisecond, func() bool { return injected() == n }) {
		b.Fatalf("%d of %d injected after 5 minutes", injected(), n)
	}
	t0 := time.Now()
	eng.Send(Local, Intent{Type: IntentAbort, Source: "bench"})
	out := <-done
	abort = time.Since(t0)
	if out.RolledBack != n || len(out.Unreverted) != 0 {
		b.Fatalf("%d of %d rolled back, %d unreverted", out.RolledBack, n, len(out.Unreverted))
	}
	mu.Lock()
	defer mu.Unlock()
	return lastPreflight.Sub(start), lastResult.Sub(firstIntent), abort
}
