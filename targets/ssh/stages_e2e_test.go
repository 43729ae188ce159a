package ssh

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/lab/e2e"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

// stagedHost is one of the staged test's hosts: a namespace, its sshd and
// the address in this namespace its probes are sent to.
type stagedHost struct {
	ns, peer string
	s        *sshd
}

// fleetOf resolves every target to the test's hosts.
type fleetOf []targets.Member

func (f fleetOf) Resolve(context.Context, runbook.Target) ([]targets.Member, error) {
	return slices.Clone(f), nil
}

// TestStagedBlackholeOnThreeHosts runs a staged blackhole through the
// engine and this executor on three real sshd, each in its own namespace:
// one host, then two, then all three with the port changed (a new
// magnitude: the old rule is rolled back and the new one injected). After
// each stage, and after the end, it looks at the hosts themselves: which
// have gameday's rule, with which port, and whether traffic to that port
// really is dropped while traffic to the other still flows. Every stage
// keeps the hosts of the one before; at the end no host keeps a rule or an
// armed switch, and this machine's own firewall is as it was.
func TestStagedBlackholeOnThreeHosts(t *testing.T) {
	e2e.Need(t, "sshd", "iptables", "bash", "timeout")
	before, _ := exec.Command("iptables", "-S").CombinedOutput()
	f := startStagedFleet(t)
	first, second := f.first, f.second

	src := fmt.Sprintf(`version: 1
name: cut the peers off, more and more
metrics:
  step: 1s
  panels:
    p95: {query: latency, unit: seconds}
baseline: {duration: 2s, steady_state: {p95: "< 1s"}}
hypothesis: {statement: it copes, expect: {p95: "< 1s"}}
targets:
  fleet: {ssh: {hosts: [host-1, host-2, host-3]}}
blast_radius: {fleet: {count: 1, seed: 7}}
attacks:
  - name: cut
    target: fleet
    kind: blackhole
    params: {cidr: 10.231.0.0/16, protocol: tcp, port: %s}
    duration: 2s
    stages:
      - {count: 1}
      - {count: 2}
      - {all: true, params: {port: %s}}
abort: {timeout: 20s}
`, first, second)
	// seen is, per stage, what each host showed once the stage was judged.
	seen := map[int][]stagedLook{}
	out, events := runEngine(t, "staged", src, f.members, f.exec, 2*time.Minute, func(ev gamedays.Event) {
		// The engine waits for this: the next stage has not begun.
		if ev.Type == gamedays.EvStageResult {
			seen[ev.Stage] = f.lookAll(t)
		}
	})
	if out.Verdict != gamedays.VerdictHeld || len(out.Stages) != 3 || len(out.Unreverted) != 0 {
		t.Fatalf("verdict %s (%s), %d stages judged, unreverted %v; want held through all 3", out.Verdict, out.Reason, len(out.Stages), out.Unreverted)
	}
	f.checkStages(t, seen)
	// After the end: nothing on any host, no switch armed.
	for i, l := range f.lookAll(t) {
		if l.rule || l.dropsFirst || l.dropsSecond {
			t.Errorf("after the end, %s still has %+v", f.hosts[i].ns, l)
		}
	}
	f.checkAllReverted(t, events)
	after, _ := exec.Command("iptables", "-S").CombinedOutput()
	if string(before) != string(after) {
		t.Fatalf("this machine's own firewall changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// stagedFleet is the staged test's three hosts, the executor that reaches
// them, and the two ports every host's peer address serves: the first
// stages drop one, the last drops the other.
type stagedFleet struct {
	hosts         []stagedHost
	members       fleetOf
	exec          *Executor
	first, second string
}

// stagedLook is what a host shows: gameday's rule in its firewall, and
// whether traffic to each port is dropped.
type stagedLook struct{ rule, dropsFirst, dropsSecond bool }

func startStagedFleet(t *testing.T) *stagedFleet {
	t.Helper()
	f := &stagedFleet{}
	var knownHosts, keys []string
	for i := range 3 {
		ns, hostIP, nsIP := netns(t)
		s := &sshd{e2e.StartHost(t, nsIP, ns)}
		f.hosts = append(f.hosts, stagedHost{ns: ns, peer: hostIP, s: s})
		f.members = append(f.members, targets.Member{Target: "fleet", ID: fmt.Sprintf("host-%d", i+1), Addr: s.Addr, Labels: map[string]string{LabelUser: "root"}})
		kh, err := os.ReadFile(s.KnownHosts)
		if err != nil {
			t.Fatal(err)
		}
		knownHosts = append(knownHosts, string(kh))
		keys = append(keys, s.UserKey)
	}
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(kh, []byte(strings.Join(knownHosts, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	f.first = serve(t, f.hosts[0].peer)
	f.second = serve(t, f.hosts[0].peer)
	for _, h := range f.hosts[1:] {
		for _, port := range []string{f.first, f.second} {
			acceptAll(t, "tcp", net.JoinHostPort(h.peer, port), func(c net.Conn) { c.Close() })
		}
	}
	f.exec = New(Options{
		SSHConfig: filepath.Join(t.TempDir(), "no-ssh-config"), KnownHosts: kh, IdentityFiles: keys, AgentSocket: "-",
		// The checks between stages take a few seconds; the switches must
		// not fire under them.
		Grace: 30 * time.Second, HostDeadline: 30 * time.Second, Logf: t.Logf,
	})
	t.Cleanup(func() { f.exec.Close() })
	return f
}

// lookAll looks at every host at once; a rule that does not drop, or a
// drop without a rule, is an error.
func (f *stagedFleet) lookAll(t *testing.T) []stagedLook {
	out := make([]stagedLook, len(f.hosts))
	var wg sync.WaitGroup
	for i, h := range f.hosts {
		wg.Go(func() {
			rules, _ := exec.Command("ip", "netns", "exec", h.ns, "iptables", "-S", "OUTPUT").CombinedOutput()
			out[i] = stagedLook{
				rule:        strings.Contains(string(rules), "gameday:"),
				dropsFirst:  !reaches(h, f.first),
				dropsSecond: !reaches(h, f.second),
			}
			if out[i].rule != (out[i].dropsFirst || out[i].dropsSecond) {
				t.Errorf("%s: rule %v but drops %s %v, %s %v:\n%s", h.ns, out[i].rule, f.first, out[i].dropsFirst, f.second, out[i].dropsSecond, rules)
			}
		})
	}
	wg.Wait()
	return out
}

// checkStages: stage n leaves exactly n hosts with the rule, keeps the
// hosts of the stage before, and drops the port its magnitude names.
func (f *stagedFleet) checkStages(t *testing.T, seen map[int][]stagedLook) {
	t.Helper()
	var hitBefore []int
	for stage := 1; stage <= 3; stage++ {
		looks, ok := seen[stage]
		if !ok {
			t.Fatalf("stage %d was never judged", stage)
		}
		var hit []int
		for i, l := range looks {
			if !l.rule {
				continue
			}
			hit = append(hit, i)
			// Stages 1 and 2 drop the first port; stage 3's new magnitude
			// drops the second only: the old rule went before the new came.
			if wantFirst := stage < 3; l.dropsFirst != wantFirst || l.dropsSecond == wantFirst {
				t.Errorf("after stage %d, %s drops %s: %v, %s: %v", stage, f.hosts[i].ns, f.first, l.dropsFirst, f.second, l.dropsSecond)
			}
		}
		if len(hit) != stage {
			t.Errorf("after stage %d, %d host(s) carry the rule (%v); want %d", stage, len(hit), hit, stage)
		}
		for _, i := range hitBefore {
			if !slices.Contains(hit, i) {
				t.Errorf("stage %d dropped %s, which stage %d hit", stage, f.hosts[i].ns, stage-1)
			}
		}
		hitBefore = hit
	}
}

// checkAllReverted: the run made the injections its stages call for, and
// every rollback found the injection's own switch armed and cancelled it,
// so that no host has anything in place or armed.
func (f *stagedFleet) checkAllReverted(t *testing.T, events []gamedays.Event) {
	t.Helper()
	st := gamedays.Fold(events)
	// 1 + 1 new at stage 2, then all 3 again at stage 3's new port.
	if len(st.Injections) != 5 {
		t.Errorf("%d injections, want 5 (stage 1: 1, stage 2: 1 more, stage 3: 3 at the new port)", len(st.Injections))
	}
	// Every rollback, the magnitude change's and the end's, found the
	// injection's own switch still armed and cancelled it.
	for _, ev := range events {
		if ev.Type == gamedays.EvRollbackResult && (ev.Result == nil || !strings.Contains(ev.Result.Output, switchCancelled)) {
			t.Errorf("rollback on %s at stage %d did not cancel its switch: %+v", ev.Injection.Member.ID, ev.Injection.Stage, ev.Result)
		}
	}
	for _, is := range st.Injections {
		if is.Status != gamedays.StatusReverted {
			t.Errorf("%s at stage %d: %s, want reverted", is.Injection.Member.ID, is.Injection.Stage, is.Status)
		}
		if st, err := f.exec.Status(ctxFor(t), is.Injection); err != nil || st.InPlace || st.Armed {
			t.Errorf("%s at stage %d after the end: %+v %v", is.Injection.Member.ID, is.Injection.Stage, st, err)
		}
	}
}

// reaches says whether a connection from inside h's namespace to its peer
// at port gets through within a second.
func reaches(h stagedHost, port string) bool {
	probe := "timeout 1 bash -c 'echo >/dev/tcp/" + h.peer + "/" + port + "' && echo reached"
	out, _ := exec.Command("ip", "netns", "exec", h.ns, "bash", "-c", probe).CombinedOutput()
	return strings.TrimSpace(string(out)) == "reached"
}
