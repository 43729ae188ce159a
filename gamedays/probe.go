package gamedays

import (
	"context"
	"fmt"
	"strings"

	"github.com/gameday/gameday/targets"
)

// maxProbeLines bounds how many failures the probe's reason lists; the rest
// are counted.
const maxProbeLines = 10

// probe reaches every member that any attack may land on, once, before the
// baseline, through executors that can (targets.Prober): host keys,
// authentication and sudo are checked while nobody is waiting on them yet.
// It returns why the run cannot go on, or "".
func (e *Engine) probe(ctx context.Context) string {
	var failures []string
	probed := 0
	for _, t := range e.attackedTargets() {
		prober, ok := e.opts.Executors[t.Family()].(targets.Prober)
		res := e.opts.Resolvers[t.Family()]
		if !ok || res == nil {
			continue
		}
		members, err := res.Resolve(ctx, t)
		if err != nil {
			failures = append(failures, fmt.Sprintf("resolve target %s: %v", t.Name, err))
			continue
		}
		probed += len(members)
		for _, err := range prober.Probe(ctx, members) {
			failures = append(failures, err.Error())
		}
	}
	if probed == 0 && len(failures) == 0 {
		return ""
	}
	ok := len(failures) == 0
	if ok {
		e.emit(Event{Type: EvProbe, OK: &ok, Msg: fmt.Sprintf("all %d member(s) reachable", probed)})
		return ""
	}
	shown := failures
	if len(shown) > maxProbeLines {
		shown = append(shown[:maxProbeLines:maxProbeLines], fmt.Sprintf("and %d more", len(failures)-maxProbeLines))
	}
	msg := fmt.Sprintf("%d problem(s) reaching the members before the baseline, so nothing was measured or injected: %s", len(failures), strings.Join(shown, "; "))
	e.emit(Event{Type: EvProbe, OK: &ok, Msg: msg})
	return msg
}
