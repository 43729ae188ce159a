package ssh

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/lab/e2e"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

// oneHost resolves every target to the test's host.
type oneHost struct{ m targets.Member }

func (o oneHost) Resolve(ctx context.Context, t runbook.Target) ([]targets.Member, error) {
	m := o.m
	m.Target = t.Name
	return []targets.Member{m}, nil
}

// TestEngineWindowWhenTheLinkIsCut runs a game day through the engine and
// this executor on a real sshd in a namespace, with a blackhole that cuts
// gameday's own session on purpose (spare_control: false). The journal
// says the link was lost; the fault's window ends when the host's dead
// man's switch really removed the rules, to within a second; the rollback
// at the end of the duration confirms the host clean instead of failing on
// the dead link; and the verdict stands on a fault that did land.
func TestEngineWindowWhenTheLinkIsCut(t *testing.T) {
	e2e.Need(t, "sshd", "iptables")
	ns, hostIP, nsIP := netns(t)
	s := startSSHD(t, nsIP, ns)
	e := s.executor(t, func(o *Options) { o.LinkTimeout = time.Second; o.ConnectTimeout = 3 * time.Second })
	src := fmt.Sprintf(`version: 1
name: cut us off
metrics:
  step: 1s
  panels:
    p95: {query: latency, unit: seconds}
baseline: {duration: 3s, steady_state: {p95: "< 1s"}}
hypothesis: {statement: it copes, expect: {p95: "< 1s"}}
targets:
  test: {ssh: {hosts: [test-host]}}
blast_radius: {test: {all: true}}
attacks:
  - {name: cut, target: test, kind: blackhole, params: {cidr: "%s", direction: both, spare_control: false}, duration: 3s}
observe: {duration: 14s}
abort: {timeout: 20s}
`, network(hostIP))
	// Watch the host's own rules: when they appear and when they go.
	var applied, gone time.Time
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			out, _ := exec.Command("ip", "netns", "exec", ns, "iptables", "-S").CombinedOutput()
			in := strings.Contains(string(out), "gameday:")
			switch {
			case in && applied.IsZero():
				applied = time.Now()
			case !in && !applied.IsZero() && gone.IsZero():
				gone = time.Now()
			}
		}
	}()
	// A failed run still stops the watch.
	stopWatching := sync.OnceFunc(func() { close(stop); <-watched })
	defer stopWatching()
	out, events := runEngine(t, "cut", src, oneHost{s.member()}, e, 90*time.Second, nil)
	stopWatching()
	if out.Verdict != gamedays.VerdictHeld || len(out.Unreverted) != 0 {
		t.Fatalf("verdict %s (%s), unreverted %v", out.Verdict, out.Reason, out.Unreverted)
	}
	st := gamedays.Fold(events)
	if len(st.Injections) != 1 {
		t.Fatalf("%d injections in the state", len(st.Injections))
	}
	is := st.Injections[0]
	if !is.LinkLost || is.Status != gamedays.StatusReverted {
		t.Fatalf("injection: link lost %v, status %s; want the link lost and the host confirmed clean", is.LinkLost, is.Status)
	}
	from, to, open := is.Window()
	if open || applied.IsZero() || gone.IsZero() {
		t.Fatalf("window %s–%s open %v; rules seen on the host %s–%s", from, to, open, applied, gone)
	}
	if d := absDur(from.Sub(applied)); d > time.Second {
		t.Errorf("journal says applied at %s, the rules appeared at %s (%s apart)", from.Format("15:04:05.000"), applied.Format("15:04:05.000"), d)
	}
	if d := absDur(to.Sub(gone)); d > time.Second {
		t.Errorf("journal says the fault ended at %s, the rules went at %s (%s apart)", to.Format("15:04:05.000"), gone.Format("15:04:05.000"), d)
	}
	if over, ok := is.Overran(500 * time.Millisecond); !ok || over < 500*time.Millisecond {
		t.Errorf("a fault left to its switch (duration plus grace) is not flagged as longer than planned: %s", over)
	}
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
