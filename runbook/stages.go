package runbook

import (
	"fmt"
	"maps"
	"math"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Stage is one step of an escalating attack: how much of the target it
// hits, the magnitude it hits with, and how long it holds before the
// hypothesis is judged and the next stage begins.
type Stage struct {
	BlastRadius BlastRadius       // count, percent or all; seed and max come from the target's blast_radius
	Params      map[string]string // overrides of the attack's params: the magnitude
	Hold        time.Duration
	Pos         Pos
}

// Stages is how many stages the run escalates through; 0 when no attack
// declares stages. The loader makes every staged attack declare the same
// number.
func (r *Runbook) Stages() int {
	n := 0
	for _, a := range r.Attacks {
		n = max(n, len(a.Stages))
	}
	return n
}

// StageParams is what the attack runs with at stage i (0-based): its own
// params with the stage's overrides, and every earlier stage's, applied.
// A magnitude stays where a stage put it until a later stage changes it.
func (a Attack) StageParams(i int) map[string]string {
	out := maps.Clone(a.Params)
	if out == nil {
		out = map[string]string{}
	}
	for _, st := range a.Stages[:min(i+1, len(a.Stages))] {
		maps.Copy(out, st.Params)
	}
	return out
}

// StageBlastRadius is the blast radius of stage i: the stage's own size
// with the seed and cap of the target's blast_radius, so every stage draws
// from one shuffle and a larger stage contains the smaller ones.
func (r *Runbook) StageBlastRadius(a Attack, i int) BlastRadius {
	br := r.BlastRadius[a.Target]
	st := a.Stages[i].BlastRadius
	br.Count, br.Percent, br.All, br.Pos = st.Count, st.Percent, st.All, st.Pos
	return br
}

func stagesSchema() *field {
	return &field{Name: "stages", Type: "list", Doc: "escalate in steps: each stage widens the blast radius or raises the magnitude; the run stops at the first stage whose expectations fail. See Stages in docs/runbook.md", Elem: obj("", "exactly one of count, percent or all",
		leaf("count", "int", "this many members of the target"),
		leaf("percent", "number", "this share of the target's members, rounded up"),
		leaf("all", "bool", "every member"),
		&field{Name: "params", Type: "map", Doc: "params that change at this stage (the magnitude); the rest are the attack's", Elem: leaf("", "string", "")},
		leaf("hold", "duration", "how long the stage holds before it is judged (default: the attack's duration)"),
	)}
}

// stages decodes an attack's stages. It runs once the attack's own keys are
// read, so params and duration are known; a.Duration becomes the whole
// escalation, which is how long a member hit at the first stage may stay hit.
func (l *loader) stages(a *Attack, what string, n *yaml.Node, spec *field, startAfter *yaml.Node) {
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		l.errorf(n, "%s.stages: expected a list of stages (- {count: 1, hold: 1m}), found %s", what, describe(n))
		return
	}
	if len(n.Content) < 2 {
		l.errorf(n, "%s.stages: expected at least two stages; one stage is the attack's own blast radius", what)
	}
	if startAfter != nil {
		l.errorf(startAfter, "%s.start_after: an attack with stages starts with the run; stage holds set its timing", what)
	}
	hosts := -1 // members the target resolves to, when the runbook says
	if t, ok := l.rb.Target(a.Target); ok && t.SSH != nil {
		hosts = len(t.SSH.Hosts)
	}
	var total time.Duration
	bad := false // the stage before could not be sized: comparing with it would pile on
	for i, item := range n.Content {
		w := fmt.Sprintf("%s.stages[%d]", what, i)
		wasBad := bad
		st, paramNodes, sized := l.stage(*a, w, item, spec, hosts)
		bad = !sized
		a.Stages = append(a.Stages, st)
		total += st.Hold
		if i > 0 && !bad && !wasBad {
			l.escalates(*a, i, w, item, hosts)
		}
		if l.cat != nil && a.Kind != "" && len(st.Params) > 0 {
			l.stageParams(*a, i, w, paramNodes)
		}
	}
	a.Duration = total
}

// escalates checks stage i is no smaller than stage i-1 and changes
// something: hosts already hit stay hit, and a stage that repeats the one
// before tests nothing new.
func (l *loader) escalates(a Attack, i int, w string, at *yaml.Node, hosts int) {
	prev, cur := a.Stages[i-1].BlastRadius, a.Stages[i].BlastRadius
	ps, cs := size(prev, hosts), size(cur, hosts)
	if ps < 0 || cs < 0 {
		return // count against percent of a target whose size only resolution tells: the engine checks
	}
	if cs < ps {
		l.errorf(at, "%s: %s is smaller than stage %d's %s; each stage hits at least the members of the one before", w, brWords(cur), i, brWords(prev))
		return
	}
	if cs == ps && maps.Equal(a.StageParams(i-1), a.StageParams(i)) {
		l.errorf(at, "%s: repeats stage %d (%s, same params); widen the blast radius or change a param", w, i, brWords(cur))
	}
}

