package targets

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gameday/gameday/runbook"
)

// The target families a kind runs on, as runbook targets spell them.
const (
	FamilySSH = "ssh"
	FamilyAWS = "aws"
)

// Kind describes one attack kind: what it takes and what it needs. How it is
// injected and rolled back lives with the SSH and AWS executors.
type Kind struct {
	Name         string
	Family       string // FamilySSH or FamilyAWS
	Summary      string
	Resources    []string // aws: resource types it acts on, e.g. ec2:instance
	Params       []ParamSpec
	Irreversible bool          // cannot be rolled back; the runbook must opt in
	MaxDuration  time.Duration // longest an attack of this kind may last
	Tools        []string      // programs the host needs, checked by preflight
	// FIS is the AWS FIS action the kind compiles to under engine: fis;
	// empty when FIS has none.
	FIS string

	rules   []rule
	nested  map[string]*Kind  // ssm-command: the Linux kinds it can run
	refused map[string]string // ssm-command: kinds it will not run, and what to use instead
}

// rule checks params against each other once each has parsed on its own;
// check gets the raw params too, so it can tell "absent" from "invalid". doc
// is the rule as docs/attacks.md states it.
type rule struct {
	doc   string
	check func(k *Kind, given map[string]string, v Values) []runbook.ParamProblem
}

// Info is what the runbook validator needs to know about the kind.
func (k *Kind) Info() runbook.KindInfo {
	return runbook.KindInfo{
		Name:         k.Name,
		Family:       k.Family,
		Resources:    slices.Clone(k.Resources),
		Irreversible: k.Irreversible,
		MaxDuration:  k.MaxDuration,
		FIS:          k.FIS,
	}
}

// Param returns the spec of the named param.
func (k *Kind) Param(name string) (*ParamSpec, bool) {
	for i := range k.Params {
		if k.Params[i].Name == name {
			return &k.Params[i], true
		}
	}
	return nil, false
}

// ParamNames lists the params the kind takes, sorted.
func (k *Kind) ParamNames() []string {
	names := make([]string, len(k.Params))
	for i, p := range k.Params {
		names[i] = p.Name
	}
	slices.Sort(names)
	return names
}

// LabResetByHand is what a lab host's rollback of a lab kind says of a
// fault a person ended with the host's reset command: a fault gone before
// its rollback (Result.Gone).
const LabResetByHand = "it was reset by hand"

// LabInPlace and LabNotInPlace are the lines a lab host's NAME --status
// answers with: whether that fault is active there now.
const (
	LabInPlace    = "gameday: in place"
	LabNotInPlace = "gameday: not in place"
)

// LabCommand is the fault command a lab host runs for a lab kind: the kind's
// name without "lab-". It is "" for kinds that are not lab kinds.
func (k *Kind) LabCommand() string {
	if cmd, ok := strings.CutPrefix(k.Name, "lab-"); ok {
		return cmd
	}
	return ""
}

// Nested lists the kinds an ssm-command attack can run, sorted; nil for
// other kinds.
func (k *Kind) Nested() []string {
	if k.nested == nil {
		return nil
	}
	return slices.Sorted(maps.Keys(k.nested))
}

// Parse checks params and returns them parsed, defaults applied. The Values
// are complete only when there are no problems; problems are sorted by param
// name so reports do not change from run to run.
func (k *Kind) Parse(params map[string]string) (Values, []runbook.ParamProblem) {
	v := Values{kind: k.Name, m: map[string]value{}}
	if k.nested == nil {
		kk, probs := k.declared(params)
		probs = append(probs, kk.parseInto(v, params, k.Name, kk.ParamNames())...)
		return v, sortProblems(probs)
	}
	// ssm-command: its own params, then the rest against the kind it runs.
	own, rest := map[string]string{}, map[string]string{}
	for name, raw := range params {
		if _, ok := k.Param(name); ok {
			own[name] = raw
		} else {
			rest[name] = raw
		}
	}
	probs := k.parseInto(v, own, k.Name, nil)
	if attack := strings.ToLower(params["attack"]); k.refused[attack] != "" {
		for i := range probs {
			if probs[i].Param == "attack" {
				probs[i].Msg = fmt.Sprintf("params.attack: %s cannot run through %s, which cannot carry the irreversible opt-in; use %s", attack, k.Name, k.refused[attack])
			}
		}
	}
	if sub := k.nested[v.String("attack")]; sub != nil {
		sub, tprobs := sub.declared(rest)
		label := fmt.Sprintf("%s with attack %s", k.Name, sub.Name)
		takes := append(k.ParamNames(), sub.ParamNames()...)
		slices.Sort(takes)
		probs = append(append(probs, tprobs...), sub.parseInto(v, rest, label, takes)...)
	}
	return v, sortProblems(probs)
}

