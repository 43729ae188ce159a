package aws

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

// Member labels. Resolve records where a member was found so that the
// journalled injection alone rebuilds the same clients and the same
// account check; the rest describe the member for the blast radius.
const (
	LabelRegion   = "region"
	LabelEndpoint = "endpoint"
	LabelProfile  = "profile"
	LabelAccount  = "account"
	LabelAZ       = "az"
	LabelState    = "state"
	LabelVPC      = "vpc"
	LabelARN      = "arn"
	// LabelResource is the target's resource type, for kinds that act on
	// more than one (rds:cluster, rds:instance).
	LabelResource = "resource"
	// LabelConcurrency is a function's reserved concurrency when it was
	// resolved, "none" for unreserved: the fallback a rollback restores
	// when the inject's own record was lost.
	LabelConcurrency = "reserved_concurrency"
	// TagLabelPrefix prefixes each resource tag: tag:service=checkout.
	TagLabelPrefix = "tag:"
)

// Executor runs attacks against AWS. It implements targets.Executor and
// targets.Resolver and is safe for concurrent use.
type Executor struct {
	opts  Options
	ss    *sessions
	cat   *targets.Catalogue
	now   func() time.Time
	batch *batcher
	// sgPlans keeps what each sg-blackhole preflight found, so that a dry
	// run's plan lists the exact rules and instances.
	sgPlans sync.Map
	// life ends when the executor closes; following maps an engine: fis
	// experiment being watched to what stops its watcher.
	life      context.Context
	stop      context.CancelFunc
	following sync.Map
	followers sync.WaitGroup
}

var (
	_ targets.Executor = (*Executor)(nil)
	_ targets.Resolver = (*Executor)(nil)
)

// New returns an Executor. Nothing is loaded or called until a target is
// resolved or an injection is first used.
func New(opts Options) *Executor {
	opts = opts.withDefaults()
	life, stop := context.WithCancel(context.Background())
	return &Executor{
		opts:  opts,
		ss:    &sessions{opts: opts},
		cat:   targets.Default(),
		now:   time.Now,
		batch: &batcher{window: opts.BatchWindow, wait: opts.Wait},
		life:  life,
		stop:  stop,
	}
}

// attack is how one kind is carried out. Each step gets the session the
// member lives in, already checked against the member's account.
type attack struct {
	plan      func(e *Executor, inj targets.Injection) []string
	preflight func(ctx context.Context, e *Executor, s *session, inj targets.Injection) error
	inject    func(ctx context.Context, e *Executor, s *session, inj *targets.Injection) (targets.Result, error)
	rollback  func(ctx context.Context, e *Executor, s *session, inj targets.Injection) (targets.Result, error)
}

var attacks = map[string]attack{
	"ec2-stop":              ec2Stop,
	"ec2-reboot":            ec2Reboot,
	"ec2-terminate":         ec2Terminate,
	"ssm-command":           ssmCommand,
	"fis-experiment":        fisExperiment,
	"lambda-throttle":       lambdaThrottle,
	"lambda-fault":          lambdaFault,
	"ecs-stop-task":         ecsStopTask,
	"rds-failover":          rdsFailover,
	"asg-suspend-processes": asgSuspend,
	"sg-blackhole":          sgBlackhole,
	"dynamodb-capacity":     dynamoCapacity,
}

// Kinds lists the aws kinds this executor carries out.
func Kinds() []string {
	return slices.Sorted(maps.Keys(attacks))
}

// kind checks inj's kind and params against the catalogue and returns how
// it is carried out.
func (e *Executor) kind(inj targets.Injection) (attack, error) {
	if _, err := e.parse(inj); err != nil {
		return attack{}, err
	}
	if inj.Engine == runbook.EngineFIS {
		if k, _ := e.cat.Spec(inj.Kind); k.FIS == "" {
			return attack{}, fmt.Errorf("engine fis: kind %s has no FIS action; use engine: gameday", inj.Kind)
		}
		return fisEngine, nil
	}
	a, ok := attacks[inj.Kind]
	if !ok {
		return attack{}, fmt.Errorf("attack kind %s is not supported by the aws executor yet (it runs %s)", inj.Kind, strings.Join(Kinds(), ", "))
	}
	return a, nil
}