// size orders blast radii: a member count when it can be known, otherwise a
// value comparable only within one mode; -1 when the two cannot be compared
// without resolving the target.
func size(br BlastRadius, hosts int) float64 {
	switch {
	case br.All:
		return math.Inf(1)
	case hosts >= 0 && br.Percent > 0:
		return math.Ceil(br.Percent / 100 * float64(hosts))
	case hosts >= 0:
		return float64(br.Count)
	case br.Percent > 0:
		return -1 - br.Percent // compared only with another percent
	}
	return float64(br.Count)
}

func brWords(br BlastRadius) string {
	switch {
	case br.All:
		return "all"
	case br.Percent > 0:
		return fmt.Sprintf("%g%%", br.Percent)
	}
	return fmt.Sprintf("count %d", br.Count)
}

// stage reads one stage; sized is false when its size is wrong, so the
// next stage is not compared with it.
func (l *loader) stage(a Attack, w string, item *yaml.Node, spec *field, hosts int) (st Stage, paramNodes []pair, sized bool) {
	st = Stage{Hold: a.Duration, Pos: pos(item)}
	st.BlastRadius.Pos = st.Pos
	sized = true
	got := l.object(item, spec.Elem, w, func(key string, _, v *yaml.Node) {
		switch key {
		case "count":
			st.BlastRadius.Count = int(l.integer(v, w+".count", 1, 1<<31))
			if hosts >= 0 && st.BlastRadius.Count > hosts {
				l.errorf(v, "%s.count: %d is more than the %d host(s) of target %q", w, st.BlastRadius.Count, hosts, a.Target)
				sized = false
			}
		case "percent":
			st.BlastRadius.Percent = l.number(v, w+".percent", 0, 100)
		case "all":
			if st.BlastRadius.All = l.boolean(v, w+".all"); !st.BlastRadius.All {
				l.errorf(v, "%s.all: all: false selects nothing; use count or percent instead", w)
			}
		case "params":
			paramNodes, _ = l.pairs(v, w+".params")
			st.Params = map[string]string{}
			for _, p := range paramNodes {
				if s, ok := l.scalar(p.v, w+".params."+p.k.Value, "a single value"); ok {
					st.Params[p.k.Value] = s
				}
			}
		case "hold":
			st.Hold = l.duration(v, w+".hold", false)
		}
	})
	modes := 0
	for _, k := range []string{"count", "percent", "all"} {
		if got[k] != nil {
			modes++
		}
	}
	if modes != 1 && len(got) > 0 {
		l.errorf(item, "%s: expected exactly one of count, percent or all: true", w)
		sized = false
	}
	return st, paramNodes, sized
}

// stageParams checks a stage's params against the kind: a param it does not
// take, or a magnitude outside its range, is reported at the stage's own key
// or value.
func (l *loader) stageParams(a Attack, i int, w string, nodes []pair) {
	if _, ok := l.cat.Kind(a.Kind); !ok {
		return // the attack's kind is reported already
	}
	keyOf, valOf := map[string]*yaml.Node{}, map[string]*yaml.Node{}
	for _, p := range nodes {
		keyOf[p.k.Value], valOf[p.k.Value] = p.k, p.v
	}
	for _, pr := range l.cat.CheckParams(a.Kind, a.StageParams(i)) {
		if _, mine := a.Stages[i].Params[pr.Param]; !mine || pr.Missing {
			continue // the attack's own params are checked with the attack
		}
		at := valOf[pr.Param]
		if pr.Unknown {
			at = keyOf[pr.Param]
		}
		l.errorf(at, "%s.params: %s", w, pr.Msg)
	}
}

// checkStages holds the run's stages together: stage i of every staged
// attack runs at the same time, so every attack declares stages, and the
// same number of them.
func (l *loader) checkStages() {
	n := l.rb.Stages()
	if n == 0 {
		return
	}
	var staged []string
	for _, a := range l.rb.Attacks {
		if len(a.Stages) > 0 {
			staged = append(staged, fmt.Sprintf("%q (%d)", a.Name, len(a.Stages)))
		}
	}
	for _, a := range l.rb.Attacks {
		switch {
		case len(a.Stages) == 0:
			l.errorAt(a.Pos, "attack %q: has no stages while %s do; in a staged run every attack declares its stages", a.Name, strings.Join(staged, ", "))
		case len(a.Stages) != n:
			l.errorAt(a.Pos, "attack %q: declares %d stages, but the run has %d; stage i of every attack runs together, so all declare the same number (%s)", a.Name, len(a.Stages), n, strings.Join(staged, ", "))
		}
	}
}
