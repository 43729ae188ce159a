package targets

import (
	"context"
	"time"

	"github.com/gameday/gameday/runbook"
)

// Member is one concrete place an attack can land: a host, an instance, a
// function. The blast radius is a list of members, shown and confirmed before
// anything runs; nothing outside it is touched.
type Member struct {
	Target string            `json:"target"`           // runbook target name
	ID     string            `json:"id"`               // host name, instance id, function name
	Addr   string            `json:"addr,omitempty"`   // what is dialled or called, when it differs from ID
	Labels map[string]string `json:"labels,omitempty"` // az, tags, ... for display and selection
}

// Resolver expands a runbook target into its members.
type Resolver interface {
	Resolve(ctx context.Context, t runbook.Target) ([]Member, error)
}

// Injection is one attack on one member. It carries everything needed to roll
// the attack back from the journal alone: an executor's Rollback must work
// from the fields below even when State is empty (a crash between the
// journalled intent and the result).
type Injection struct {
	RunID    string            `json:"run_id"`
	Attack   string            `json:"attack"` // the runbook attack's name
	Kind     string            `json:"kind"`
	Member   Member            `json:"member"`
	Params   map[string]string `json:"params,omitempty"` // canonical values
	Duration time.Duration     `json:"duration"`
	State    map[string]string `json:"state,omitempty"` // executor extras learnt at inject time
	// Engine is who carries the attack out: "" for the executor itself,
	// "fis" for an AWS FIS experiment the aws executor compiles.
	Engine string `json:"engine,omitempty"`
	// Stage is the escalation stage (1-based) that made this injection; 0
	// in a run without stages. A member re-injected with a new magnitude is
	// a new injection of the new stage.
	Stage int `json:"stage,omitempty"`
}

// Result is what one executor call did on one member.
type Result struct {
	Output string `json:"output,omitempty"` // trimmed, bounded command output
	Err    string `json:"err,omitempty"`
	// Applied is when the fault took effect, as close as the executor can
	// tell (the host's acknowledgement that it is applying, with the switch
	// armed); zero means the call's return.
	Applied time.Time `json:"applied,omitempty"`
	// Expires is when the attack's own bound (dead man's switch, expiring
	// experiment) ends it if nothing else does; zero when it has none.
	Expires time.Time `json:"expires,omitempty"`
	// LinkLost says the executor lost its link to the member after the
	// fault was acknowledged: the fault is applied, but the executor cannot
	// confirm or revert anything until the link is back or Expires passes.
	LinkLost bool `json:"link_lost,omitempty"`
	// Nothing says a rollback had nothing it could undo (a failover, a
	// stopped task, a reboot): it succeeded, but the attack's effect
	// stays, and it must not be shown as reverted.
	Nothing bool `json:"nothing,omitempty"`
	// Gone says a rollback found the fault no longer in place before it
	// reverted anything: something other than gameday ended it (a person,
	// a remediation job, a host reboot). Set only by kinds that can tell
	// and whose fault the system under test does not end by design.
	Gone bool `json:"gone,omitempty"`
}

// Executor applies attacks of one family ("ssh", "aws").
type Executor interface {
	// Preflight checks reachability, privileges and tools without changing anything.
	Preflight(ctx context.Context, inj Injection) error
	// Inject applies the attack. Before it returns successfully, the attack is
	// bounded on its own (a dead man's switch on the host, an expiring
	// experiment) so it ends at Duration plus grace even if gameday dies.
	Inject(ctx context.Context, inj *Injection) (Result, error)
	// Rollback reverts the attack. It is idempotent: rolling back what was
	// never applied, or was already reverted, succeeds.
	Rollback(ctx context.Context, inj Injection) (Result, error)
	// Plan lists the commands or API calls Inject and Rollback would make, for --dry-run.
	Plan(inj Injection) []string
}

// Prober is an executor that can check, before anything else happens, that
// every member it may have to act on can be reached and acted on (for SSH:
// connection, host key, authentication, sudo). Each error names the member
// and the step that failed.
type Prober interface {
	Probe(ctx context.Context, members []Member) []error
}

// Warner is an executor that can say, before anything runs, what an
// injection will do beyond its fault that people must know: that it will
// cut gameday's own link to the member until its dead man's switch fires,
// that nothing reverts it. Each warning is a sentence naming the member.
type Warner interface {
	Warnings(inj Injection) []string
}

// Every calls check every d until it reports done or ctx ends: how an
// executor follows a fault between its inject and its rollback.
func Every(ctx context.Context, d time.Duration, check func() (done bool)) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if check() {
			return
		}
	}
}

// OrDefault gives an executor option its default when it is zero or below:
// the options' zero value works, and no count or interval makes sense under
// one.
func OrDefault[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}