// parse checks inj's params against the catalogue. They are parsed again
// here rather than trusted from the journal.
func (e *Executor) parse(inj targets.Injection) (targets.Values, error) {
	k, ok := e.cat.Spec(inj.Kind)
	if !ok || k.Family != targets.FamilyAWS {
		return targets.Values{}, fmt.Errorf("attack kind %q is not an aws kind", inj.Kind)
	}
	v, probs := k.Parse(inj.Params)
	if len(probs) > 0 {
		msgs := make([]string, len(probs))
		for i, p := range probs {
			msgs[i] = p.Msg
		}
		return v, fmt.Errorf("%s: %s", inj.Kind, strings.Join(msgs, "; "))
	}
	if inj.Duration > k.MaxDuration {
		return v, fmt.Errorf("%s: duration %s is above the kind's maximum of %s", inj.Kind, inj.Duration, k.MaxDuration)
	}
	return v, nil
}

// memberSession rebuilds the member's clients from its labels and checks
// that the credentials still act in the account it was resolved in.
func (e *Executor) memberSession(ctx context.Context, m targets.Member) (*session, error) {
	acct := m.Labels[LabelAccount]
	if acct == "" {
		return nil, fmt.Errorf("%s: the member records no account; resolve it again", m.ID)
	}
	w := where{Profile: m.Labels[LabelProfile], Region: m.Labels[LabelRegion], Endpoint: m.Labels[LabelEndpoint]}
	s, err := e.ss.get(ctx, w)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.ID, err)
	}
	if s.account != acct {
		return nil, fmt.Errorf("%s: refusing account %s (%s): the member was resolved in account %s", m.ID, s.account, s.where, acct)
	}
	return s, nil
}

// step is the common shape of Preflight, Inject and Rollback: check the
// kind, get the session, run, and name the member in any error.
func (e *Executor) step(ctx context.Context, inj targets.Injection) (attack, *session, error) {
	a, err := e.kind(inj)
	if err != nil {
		return a, nil, fmt.Errorf("%s: %w", inj.Member.ID, err)
	}
	s, err := e.memberSession(ctx, inj.Member)
	return a, s, err
}

// Preflight proves, without changing anything, that the attack can run:
// the account, the resource, and where AWS offers it (DryRun) the
// permission.
func (e *Executor) Preflight(ctx context.Context, inj targets.Injection) error {
	a, s, err := e.step(ctx, inj)
	if err != nil {
		return err
	}
	if err := a.preflight(ctx, e, s, inj); err != nil {
		return fmt.Errorf("%s: preflight %s: %w", inj.Member.ID, inj.Kind, err)
	}
	return nil
}

// Inject applies the attack and records in inj.State what its rollback
// needs.
func (e *Executor) Inject(ctx context.Context, inj *targets.Injection) (targets.Result, error) {
	a, s, err := e.step(ctx, *inj)
	if err != nil {
		return targets.Result{Err: err.Error()}, err
	}
	if inj.State == nil {
		inj.State = map[string]string{}
	}
	res, err := a.inject(ctx, e, s, inj)
	if err != nil {
		err = fmt.Errorf("%s: inject %s: %w", inj.Member.ID, inj.Kind, err)
		res.Err = err.Error()
	}
	return res, err
}

// Rollback reverts the attack from the journalled injection alone. It is
// idempotent: what was never applied, or is already reverted, succeeds.
func (e *Executor) Rollback(ctx context.Context, inj targets.Injection) (targets.Result, error) {
	a, s, err := e.step(ctx, inj)
	if err != nil {
		return targets.Result{Err: err.Error()}, err
	}
	res, err := a.rollback(ctx, e, s, inj)
	if err != nil {
		err = fmt.Errorf("%s: rollback %s: %w", inj.Member.ID, inj.Kind, err)
		res.Err = err.Error()
	}
	return res, err
}

// Plan lists the API calls Preflight, Inject and Rollback would make.
func (e *Executor) Plan(inj targets.Injection) []string {
	a, err := e.kind(inj)
	if err != nil {
		return []string{fmt.Sprintf("aws %s: cannot plan: %v", inj.Member.ID, err)}
	}
	m := inj.Member
	at := fmt.Sprintf("account %s, %s", m.Labels[LabelAccount], where{Profile: m.Labels[LabelProfile], Region: m.Labels[LabelRegion], Endpoint: m.Labels[LabelEndpoint]})
	out := []string{fmt.Sprintf("aws %s preflight: sts GetCallerIdentity (expect %s)", m.ID, at)}
	for _, l := range a.plan(e, inj) {
		out = append(out, fmt.Sprintf("aws %s %s", m.ID, l))
	}
	return out
}

// bound returns ctx limited to the executor's Wait unless it already ends
// sooner.
func (e *Executor) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok && time.Until(d) <= e.opts.Wait {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, e.opts.Wait)
}

// sleep waits one poll interval; false means ctx ended first.
func (e *Executor) sleep(ctx context.Context) bool {
	t := time.NewTimer(e.opts.Poll)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