// declared is the kind with the params its templates declare: custom's
// inject and rollback name their own, run on their own or through
// ssm-command. Other kinds declare none.
func (k *Kind) declared(params map[string]string) (*Kind, []runbook.ParamProblem) {
	if k.Name != "custom" {
		return k, nil
	}
	vars, probs := templateVars(params)
	kk := *k
	kk.Params = append(slices.Clone(k.Params), vars...)
	return &kk, probs
}

// parseInto parses the params k declares into v and reports the rest as
// unknown, suggesting from takes; a nil takes leaves the rest to the caller.
func (k *Kind) parseInto(v Values, params map[string]string, label string, takes []string) []runbook.ParamProblem {
	var probs []runbook.ParamProblem
	for name, raw := range params {
		p, ok := k.Param(name)
		if !ok {
			if takes != nil {
				probs = append(probs, unknownParam(name, label, takes))
			}
			continue
		}
		x, err := p.parse(raw)
		if err != nil {
			probs = append(probs, runbook.ParamProblem{Param: name, Msg: fmt.Sprintf("params.%s: %v", name, err)})
			continue
		}
		v.m[name] = x
	}
	for i := range k.Params {
		p := &k.Params[i]
		if _, given := params[p.Name]; given {
			continue
		}
		switch {
		case p.Required:
			probs = append(probs, runbook.ParamProblem{Param: p.Name, Missing: true,
				Msg: fmt.Sprintf("missing param %q for %s: %s", p.Name, label, p.Help)})
		case p.Default != "":
			if x, err := p.parse(p.Default); err == nil { // checked when the catalogue was built
				v.m[p.Name] = x
			}
		}
	}
	for _, r := range k.rules {
		probs = append(probs, r.check(k, params, v)...)
	}
	return probs
}

func unknownParam(name, label string, takes []string) runbook.ParamProblem {
	msg := fmt.Sprintf("unknown param %s for %s", quote(name), label)
	if s := runbook.Closest(name, takes); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	if len(takes) == 0 {
		msg += "; it takes no params"
	} else {
		msg += "; it takes: " + strings.Join(takes, ", ")
	}
	return runbook.ParamProblem{Param: name, Unknown: true, Msg: msg}
}

func sortProblems(probs []runbook.ParamProblem) []runbook.ParamProblem {
	slices.SortFunc(probs, func(a, b runbook.ParamProblem) int {
		return cmp.Or(cmp.Compare(a.Param, b.Param), cmp.Compare(a.Msg, b.Msg))
	})
	return probs
}

// exactlyOne: process-kill finds its victim by name or by pidfile, and
// guessing which one the author meant would kill the wrong thing.
func exactlyOne(a, b string) rule {
	check := func(k *Kind, given map[string]string, _ Values) []runbook.ParamProblem {
		_, hasA := given[a]
		_, hasB := given[b]
		switch {
		case !hasA && !hasB:
			return []runbook.ParamProblem{{Param: a, Missing: true,
				Msg: fmt.Sprintf("%s needs one of %s or %s, found neither", k.Name, a, b)}}
		case hasA && hasB:
			return []runbook.ParamProblem{{Param: b,
				Msg: fmt.Sprintf("params.%s: %s takes one of %s or %s, found both", b, k.Name, a, b)}}
		}
		return nil
	}
	return rule{fmt.Sprintf("give exactly one of `%s` or `%s`", a, b), check}
}

