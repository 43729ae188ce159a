package runbook

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Defaults applied where a runbook is silent.
const (
	DefaultStep         = 5 * time.Second
	DefaultQueryTimeout = 10 * time.Second
	DefaultAbortTimeout = 60 * time.Second
)

// Load reads and validates the runbook at path.
func Load(path string, cat Catalogue) (*Runbook, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read runbook: %w", err)
	}
	return Parse(path, data, cat)
}

// Parse decodes and validates a runbook. Every problem is reported, in file
// order, as an ErrorList. With a nil catalogue, attack kinds are not checked.
func Parse(file string, data []byte, cat Catalogue) (*Runbook, error) {
	doc, err := decodeDocument(file, data)
	if err != nil {
		return nil, err
	}
	if doc == nil {
		return nil, ErrorList{{File: file, Line: 1, Col: 1, Msg: "the runbook is empty; start from `gameday new NAME`"}}
	}
	l := &loader{decoder: decoder{file: file}, cat: cat, rb: &Runbook{File: file}, badPanels: map[string]bool{}}
	l.document(doc)
	if len(l.errs) > 0 {
		l.errs.sort()
		return nil, l.errs
	}
	return l.rb, nil
}

type loader struct {
	decoder
	cat       Catalogue
	rb        *Runbook
	badPanels map[string]bool // panels already reported, so checks on them do not pile on
}

// document decodes the top level. Sections are decoded in dependency order
// (panels and targets before what refers to them); errors are sorted later.
func (l *loader) document(n *yaml.Node) {
	spec := schemaTree()
	sections := map[string]*yaml.Node{}
	keys := l.object(n, spec, "runbook", func(key string, _, v *yaml.Node) { sections[key] = v })
	rb := l.rb
	l.header(sections)
	l.measurement(n, sections, spec, len(keys) > 0)
	l.actions(sections, spec)
	l.participants(sections, spec)
	l.defaults()
	if v := sections["observe"]; v != nil && len(rb.Attacks) > 0 {
		if end := rb.AttacksEnd(); rb.Observe.Duration > 0 && rb.Observe.Duration < end {
			l.errorf(v, "observe.duration: %s ends before the last attack does (%s after the run starts); make it at least %s or leave it out", FormatDuration(rb.Observe.Duration), FormatDuration(end), FormatDuration(end))
		}
	}
}

// header reads what names the runbook.
func (l *loader) header(sections map[string]*yaml.Node) {
	rb := l.rb
	if v := sections["version"]; v != nil {
		if rb.Version = int(l.integer(v, "version", 0, 1<<31)); rb.Version != Version && rb.Version != 0 {
			l.errorf(v, "version: this gameday reads version %d runbooks, found %d", Version, rb.Version)
		}
	}
	if v := sections["name"]; v != nil {
		rb.Name = l.nonEmpty(v, "name")
	}
	if v := sections["description"]; v != nil {
		rb.Description = l.str(v, "description")
	}
	if v := sections["tags"]; v != nil {
		rb.Tags = l.strList(v, "tags")
	}
	if v := sections["notes"]; v != nil {
		rb.Notes = l.str(v, "notes")
	}
}

// measurement reads where the truth comes from and what must hold: the
// metrics, the targets (which the checks do not need, but what follows
// does), the baseline, the hypothesis and the guardrails.
func (l *loader) measurement(n *yaml.Node, sections map[string]*yaml.Node, spec *field, any bool) {
	if v := sections["metrics"]; v != nil {
		l.metrics(v, spec.child("metrics"))
	} else if any {
		l.errorf(n, "runbook: missing required field \"metrics\" (where to read the system's truth)")
	}
	if v := sections["targets"]; v != nil {
		l.targets(v, spec.child("targets"))
	}
	if v := sections["baseline"]; v != nil {
		l.baseline(v, spec.child("baseline"))
	} else {
		l.errorf(n, "runbook: missing required field \"baseline\" (steady state measured before anything is injected)")
	}
	if v := sections["hypothesis"]; v != nil {
		l.hypothesis(v, spec.child("hypothesis"))
	} else {
		l.errorf(n, "runbook: missing required field \"hypothesis\" (what the team expects while attacks run)")
	}
	if v := sections["guardrails"]; v != nil {
		l.guardrails(v)
	}
}

