package targetstest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

var (
	_ targets.Executor = (*Executor)(nil)
	_ targets.Prober   = Prober{}
	_ targets.Resolver = Resolver{}
)

func inj(attack, member string) targets.Injection {
	return targets.Injection{Attack: attack, Member: targets.Member{ID: member}}
}

func TestExecutorKeepsWhatIsApplied(t *testing.T) {
	ctx := context.Background()
	e := NewExecutor("burn@web-9")
	e.InjectErr = map[string]string{"web-2": "stress-ng: not found"}
	e.InjectOutput, e.RollbackOutput = "on", "off"
	var seen []string
	e.OnRollback = func(i targets.Injection) { seen = append(seen, Key(i)) }

	a, b := inj("slow", "web-1"), inj("slow", "web-2")
	if res, err := e.Inject(ctx, &a); err != nil || res.Output != "on" {
		t.Fatalf("inject web-1: %+v %v", res, err)
	}
	if res, err := e.Inject(ctx, &b); err == nil || res.Err != "stress-ng: not found" {
		t.Fatalf("inject web-2: %+v %v, want the host's stderr", res, err)
	}
	if got := e.Applied(); !slices.Equal(got, []string{"burn@web-9", "slow@web-1"}) {
		t.Fatalf("applied %v", got)
	}
	for range 2 { // the second is idempotent
		if res, err := e.Rollback(ctx, a); err != nil || res.Output != "off" {
			t.Fatalf("rollback: %+v %v", res, err)
		}
	}
	e.RollbackErr = errors.New("host unreachable")
	if _, err := e.Rollback(ctx, inj("burn", "web-9")); err == nil {
		t.Error("rollback with RollbackErr set succeeded")
	}
	if e.Active() != 1 || e.Injects() != 2 || e.Rollbacks() != 3 || len(e.RolledBack()) != 3 {
		t.Errorf("active %d injects %d rollbacks %d; want 1, 2, 3", e.Active(), e.Injects(), e.Rollbacks())
	}
	if !slices.Equal(seen, []string{"slow@web-1", "slow@web-1", "burn@web-9"}) {
		t.Errorf("OnRollback saw %v", seen)
	}
}

func TestExecutorProbesAndPreflights(t *testing.T) {
	e := &Executor{PreflightErr: errors.New("sudo needs a password"), ProbeErrs: []error{errors.New("web-2: host key changed")}}
	if _, probes := any(e).(targets.Prober); probes {
		t.Error("a bare Executor must not be a Prober: the engine would probe where a test did not ask")
	}
	if errs := (Prober{e}).Probe(context.Background(), make([]targets.Member, 3)); len(errs) != 1 || e.Probed() != 3 {
		t.Errorf("probe: %v, %d probed", errs, e.Probed())
	}
	if err := e.Preflight(context.Background(), inj("slow", "web-1")); err == nil {
		t.Error("preflight ignored PreflightErr")
	}
}

func TestExecutorIsSafeForConcurrentUse(t *testing.T) {
	e := &Executor{}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			in := inj("a", string(rune('a'+i)))
			_, _ = e.Inject(context.Background(), &in)
			_ = e.Active()
			_, _ = e.Rollback(context.Background(), in)
		})
	}
	wg.Wait()
	if e.Injects() != 8 || e.Rollbacks() != 8 || e.Active() != 0 {
		t.Errorf("injects %d rollbacks %d active %d", e.Injects(), e.Rollbacks(), e.Active())
	}
}

func TestResolverListsSSHHosts(t *testing.T) {
	tgt := runbook.Target{Name: "web", SSH: &runbook.SSHTarget{Hosts: []string{"web-1", "web-2"}}}
	got, err := Resolver{Port: "22"}.Resolve(context.Background(), tgt)
	if err != nil || len(got) != 2 || got[1].Target != "web" || got[1].ID != "web-2" || got[1].Addr != "web-2:22" {
		t.Errorf("resolve: %+v %v", got, err)
	}
	if got, _ := (Resolver{}).Resolve(context.Background(), tgt); got[0].Addr != "" {
		t.Errorf("without a port Addr is %q", got[0].Addr)
	}
	if _, err := (Resolver{}).Resolve(context.Background(), runbook.Target{Name: "db"}); err == nil {
		t.Error("a target without ssh hosts resolved")
	}
}