// atLeastOne: a kind whose params are each optional but which would do
// nothing without any of them.
func atLeastOne(names ...string) rule {
	check := func(k *Kind, given map[string]string, _ Values) []runbook.ParamProblem {
		for _, n := range names {
			if _, ok := given[n]; ok {
				return nil
			}
		}
		return []runbook.ParamProblem{{Param: names[0], Missing: true,
			Msg: fmt.Sprintf("%s needs at least one of %s, found none", k.Name, strings.Join(names, ", "))}}
	}
	return rule{fmt.Sprintf("give at least one of `%s`", strings.Join(names, "`, `")), check}
}

// notAbove: netem refuses jitter larger than the delay it varies.
func notAbove(small, big string) rule {
	check := func(_ *Kind, _ map[string]string, v Values) []runbook.ParamProblem {
		if v.Has(small) && v.Has(big) && v.Duration(small) > v.Duration(big) {
			return []runbook.ParamProblem{{Param: small,
				Msg: fmt.Sprintf("params.%s: expected at most %s (%s), found %s", small, big, v.String(big), quote(v.String(small)))}}
		}
		return nil
	}
	return rule{fmt.Sprintf("`%s` may not exceed `%s`", small, big), check}
}

// fillWithinMax: a fill given as a percentage may not aim past the guard;
// the host enforces the guard on sizes in bytes, which only it can turn
// into a percentage.
func fillWithinMax(size, guard string) rule {
	check := func(_ *Kind, _ map[string]string, v Values) []runbook.ParamProblem {
		if pct, ok := v.Percent(size); ok && v.Has(guard) && pct > v.Float(guard) {
			return []runbook.ParamProblem{{Param: size,
				Msg: fmt.Sprintf("params.%s: expected at most %s (%s), found %s; raise %s to fill that far", size, guard, v.String(guard), quote(v.String(size)), guard)}}
		}
		return nil
	}
	return rule{fmt.Sprintf("a percentage `%s` may not exceed `%s`", size, guard), check}
}

// portNeedsProtocol: a port only means something for tcp or udp, and a rule
// for "all" protocols with a port would match nothing.
func portNeedsProtocol(port, protocol string) rule {
	check := func(_ *Kind, _ map[string]string, v Values) []runbook.ParamProblem {
		if v.Has(port) && v.String(protocol) == "all" {
			return []runbook.ParamProblem{{Param: port,
				Msg: fmt.Sprintf("params.%s: a port needs %s tcp or udp, found %s all", port, protocol, protocol)}}
		}
		return nil
	}
	return rule{fmt.Sprintf("`%s` needs `%s` tcp or udp", port, protocol), check}
}

// Catalogue is the set of attack kinds. It implements runbook.Catalogue and,
// once built, only reads, so one catalogue serves concurrent validations.
type Catalogue struct {
	kinds map[string]*Kind
}

var _ runbook.Catalogue = (*Catalogue)(nil)

// Default builds the catalogue of built-in kinds. Each call returns a fresh
// one, so a caller that adjusts a kind affects nobody else.
func Default() *Catalogue {
	c, err := newCatalogue(builtinKinds()...)
	if err != nil {
		panic("targets: built-in catalogue: " + err.Error()) // a spec typo; the tests catch it
	}
	return c
}

// newCatalogue checks the specs once, so that Parse can trust every default
// and bound.
func newCatalogue(kinds ...*Kind) (*Catalogue, error) {
	c := &Catalogue{kinds: map[string]*Kind{}}
	for _, k := range kinds {
		if err := k.validate(); err != nil {
			return nil, err
		}
		if c.kinds[k.Name] != nil {
			return nil, fmt.Errorf("kind %s declared twice", k.Name)
		}
		c.kinds[k.Name] = k
	}
	return c, nil
}

func (k *Kind) validate() error {
	if k.Name == "" || !only(k.Name, "-") || strings.ToLower(k.Name) != k.Name {
		return fmt.Errorf("kind %q: name must be lower-case letters, digits and '-'", k.Name)
	}
	if k.Family != FamilySSH && k.Family != FamilyAWS {
		return fmt.Errorf("kind %s: family %q", k.Name, k.Family)
	}
	if k.Summary == "" || k.MaxDuration <= 0 {
		return fmt.Errorf("kind %s: needs a summary and a max duration", k.Name)
	}
	if (k.Family == FamilyAWS) != (len(k.Resources) > 0) {
		return fmt.Errorf("kind %s: aws kinds, and only they, list resources", k.Name)
	}
	seen := map[string]bool{}
	for i := range k.Params {
		p := &k.Params[i]
		if seen[p.Name] {
			return fmt.Errorf("kind %s: param %s declared twice", k.Name, p.Name)
		}
		seen[p.Name] = true
		if err := p.validate(); err != nil {
			return fmt.Errorf("kind %s: param %s: %v", k.Name, p.Name, err)
		}
	}
	for name, sub := range k.nested {
		for _, p := range sub.Params {
			if seen[p.Name] {
				return fmt.Errorf("kind %s: param %s clashes with kind %s", k.Name, p.Name, name)
			}
		}
	}
	return nil
}