// actions reads what will be done: the blast radius, the attacks, how
// long to watch and how to stop.
func (l *loader) actions(sections map[string]*yaml.Node, spec *field) {
	rb := l.rb
	blastNodes := map[string]*yaml.Node{}
	if v := sections["blast_radius"]; v != nil {
		blastNodes = l.blastRadius(v, spec.child("blast_radius"))
	}
	if v := sections["attacks"]; v != nil {
		l.attacks(v, spec.child("attacks"), sections["blast_radius"], blastNodes)
		l.checkStages()
	}
	if v := sections["observe"]; v != nil {
		l.object(v, spec.child("observe"), "observe", func(_ string, _, v *yaml.Node) {
			rb.Observe.Duration = l.duration(v, "observe.duration", false)
		})
	}
	if v := sections["abort"]; v != nil {
		l.object(v, spec.child("abort"), "abort", func(key string, _, v *yaml.Node) {
			switch key {
			case "timeout":
				rb.Abort.Timeout = l.duration(v, "abort.timeout", false)
			case "on_inject_failure":
				rb.Abort.OnInjectFailure = l.injectFailure(v)
			}
		})
	}
}

// participants reads who takes part and what they are held to: roles, the SLO,
// the drill and the alerts (after the attacks: an expected alert may name
// one).
func (l *loader) participants(sections map[string]*yaml.Node, spec *field) {
	if v := sections["roles"]; v != nil {
		l.roles(v, spec.child("roles"))
	}
	if v := sections["slo"]; v != nil {
		l.slo(v, spec.child("slo"))
	}
	if v := sections["drill"]; v != nil {
		l.drill(v, spec.child("drill"))
	}
	if v := sections["alerts"]; v != nil {
		l.alerts(v, spec.child("alerts"))
	}
}

// injectFailure reads abort.on_inject_failure: what a failed inject does.
func (l *loader) injectFailure(n *yaml.Node) string {
	v := l.str(n, "abort.on_inject_failure")
	switch v {
	case OnInjectFailureAbort, OnInjectFailureContinue:
		return v
	case "":
		return OnInjectFailureAbort
	}
	l.errorf(n, "abort.on_inject_failure: expected %s or %s, found %q", OnInjectFailureAbort, OnInjectFailureContinue, v)
	return OnInjectFailureAbort
}

func (l *loader) defaults() {
	m := &l.rb.Metrics
	if m.Step == 0 {
		m.Step = DefaultStep
	}
	if m.Poll == 0 {
		m.Poll = m.Step
	}
	if m.Timeout == 0 {
		m.Timeout = DefaultQueryTimeout
	}
	if l.rb.Abort.OnInjectFailure == "" {
		l.rb.Abort.OnInjectFailure = OnInjectFailureAbort
	}
	if l.rb.Abort.Timeout == 0 {
		l.rb.Abort.Timeout = DefaultAbortTimeout
	}
	if l.rb.Observe.Duration == 0 {
		l.rb.Observe.Duration = l.rb.AttacksEnd()
	}
}

// AttacksEnd is how long after the run starts the last attack ends.
func (r *Runbook) AttacksEnd() time.Duration {
	var end time.Duration
	for _, a := range r.Attacks {
		end = max(end, a.StartAfter+a.Duration)
	}
	return end
}

func (l *loader) metrics(n *yaml.Node, spec *field) {
	m := &l.rb.Metrics
	l.object(n, spec, "metrics", func(key string, k, v *yaml.Node) {
		what := "metrics." + key
		switch key {
		case "url":
			m.URL = l.httpURL(v, what)
		case "step":
			if m.Step = l.duration(v, what, false); m.Step > 0 && m.Step < time.Second {
				l.errorf(v, "%s: expected at least 1s, found %s", what, FormatDuration(m.Step))
			}
		case "poll":
			m.Poll = l.duration(v, what, false)
		case "timeout":
			m.Timeout = l.duration(v, what, false)
		case "auth":
			l.auth(v, spec.child("auth"))
		case "panels":
			l.panels(v, spec.child("panels"))
		}
	})
}

func (l *loader) httpURL(n *yaml.Node, what string) string {
	s := l.nonEmpty(n, what)
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		l.errorf(n, "%s: expected an http:// or https:// URL with a host, found %q", what, s)
	}
	return s
}

