package targetstest

import (
	"context"
	"fmt"
	"net"

	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

// Resolver resolves a runbook target to one member per ssh host it lists,
// in the runbook's order, without looking anything up.
type Resolver struct {
	// Port, when set, gives each member the address host:Port that an SSH
	// executor would dial; otherwise Addr is left empty.
	Port string
}

// Resolve lists t's ssh hosts as members; a target of another family is
// an error.
func (r Resolver) Resolve(ctx context.Context, t runbook.Target) ([]targets.Member, error) {
	if t.SSH == nil {
		return nil, fmt.Errorf("resolve target %q: not an ssh target", t.Name)
	}
	var out []targets.Member
	for _, h := range t.SSH.Hosts {
		m := targets.Member{Target: t.Name, ID: h}
		if r.Port != "" {
			m.Addr = net.JoinHostPort(h, r.Port)
		}
		out = append(out, m)
	}
	return out, nil
}
