package runbook

import "time"

// KindInfo is what the validator needs to know about an attack kind. The
// catalogue itself lives in package targets; runbook only sees it through
// Catalogue so the document format does not depend on how attacks are made.
type KindInfo struct {
	Name         string
	Family       string   // target family it runs on: "ssh" or "aws"
	Resources    []string // for aws kinds: resource types it accepts, e.g. ec2:instance
	Irreversible bool     // cannot be rolled back; needs allow_irreversible: true
	MaxDuration  time.Duration
	// FIS is the FIS action the kind compiles to under engine: fis, e.g.
	// aws:ec2:stop-instances; empty when FIS has none.
	FIS string
}

// ParamProblem is one thing wrong with an attack's params.
type ParamProblem struct {
	Param   string // the param concerned
	Unknown bool   // the param name is not one the kind takes
	Missing bool   // a required param is absent
	Msg     string // what was expected
}

// Catalogue answers questions about attack kinds.
type Catalogue interface {
	Kind(name string) (KindInfo, bool)
	KindNames() []string
	CheckParams(kind string, params map[string]string) []ParamProblem
}
