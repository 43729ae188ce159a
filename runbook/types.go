// Package runbook is the game-day document: its types, a strict YAML loader that
// reports every problem with file:line:col, validation against the attack
// catalogue, the threshold grammar, and the built-in scenario library.
package runbook

import "time"

// Version is the only runbook format version this build understands.
const Version = 1

// Pos is a place in the runbook source, 1-based.
type Pos struct {
	Line int `json:"line"`
	Col  int `json:"col"`
}

// Runbook is a parsed, validated game day.
type Runbook struct {
	File        string // where it was read from, for messages
	Version     int
	Name        string
	Description string
	Tags        []string
	Metrics     Metrics
	Baseline    Baseline
	Hypothesis  Hypothesis
	Guardrails  Guardrails
	Targets     []Target // in file order
	BlastRadius map[string]BlastRadius
	Attacks     []Attack
	Observe     Observe
	Abort       Abort
	Roles       Roles
	SLO         *SLO // nil when the runbook sets none
	Drill       Drill
	Notes       string
	Alerts      Alerts
}

// Metrics says where to read the system's truth and what to chart.
type Metrics struct {
	URL     string
	Step    time.Duration // query_range resolution; default 5s
	Poll    time.Duration // how often to ask for new steps; default Step
	Timeout time.Duration // per query; default 10s
	Auth    Auth
	Panels  []Panel // in file order
}

// Auth is how to authenticate to a Prometheus-compatible server.
type Auth struct {
	Username        string
	PasswordFile    string
	BearerTokenFile string
	Headers         map[string]string
	CAFile          string
	CertFile        string
	KeyFile         string
	InsecureSkipTLS bool
	SigV4Region     string // Amazon Managed Prometheus
	SigV4Profile    string
}

// Panel is one chart: a PromQL query and the unit of what it returns.
type Panel struct {
	Name  string
	Title string
	Query string
	Unit  Unit
	By    string // label that splits the panel into one series per value, e.g. instance
	Pos   Pos
}

// Baseline is the steady-state measurement taken before anything is injected.
type Baseline struct {
	Duration    time.Duration
	SteadyState []Check
}

// Hypothesis is what the team believes will hold while attacks run.
type Hypothesis struct {
	Statement string
	Expect    []Check
}

// Guardrails are stop conditions: a breach aborts the game day.
type Guardrails struct {
	Checks       []Check
	MetricsBlind time.Duration // abort when no panel data for this long; 0 = off
}

// Check ties a panel to a threshold.
type Check struct {
	Panel     string
	Threshold Threshold
	Pos       Pos
}

// Target is a named group of places attacks can land.
type Target struct {
	Name string
	SSH  *SSHTarget
	AWS  *AWSTarget
	Pos  Pos
}

// Family is the attack family a target accepts: "ssh" or "aws".
func (t Target) Family() string {
	if t.AWS != nil {
		return "aws"
	}
	return "ssh"
}

// SSHTarget is a list of hosts reached over SSH.
type SSHTarget struct {
	Hosts  []string
	User   string
	Port   int
	Sudo   bool
	Jump   string // ProxyJump, e.g. bastion or user@bastion:22
	Config string // ssh_config file; default ~/.ssh/config
}

// AWSTarget selects AWS resources of one type.
type AWSTarget struct {
	Region   string
	Resource string // e.g. ec2:instance, lambda:function
	Tags     map[string]string
	Filters  map[string][]string
	IDs      []string
	Accounts []string // only these accounts may be touched
	Endpoint string   // custom endpoint (the lab)
	Profile  string
	// MaxMembers is the most members the target may resolve to; 0 means
	// DefaultMaxMembers and the share-of-account limit. See docs/runbook.md.
	MaxMembers int
	// Engine is who carries out this target's attacks: EngineGameday (the
	// default) or EngineFIS. An attack's own engine wins.
	Engine string
	// FISRole is the IAM role FIS assumes for experiments gameday makes
	// (engine: fis).
	FISRole string
	// StopAlarms are CloudWatch alarm ARNs an FIS experiment stops on, the
	// guardrails AWS watches when gameday cannot.
	StopAlarms []string
	// EnginePos is where engine was written, for errors about it.
	EnginePos Pos
}

// Engines that carry out AWS attacks.
const (
	// EngineGameday: gameday makes each call and each rollback itself.
	EngineGameday = "gameday"
	// EngineFIS: gameday compiles the attack into an AWS FIS experiment
	// template, so AWS ends the fault at its duration even if gameday dies.
	EngineFIS = "fis"
)

// DefaultMaxMembers is how many members an aws target may resolve to
// unless its runbook raises max_members.
const DefaultMaxMembers = 50

// BlastRadius narrows a target to the part that is attacked.
type BlastRadius struct {
	Count   int
	Percent float64
	All     bool
	Max     int
	Seed    int64
	HasSeed bool
	Pos     Pos
}

// Attack is one fault injected into one target.
type Attack struct {
	Name              string
	Target            string
	Kind              string
	Params            map[string]string
	StartAfter        time.Duration
	Duration          time.Duration
	AllowIrreversible bool
	// Engine is who carries the attack out (EngineGameday, EngineFIS); the
	// loader fills it from the target when the attack names none.
	Engine string
	// Stages escalate the attack in steps (runbook/stages.go); with them,
	// Duration is the whole escalation.
	Stages []Stage
	Pos    Pos
}

// Observe is the watch period after the attacks start.
type Observe struct {
	Duration time.Duration
}

// Abort tunes the rollback that abort triggers.
type Abort struct {
	Timeout time.Duration // deadline for rolling everything back; default 60s
	// OnInjectFailure is what an inject that fails does: abort (the
	// default: no verdict is given for a fault that did not land) or
	// continue (the verdict then says how many injections applied).
	OnInjectFailure string
}

// What abort.on_inject_failure may say.
const (
	OnInjectFailureAbort    = "abort"
	OnInjectFailureContinue = "continue"
)

// Target returns the target with that name.
func (r *Runbook) Target(name string) (Target, bool) {
	for _, t := range r.Targets {
		if t.Name == name {
			return t, true
		}
	}
	return Target{}, false
}

// Panel returns the panel with that name.
func (r *Runbook) Panel(name string) (Panel, bool) {
	for _, p := range r.Metrics.Panels {
		if p.Name == name {
			return p, true
		}
	}
	return Panel{}, false
}