func (l *loader) auth(n *yaml.Node, spec *field) {
	a := &l.rb.Metrics.Auth
	got := l.object(n, spec, "metrics.auth", func(key string, _, v *yaml.Node) {
		what := "metrics.auth." + key
		switch key {
		case "username":
			a.Username = l.nonEmpty(v, what)
		case "password_file":
			a.PasswordFile = l.nonEmpty(v, what)
		case "bearer_token_file":
			a.BearerTokenFile = l.nonEmpty(v, what)
		case "headers":
			a.Headers = l.strMap(v, what)
		case "tls":
			l.object(v, spec.child("tls"), what, func(key string, _, v *yaml.Node) {
				what := what + "." + key
				switch key {
				case "ca_file":
					a.CAFile = l.nonEmpty(v, what)
				case "cert_file":
					a.CertFile = l.nonEmpty(v, what)
				case "key_file":
					a.KeyFile = l.nonEmpty(v, what)
				case "insecure_skip_verify":
					a.InsecureSkipTLS = l.boolean(v, what)
				}
			})
			if (a.CertFile == "") != (a.KeyFile == "") {
				l.errorf(v, "%s: cert_file and key_file go together; give both or neither", what)
			}
		case "sigv4":
			l.object(v, spec.child("sigv4"), what, func(key string, _, v *yaml.Node) {
				if key == "region" {
					a.SigV4Region = l.nonEmpty(v, what+".region")
				} else {
					a.SigV4Profile = l.nonEmpty(v, what+".profile")
				}
			})
		}
	})
	if (got["password_file"] != nil) != (got["username"] != nil) {
		l.errorf(n, "metrics.auth: username and password_file go together for basic auth")
	}
	schemes := 0
	for _, k := range []string{"username", "bearer_token_file", "sigv4"} {
		if got[k] != nil {
			schemes++
		}
	}
	if schemes > 1 {
		l.errorf(n, "metrics.auth: choose one of basic auth (username), bearer_token_file or sigv4")
	}
}

func (l *loader) panels(n *yaml.Node, spec *field) {
	ps, _ := l.pairs(n, "metrics.panels")
	for _, p := range ps {
		name := p.k.Value
		what := "metrics.panels." + name
		if !panelName.MatchString(name) {
			l.errorf(p.k, "metrics.panels: panel name %q must be lower case letters, digits and _ , starting with a letter", name)
		}
		if name == "metrics_blind" {
			l.errorf(p.k, "metrics.panels: %q is reserved for the guardrail of that name", name)
		}
		panel := Panel{Name: name, Title: name, Pos: pos(p.k)}
		l.object(p.v, spec.Elem, what, func(key string, _, v *yaml.Node) {
			switch key {
			case "query":
				panel.Query = l.nonEmpty(v, what+".query")
			case "unit":
				u := l.str(v, what+".unit")
				if !slices.Contains(panelUnits, u) {
					l.badPanels[name] = true
					l.errorf(v, "%s.unit: expected one of %s (or leave it out for a plain number), found %q", what, strings.Join(panelUnits, ", "), u)
				}
				panel.Unit = Unit(u)
			case "title":
				panel.Title = l.nonEmpty(v, what+".title")
			case "by":
				panel.By = l.nonEmpty(v, what+".by")
			}
		})
		l.rb.Metrics.Panels = append(l.rb.Metrics.Panels, panel)
	}
	if len(ps) == 0 {
		l.errorf(n, "metrics.panels: expected at least one panel, e.g. p95: {query: '...', unit: seconds}")
	}
}

