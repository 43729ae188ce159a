// Package targetstest has an in-memory Executor and Resolver for tests of
// code that drives attacks (the engine, recover, the console): they keep
// what is applied the way a host would and record what they were asked.
// Only tests import it; attacks themselves are tested on real hosts in
// targets/ssh and the lab.
package targetstest

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/gameday/gameday/targets"
)

// Key names an injection as the Executor keeps it: attack@member.
func Key(inj targets.Injection) string { return inj.Attack + "@" + inj.Member.ID }

// Executor is a targets.Executor whose host is a set of applied keys. It is
// not a targets.Prober, so the engine does not probe before the baseline;
// wrap it in a Prober for that. Set the exported fields before handing it
// out; its methods are safe for concurrent use.
type Executor struct {
	// InjectErr maps a member ID to the stderr its host answers an inject
	// with; that inject fails and applies nothing.
	InjectErr map[string]string
	// PreflightErr and RollbackErr are what every Preflight and Rollback
	// return; a failed rollback leaves the attack applied.
	PreflightErr, RollbackErr error
	// ProbeErrs is what every Probe of a Prober around it returns.
	ProbeErrs []error
	// InjectOutput and RollbackOutput are the output of a call that worked.
	InjectOutput, RollbackOutput string
	// OnRollback, when set, is called at the start of every Rollback,
	// outside the Executor's lock, so it may look at anything.
	OnRollback func(targets.Injection)

	mu         sync.Mutex
	applied    map[string]bool
	removed    map[string]bool // taken away by something other than gameday
	injects    int
	rolledBack []targets.Injection
	probed     int
}

// NewExecutor returns an Executor whose host already has keys applied, as
// a run that was killed would leave it.
func NewExecutor(applied ...string) *Executor {
	e := &Executor{applied: map[string]bool{}}
	for _, k := range applied {
		e.applied[k] = true
	}
	return e
}

// Prober wraps an Executor so that it is also a targets.Prober, as the SSH
// executor is: given one, the engine probes every member before the
// baseline and journals the result.
type Prober struct{ *Executor }

// Probe counts the members and answers ProbeErrs.
func (p Prober) Probe(ctx context.Context, members []targets.Member) []error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.probed += len(members)
	return p.ProbeErrs
}

// Preflight answers PreflightErr.
func (e *Executor) Preflight(ctx context.Context, inj targets.Injection) error {
	return e.PreflightErr
}

// Inject applies the attack unless InjectErr names its member.
func (e *Executor) Inject(ctx context.Context, inj *targets.Injection) (targets.Result, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.injects++
	if why, bad := e.InjectErr[inj.Member.ID]; bad {
		return targets.Result{Err: why}, errors.New("inject failed, reverting")
	}
	if e.applied == nil {
		e.applied = map[string]bool{}
	}
	e.applied[Key(*inj)] = true
	return targets.Result{Output: e.InjectOutput}, nil
}

// Rollback reverts the attack unless RollbackErr is set; reverting what is
// not applied succeeds, as a real rollback must.
func (e *Executor) Rollback(ctx context.Context, inj targets.Injection) (targets.Result, error) {
	if e.OnRollback != nil {
		e.OnRollback(inj)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.rolledBack = append(e.rolledBack, inj)
	if e.RollbackErr != nil {
		return targets.Result{}, e.RollbackErr
	}
	delete(e.applied, Key(inj))
	gone := e.removed[Key(inj)]
	delete(e.removed, Key(inj))
	return targets.Result{Output: e.RollbackOutput, Gone: gone}, nil
}

// Remove takes key's fault away as something other than gameday would (a
// person, a remediation job): its next rollback finds it gone.
func (e *Executor) Remove(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.applied[key] {
		return
	}
	delete(e.applied, key)
	if e.removed == nil {
		e.removed = map[string]bool{}
	}
	e.removed[key] = true
}

// Plan names the injection, for dry runs.
func (e *Executor) Plan(inj targets.Injection) []string { return []string{"inject " + Key(inj)} }

// Active is how many attacks are applied now.
func (e *Executor) Active() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.applied)
}

// Applied lists the keys applied now, sorted.
func (e *Executor) Applied() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var keys []string
	for k := range e.applied {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Injects is how many Inject calls were made, failed ones included.
func (e *Executor) Injects() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.injects
}

// Rollbacks is how many Rollback calls were made, failed ones included.
func (e *Executor) Rollbacks() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.rolledBack)
}

// RolledBack returns what each Rollback call was given, in order.
func (e *Executor) RolledBack() []targets.Injection {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.rolledBack)
}

// Probed is how many members a Prober around e was asked about, over all
// calls.
func (e *Executor) Probed() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.probed
}
