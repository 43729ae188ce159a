package gamedays

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/gameday/gameday/bench/sshsink/sink"
	"github.com/gameday/gameday/lab/e2e"
	"github.com/gameday/gameday/metrics"
	"github.com/gameday/gameday/metrics/metricstest"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
	"github.com/gameday/gameday/targets/ssh"
)

// TestAbortOn300SinkHosts runs a game day through the engine and the SSH
// executor on 300 loopback hosts served by the benchmarks' sink server,
// aborts it once every host is injected, and checks on the server's side
// that every host was sent exactly its preflight, its inject and then its
// own rollback, the scripts the executor plans for that injection.
func TestAbortOn300SinkHosts(t *testing.T) {
	const n = 300
	dir := t.TempDir()
	host := e2e.WriteKey(t, filepath.Join(dir, "host"))
	user := e2e.WriteKey(t, filepath.Join(dir, "user"))
	srv, err := sink.Start(sink.Loopback(n, 0), host, []gossh.PublicKey{user.PublicKey()}, nil)
	if err != nil {
		e2e.Missing(t, "loopback addresses for the sink: "+err.Error())
	}
	t.Cleanup(srv.Close)
	kh := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(kh, srv.KnownHosts(), 0o600); err != nil {
		t.Fatal(err)
	}
	// The hosts are ssh_config aliases, as an operator's would be.
	var conf strings.Builder
	names := make([]string, n)
	addrOf := map[string]string{}
	for i, a := range srv.Addrs {
		names[i] = fmt.Sprintf("h%03d", i+1)
		addrOf[names[i]] = a
		ip, port, _ := strings.Cut(a, ":")
		fmt.Fprintf(&conf, "Host %s\n  HostName %s\n  Port %s\n  User bench\n", names[i], ip, port)
	}
	cfg := filepath.Join(dir, "ssh_config")
	if err := os.WriteFile(cfg, []byte(conf.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	exec := ssh.New(ssh.Options{SSHConfig: cfg, KnownHosts: kh, IdentityFiles: []string{filepath.Join(dir, "user")}, AgentSocket: "-", Fanout: n})
	t.Cleanup(func() { exec.Close() })

	src := strings.Replace(testRunbook, "hosts: [web-1, web-2, web-3]", "hosts: ["+strings.Join(names, ", ")+"]", 1)
	src = strings.Replace(src, "web: {count: 1, seed: 3}", "web: {all: true}", 1)
	src = strings.Replace(src, "kind: network-latency, params: {interface: eth0, delay: 200ms}", "kind: cpu, params: {workers: 1}", 1)
	src = strings.Replace(src, "duration: 30s}", "duration: 10m}", 1)
	src = strings.Replace(src, "observe: {duration: 40s}", "observe: {duration: 1h}", 1)
	cat := targets.Default()
	rb, err := runbook.Parse("sink.yaml", []byte(src), cat)
	if err != nil {
		t.Fatal(err)
	}
	clock := NewManualClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	q := &metricstest.Querier{Value: func(string, string, time.Time) float64 { return 0.001 }}
	poller := metrics.NewPoller(q, metrics.Config{Panels: rb.Metrics.Panels, Step: time.Second, Now: clock.Now, Since: clock.Now()})
	j, err := CreateJournal(filepath.Join(dir, JournalName), clock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	var mu sync.Mutex
	injected := map[string]targets.Injection{}
	eng := New(rb, Options{
		RunID: "sink-300", Source: []byte(src), Journal: j, Clock: clock, Catalogue: cat,
		Resolvers: map[string]targets.Resolver{"ssh": exec},
		Executors: map[string]targets.Executor{"ssh": exec},
		Metrics:   poller, AutoAdvance: true, AutoConfirm: true, Parallel: n,
		OnEvent: func(ev Event) {
			if ev.Type == EvAttackResult && ev.Injection != nil && ev.OK != nil && *ev.OK {
				mu.Lock()
				injected[ev.Injection.Member.ID] = *ev.Injection
				mu.Unlock()
			}
		},
	})
	done := make(chan Outcome, 1)
	go func() {
		out, err := eng.Run(context.Background())
		if err != nil {
			t.Error(err)
		}
		done <- out
	}()
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(injected) }
	deadline := time.Now().Add(2 * time.Minute)
	for count() < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d hosts injected after 2 minutes", count(), n)
		}
		if clock.Waiters() > 0 {
			clock.Advance(time.Second)
		}
		time.Sleep(time.Millisecond)
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
	if exec.Handshakes() != n {
		t.Errorf("%d handshakes for %d hosts, want one each", exec.Handshakes(), n)
	}
	for _, name := range names {
		inj, ok := injected[name]
		if !ok {
			t.Fatalf("%s: no successful inject", name)
		}
		plan := map[string]string{}
		for _, l := range exec.Plan(inj) {
			if rest, ok := strings.CutPrefix(l, "ssh "+name+" "); ok {
				step, cmd, _ := strings.Cut(rest, ": ")
				plan[step] = cmd
			}
		}
		ran := srv.Ran(addrOf[name])
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