// validate checks a declaration the catalogue is built from: its name and
// help, that its fields fit its type, then its bounds and default values.
func (p *ParamSpec) validate() error {
	for _, check := range []func() error{p.checkName, p.checkFields, p.checkValues} {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

func (p *ParamSpec) checkName() error {
	switch {
	case p.Name == "" || !only(p.Name, "_") || strings.ToLower(p.Name) != p.Name || p.Name[0] == '_':
		return fmt.Errorf("name must be lower-case letters, digits and '_'")
	case p.Help == "":
		return fmt.Errorf("needs help text")
	}
	return nil
}

// checkFields checks that the fields set are those the type uses.
func (p *ParamSpec) checkFields() error {
	switch {
	case !slices.Contains(Types(), p.Type):
		return fmt.Errorf("unknown type %q", p.Type)
	case (p.Type == TypeEnum || p.Type == TypeList && p.Elem == TypeEnum) != (len(p.Enum) > 0):
		return fmt.Errorf("enum choices belong to enum params and lists of enum, and those need them")
	case p.Type == TypeList && (p.Elem == "" || p.Elem == TypeList || p.Elem == TypeTemplate):
		return fmt.Errorf("list needs an element type other than list or template")
	case p.Type != TypeList && p.Elem != "":
		return fmt.Errorf("element type on a %s", p.Type)
	case p.PercentOf != "" && p.Type != TypeBytes && p.Type != TypeInt:
		return fmt.Errorf("only bytes and int params take percentages")
	case (p.Min != "" || p.Max != "") && !p.ordered():
		return fmt.Errorf("%s params have no bounds", p.Type)
	}
	return nil
}

// checkValues checks the values the declaration writes: bounds that parse
// and are in order, and a default that is itself a valid value.
func (p *ParamSpec) checkValues() error {
	if p.Required && p.Default != "" {
		return fmt.Errorf("a required param has no default")
	}
	lo, hi, err := p.bounds()
	if err != nil {
		return err
	}
	if lo != nil && hi != nil && p.less(*hi, *lo) {
		return fmt.Errorf("min %s is above max %s", p.Min, p.Max)
	}
	if p.Default != "" {
		if _, err := p.parse(p.Default); err != nil {
			return fmt.Errorf("default: %v", err)
		}
	}
	return nil
}

// Spec returns the named kind.
func (c *Catalogue) Spec(name string) (*Kind, bool) {
	k, ok := c.kinds[name]
	return k, ok
}

// Kinds lists every kind, sorted by name.
func (c *Catalogue) Kinds() []*Kind {
	out := make([]*Kind, 0, len(c.kinds))
	for _, name := range c.KindNames() {
		out = append(out, c.kinds[name])
	}
	return out
}

// Kind implements runbook.Catalogue.
func (c *Catalogue) Kind(name string) (runbook.KindInfo, bool) {
	k, ok := c.kinds[name]
	if !ok {
		return runbook.KindInfo{}, false
	}
	return k.Info(), true
}

// KindNames implements runbook.Catalogue; the names are sorted.
func (c *Catalogue) KindNames() []string { return slices.Sorted(maps.Keys(c.kinds)) }

// CheckParams implements runbook.Catalogue: the problems Parse finds.
func (c *Catalogue) CheckParams(kind string, params map[string]string) []runbook.ParamProblem {
	k, ok := c.kinds[kind]
	if !ok {
		return []runbook.ParamProblem{{Msg: fmt.Sprintf("unknown attack kind %s", quote(kind))}}
	}
	_, probs := k.Parse(params)
	return probs
}