// checks decodes `panel: threshold` entries. relative and forOK say what the
// section allows.
func (l *loader) checks(ps []pair, what string, relative, forOK bool) []Check {
	var out []Check
	for _, p := range ps {
		name := p.k.Value
		panel, ok := l.rb.Panel(name)
		if !ok && len(l.rb.Metrics.Panels) > 0 {
			msg := fmt.Sprintf("%s: no panel named %q", what, name)
			if s := Closest(name, l.panelNames()); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			if len(l.rb.Metrics.Panels) > 0 {
				msg += "; panels are: " + strings.Join(l.panelNames(), ", ")
			}
			l.errorf(p.k, "%s", msg)
		}
		text, ok2 := l.scalar(p.v, what+"."+name, `a threshold such as "< 300ms" or "> 10% for 15s"`)
		if !ok2 {
			continue
		}
		t, err := ParseThreshold(text)
		if err != nil {
			var te *ThresholdError
			col := p.v.Column
			if errors.As(err, &te) {
				if p.v.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
					col++
				}
				col += te.Col - 1
				err = errors.New(te.Msg)
			}
			l.errs = append(l.errs, Error{File: l.file, Line: p.v.Line, Col: col, Msg: fmt.Sprintf("%s.%s: %v", what, name, err)})
			continue
		}
		switch {
		case t.Relative() && !relative:
			l.errorf(p.v, "%s.%s: %q is relative to the baseline, which this section defines; use an absolute value such as \"< 300ms\"", what, name, text)
		case t.For > 0 && !forOK:
			l.errorf(p.v, "%s.%s: \"for\" only applies to guardrails; write the threshold without it", what, name)
		}
		if ok && !l.badPanels[name] {
			if err := t.Compatible(panel.Unit); err != nil {
				l.errorf(p.v, "%s.%s: %v", what, name, err)
			}
		}
		out = append(out, Check{Panel: name, Threshold: t, Pos: pos(p.v)})
	}
	return out
}

func (l *loader) panelNames() []string {
	out := make([]string, len(l.rb.Metrics.Panels))
	for i, p := range l.rb.Metrics.Panels {
		out[i] = p.Name
	}
	return out
}

func (l *loader) baseline(n *yaml.Node, spec *field) {
	b := &l.rb.Baseline
	l.object(n, spec, "baseline", func(key string, _, v *yaml.Node) {
		switch key {
		case "duration":
			b.Duration = l.duration(v, "baseline.duration", false)
		case "steady_state":
			ps, _ := l.pairs(v, "baseline.steady_state")
			b.SteadyState = l.checks(ps, "baseline.steady_state", false, false)
		}
	})
}

func (l *loader) hypothesis(n *yaml.Node, spec *field) {
	h := &l.rb.Hypothesis
	got := l.object(n, spec, "hypothesis", func(key string, _, v *yaml.Node) {
		switch key {
		case "statement":
			h.Statement = l.nonEmpty(v, "hypothesis.statement")
		case "expect":
			ps, _ := l.pairs(v, "hypothesis.expect")
			h.Expect = l.checks(ps, "hypothesis.expect", true, false)
		}
	})
	if got["expect"] == nil && len(l.rb.Metrics.Panels) > 0 {
		l.errorf(n, "hypothesis: missing \"expect\": without a measurable expectation the hypothesis can neither hold nor be refuted")
	}
}

func (l *loader) guardrails(n *yaml.Node) {
	g := &l.rb.Guardrails
	ps, _ := l.pairs(n, "guardrails")
	var checks []pair
	for _, p := range ps {
		if p.k.Value == "metrics_blind" {
			g.MetricsBlind = l.duration(p.v, "guardrails.metrics_blind", false)
			continue
		}
		checks = append(checks, p)
	}
	g.Checks = l.checks(checks, "guardrails", true, true)
}

var (
	hostPattern    = regexp.MustCompile(`^[A-Za-z0-9_]([A-Za-z0-9._:%-]*[A-Za-z0-9_\]])?$|^\[[0-9A-Fa-f:.]+\]$`)
	regionPattern  = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]+$`)
	accountPattern = regexp.MustCompile(`^[0-9]{12}$`)
	targetName     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
)

func (l *loader) targets(n *yaml.Node, spec *field) {
	ps, _ := l.pairs(n, "targets")
	if len(ps) == 0 {
		l.errorf(n, "targets: expected at least one target, e.g. web: {ssh: {hosts: [web-1]}}")
	}
	for _, p := range ps {
		name := p.k.Value
		what := "targets." + name
		if !targetName.MatchString(name) {
			l.errorf(p.k, "targets: target name %q must be letters, digits, '.', '_' or '-'", name)
		}
		t := Target{Name: name, Pos: pos(p.k)}
		got := l.object(p.v, spec.Elem, what, func(key string, _, v *yaml.Node) {
			if key == "ssh" {
				t.SSH = l.sshTarget(v, spec.Elem.child("ssh"), what+".ssh")
			} else {
				t.AWS = l.awsTarget(v, spec.Elem.child("aws"), what+".aws")
			}
		})
		if len(got) != 1 {
			l.errorf(p.v, "%s: expected exactly one of ssh or aws", what)
		}
		l.rb.Targets = append(l.rb.Targets, t)
	}
}

func (l *loader) sshTarget(n *yaml.Node, spec *field, what string) *SSHTarget {
	s := &SSHTarget{}
	l.object(n, spec, what, func(key string, _, v *yaml.Node) {
		switch key {
		case "hosts":
			s.Hosts = l.strList(v, what+".hosts")
			seen := map[string]bool{}
			for i, h := range s.Hosts {
				item := resolve(v).Content[i]
				if !hostPattern.MatchString(h) {
					l.errorf(item, "%s.hosts[%d]: %q is not a host name or address", what, i, h)
				}
				if seen[h] {
					l.errorf(item, "%s.hosts[%d]: %q is listed twice", what, i, h)
				}
				seen[h] = true
			}
			if len(s.Hosts) == 0 && resolve(v).Kind == yaml.SequenceNode {
				l.errorf(v, "%s.hosts: expected at least one host", what)
			}
		case "user":
			s.User = l.nonEmpty(v, what+".user")
		case "port":
			s.Port = int(l.integer(v, what+".port", 1, 65535))
		case "sudo":
			s.Sudo = l.boolean(v, what+".sudo")
		case "jump":
			s.Jump = l.nonEmpty(v, what+".jump")
		case "config":
			s.Config = l.nonEmpty(v, what+".config")
		}
	})
	return s
}

func (l *loader) awsTarget(n *yaml.Node, spec *field, what string) *AWSTarget {
	a := &AWSTarget{}
	got := l.object(n, spec, what, func(key string, _, v *yaml.Node) {
		w := what + "." + key
		switch key {
		case "region":
			if a.Region = l.nonEmpty(v, w); a.Region != "" && !regionPattern.MatchString(a.Region) {
				l.errorf(v, "%s: expected an AWS region such as us-east-1, found %q", w, a.Region)
			}
		case "resource":
			if a.Resource = l.str(v, w); !slices.Contains(resourceTypes, a.Resource) {
				l.errorf(v, "%s: expected one of %s, found %q", w, strings.Join(resourceTypes, ", "), a.Resource)
			}
		case "tags":
			a.Tags = l.strMap(v, w)
		case "filters":
			ps, _ := l.pairs(v, w)
			a.Filters = map[string][]string{}
			for _, p := range ps {
				a.Filters[p.k.Value] = l.strList(p.v, w+"."+p.k.Value)
			}
		case "ids":
			a.IDs = l.strList(v, w)
		case "accounts":
			a.Accounts = l.strList(v, w)
			for i, acct := range a.Accounts {
				if !accountPattern.MatchString(acct) {
					l.errorf(resolve(v).Content[i], "%s[%d]: expected a 12-digit AWS account id, found %q", w, i, acct)
				}
			}
			if len(a.Accounts) == 0 && resolve(v).Kind == yaml.SequenceNode {
				l.errorf(v, "%s: expected at least one account; gameday touches no account not listed here", w)
			}
		case "endpoint":
			a.Endpoint = l.httpURL(v, w)
		case "profile":
			a.Profile = l.nonEmpty(v, w)
		case "max_members":
			a.MaxMembers = int(l.integer(v, w, 1, 1<<31))
		case "engine":
			a.Engine, a.EnginePos = l.engine(v, w), pos(v)
		case "fis_role":
			if a.FISRole = l.nonEmpty(v, w); a.FISRole != "" && !roleARN.MatchString(a.FISRole) {
				l.errorf(v, "%s: expected an IAM role ARN such as arn:aws:iam::123456789012:role/gameday-fis, found %q", w, a.FISRole)
			}
		case "stop_alarms":
			a.StopAlarms = l.strList(v, w)
			for i, arn := range a.StopAlarms {
				if !alarmARN.MatchString(arn) {
					l.errorf(resolve(v).Content[i], "%s[%d]: expected a CloudWatch alarm ARN such as arn:aws:cloudwatch:us-east-1:123456789012:alarm:checkout-p95, found %q", w, i, arn)
				}
			}
		}
	})
	l.awsSelector(n, got, a, what)
	return a
}

func (l *loader) blastRadius(n *yaml.Node, spec *field) map[string]*yaml.Node {
	ps, _ := l.pairs(n, "blast_radius")
	l.rb.BlastRadius = map[string]BlastRadius{}
	nodes := map[string]*yaml.Node{}
	for _, p := range ps {
		name := p.k.Value
		what := "blast_radius." + name
		nodes[name] = p.k
		if _, ok := l.rb.Target(name); !ok {
			l.noTarget(p.k, "blast_radius", name)
		}
		b := BlastRadius{Pos: pos(p.k)}
		got := l.object(p.v, spec.Elem, what, func(key string, _, v *yaml.Node) {
			w := what + "." + key
			switch key {
			case "count":
				b.Count = int(l.integer(v, w, 1, 1<<31))
			case "percent":
				b.Percent = l.number(v, w, 0, 100)
			case "all":
				if b.All = l.boolean(v, w); !b.All {
					l.errorf(v, "%s: all: false selects nothing; use count or percent instead", w)
				}
			case "max":
				b.Max = int(l.integer(v, w, 1, 1<<31))
			case "seed":
				b.Seed, b.HasSeed = l.integer(v, w, -1<<62, 1<<62), true
			}
		})
		modes := 0
		for _, k := range []string{"count", "percent", "all"} {
			if got[k] != nil {
				modes++
			}
		}
		if modes != 1 {
			l.errorf(p.v, "%s: expected exactly one of count, percent or all: true", what)
		}
		if got["count"] != nil && got["max"] != nil {
			l.errorf(got["max"], "%s.max: max only narrows percent or all; count is already exact", what)
		}
		l.rb.BlastRadius[name] = b
	}
	return nodes
}

func (l *loader) noTarget(n *yaml.Node, what, name string) {
	names := make([]string, len(l.rb.Targets))
	for i, t := range l.rb.Targets {
		names[i] = t.Name
	}
	msg := fmt.Sprintf("%s: no target named %q", what, name)
	if s := Closest(name, names); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	if len(names) > 0 {
		msg += "; targets are: " + strings.Join(names, ", ")
	}
	l.errorf(n, "%s", msg)
}

func (l *loader) attacks(n *yaml.Node, spec *field, blastSection *yaml.Node, blastNodes map[string]*yaml.Node) {
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		l.errorf(n, "attacks: expected a list of attacks (- name: ...), found %s", describe(n))
		return
	}
	if len(n.Content) == 0 {
		l.errorf(n, "attacks: expected at least one attack")
	}
	names := map[string]int{}
	attacked := map[string]bool{}
	for i, item := range n.Content {
		a, at, what := l.attack(item, i, spec, names)
		if at.stages != nil {
			l.stages(&a, what, at.stages, spec.Elem.child("stages"), at.start)
		}
		var target Target
		targetOK := false
		if at.target != nil && a.Target != "" {
			target, targetOK = l.attackTarget(a, what, at.target, attacked, blastSection, blastNodes)
		}
		if at.kind != nil && a.Kind != "" && l.cat != nil {
			l.checkKind(a, what, target, targetOK, at.kind, at.paramsKey, at.duration, at.params)
		}
		if targetOK {
			a.Engine = l.checkEngine(a, what, target, at.engine)
		}
		l.rb.Attacks = append(l.rb.Attacks, a)
	}
}

// attackNodes are where an attack's fields were written, for errors that
// name them.
type attackNodes struct {
	kind, target, paramsKey, duration, stages, start, engine *yaml.Node
	params                                                   []pair
}

// attack reads one attack's fields; what names it in errors.
func (l *loader) attack(item *yaml.Node, i int, spec *field, names map[string]int) (Attack, attackNodes, string) {
	what := fmt.Sprintf("attacks[%d]", i)
	a := Attack{Pos: pos(item)}
	var at attackNodes
	l.object(item, spec.Elem, what, func(key string, k, v *yaml.Node) {
		w := what + "." + key
		switch key {
		case "name":
			a.Name = l.nonEmpty(v, w)
			if line, dup := names[a.Name]; dup && a.Name != "" {
				l.errorf(v, "%s: attack name %q is already used at line %d", w, a.Name, line)
			}
			names[a.Name] = v.Line
		case "target":
			a.Target, at.target = l.nonEmpty(v, w), v
		case "kind":
			a.Kind, at.kind = l.nonEmpty(v, w), v
		case "params":
			at.paramsKey = k
			at.params, _ = l.pairs(v, w)
			a.Params = map[string]string{}
			for _, p := range at.params {
				if s, ok := l.scalar(p.v, w+"."+p.k.Value, "a single value"); ok {
					a.Params[p.k.Value] = s
				}
			}
		case "start_after":
			a.StartAfter, at.start = l.duration(v, w, true), v
		case "duration":
			a.Duration, at.duration = l.duration(v, w, false), v
		case "allow_irreversible":
			a.AllowIrreversible = l.boolean(v, w)
		case "engine":
			a.Engine, at.engine = l.engine(v, w), v
		case "stages":
			at.stages = v
		}
	})
	if a.Name != "" {
		what = fmt.Sprintf("attack %q", a.Name)
	}
	return a, at, what
}

// attackTarget finds the attack's target and checks, the first time a
// target is attacked, that it has a blast radius.
func (l *loader) attackTarget(a Attack, what string, targetNode *yaml.Node, attacked map[string]bool, blastSection *yaml.Node, blastNodes map[string]*yaml.Node) (Target, bool) {
	target, ok := l.rb.Target(a.Target)
	if !ok {
		l.noTarget(targetNode, what+": target", a.Target)
		return target, false
	}
	if !attacked[a.Target] {
		attacked[a.Target] = true
		if blastNodes[a.Target] == nil {
			at := targetNode
			if blastSection != nil {
				at = blastSection
			}
			l.errorf(at, "blast_radius: target %q is attacked by %s but has no blast radius; add %s: {count: 1} (or percent, or all: true)", a.Target, what, a.Target)
		}
	}
	return target, true
}

func (l *loader) checkKind(a Attack, what string, target Target, targetOK bool, kindNode, paramsNode, durationNode *yaml.Node, params []pair) {
	info, ok := l.cat.Kind(a.Kind)
	if !ok {
		msg := fmt.Sprintf("%s: unknown attack kind %q", what, a.Kind)
		if s := Closest(a.Kind, l.cat.KindNames()); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		msg += "; run `gameday kinds` or see docs/attacks.md for the list"
		l.errorf(kindNode, "%s", msg)
		return
	}
	if targetOK {
		if fam := target.Family(); fam != info.Family {
			l.errorf(kindNode, "%s: kind %s runs on %s targets, but target %q is an %s target", what, a.Kind, info.Family, target.Name, fam)
		} else if target.AWS != nil && len(info.Resources) > 0 && !slices.Contains(info.Resources, target.AWS.Resource) {
			l.errorf(kindNode, "%s: kind %s acts on %s, but target %q selects %s", what, a.Kind, strings.Join(info.Resources, " or "), target.Name, target.AWS.Resource)
		}
	}
	if info.Irreversible && !a.AllowIrreversible {
		l.errorf(kindNode, "%s: kind %s cannot be rolled back; add allow_irreversible: true to this attack if you mean it", what, a.Kind)
	}
	if info.MaxDuration > 0 && a.Duration > info.MaxDuration && durationNode != nil {
		l.errorf(durationNode, "%s.duration: %s is longer than kind %s allows (%s)", what, FormatDuration(a.Duration), a.Kind, FormatDuration(info.MaxDuration))
	}
	keyOf := map[string]*yaml.Node{}
	valOf := map[string]*yaml.Node{}
	for _, p := range params {
		keyOf[p.k.Value], valOf[p.k.Value] = p.k, p.v
	}
	problems := l.cat.CheckParams(a.Kind, a.Params)
	var unknown []string
	for _, pr := range problems {
		if pr.Unknown {
			unknown = append(unknown, pr.Param)
		}
	}
	for _, pr := range problems {
		if pr.Missing && misspelling(pr.Param, unknown) {
			continue // the unknown param's message already suggests it
		}
		at := valOf[pr.Param]
		switch {
		case pr.Unknown && keyOf[pr.Param] != nil:
			at = keyOf[pr.Param]
		case pr.Missing || at == nil:
			at = paramsNode
			if at == nil {
				at = kindNode
			}
		}
		l.errorf(at, "%s: %s", what, pr.Msg)
	}
}

func misspelling(param string, unknown []string) bool {
	for _, u := range unknown {
		if Closest(u, []string{param}) == param {
			return true
		}
	}
	return false
}

// FormatDuration writes a duration the way runbooks do: 5m, 1h30m, 90s,
// 250ms; time.Duration's form without the zero tails ("1h", not "1h0m0s"),
// which time.ParseDuration reads back exactly.
func FormatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
