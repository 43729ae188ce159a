// Package draft writes a new runbook from a built-in scenario and what
// `gameday new` found on the user's own systems: panel queries, thresholds
// derived from data, hosts or AWS tags, and a blast radius. It edits the
// scenario's YAML tree rather than generating text, so the scenario's own
// comments (why each number is what it is) stay with the parts that were
// not replaced, and every replaced part carries a comment saying where its
// value came from.
package draft

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/gameday/gameday/runbook"
)

// Panel is one panel to chart.
type Panel struct {
	Name    string // p95, error_rate
	Query   string
	Unit    string // seconds, ratio
	Title   string
	Comment string // where the query came from
}

// Check is a panel's steady state and guardrail.
type Check struct {
	Panel  string
	Steady string // "< 120ms"
	Guard  string // "> 240ms for 30s"
	Why    string // how they were derived
}

// SSH replaces the scenario's ssh target.
type SSH struct {
	Hosts   []string
	Sudo    bool
	Config  string // the ssh_config file the hosts came from, when not the default
	Comment string
}

// AWS replaces the scenario's aws target's selection.
type AWS struct {
	Region   string
	Tags     map[string]string
	Accounts []string
	Comment  string
}

// Blast is a blast radius choice; the zero value keeps the scenario's.
type Blast struct {
	Count   int
	Percent int
	All     bool
}

// String is the YAML flow mapping it writes.
func (b Blast) String() string {
	switch {
	case b.All:
		return "{all: true}"
	case b.Percent > 0:
		return fmt.Sprintf("{percent: %d}", b.Percent)
	case b.Count > 0:
		return fmt.Sprintf("{count: %d}", b.Count)
	}
	return ""
}

// Choices are what replaces the scenario's examples.
type Choices struct {
	Name     string
	Scenario runbook.Scenario
	URL      string // metrics.url; empty keeps the scenario's
	// Panels replace the scenario's panels; a scenario panel not among
	// them is dropped, with every check that names it. Nil keeps them all.
	Panels []Panel
	Checks []Check
	// Target renames the scenario's target (e.g. to the job found).
	Target string
	SSH    *SSH
	AWS    *AWS
	Blast  Blast
	// Header is written as comment lines above everything else: what was
	// found where, so a reader can judge the numbers.
	Header []string
}

// Draft is a composed runbook.
type Draft struct {
	doc    *yaml.Node // the document's top mapping
	header []string
}

// Compose applies c to its scenario.
func Compose(c Choices) (*Draft, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(c.Scenario.Instantiate(c.Name), &root); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", c.Scenario.Name, err)
	}
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("scenario %s is not a mapping", c.Scenario.Name)
	}
	d := &Draft{doc: root.Content[0], header: c.Header}
	if err := d.metrics(c); err != nil {
		return nil, err
	}
	if err := d.target(c); err != nil {
		return nil, err
	}
	return d, nil
}

// Bytes is the runbook as YAML.
func (d *Draft) Bytes() []byte {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	// The tree came from YAML and holds only what it can encode.
	_ = enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{d.doc}})
	_ = enc.Close()
	var out bytes.Buffer
	for _, h := range d.header {
		out.WriteString(strings.TrimRight("# "+h, " ") + "\n")
	}
	if len(d.header) > 0 {
		out.WriteString("#\n")
	}
	out.Write(spaced(b.Bytes()))
	return out.Bytes()
}

// spaced puts a blank line before each top-level section after the
// first few scalars, as the scenarios are laid out; the YAML encoder
// drops blank lines.
func spaced(src []byte) []byte {
	lines := bytes.SplitAfter(src, []byte("\n"))
	var out []byte
	nested := false // the previous line was inside a section
	for _, l := range lines {
		top := len(l) > 0 && l[0] != ' ' && l[0] != '-' && l[0] != '\n'
		if top && nested {
			out = append(out, '\n')
		}
		if len(l) > 0 && (l[0] == ' ' || l[0] == '-') {
			nested = true
		} else if top {
			nested = false
		}
		out = append(out, l...)
	}
	return out
}

// Section is the YAML of one top-level key (metrics, targets, ...), as it
// will be written, or "" when the runbook has none.
func (d *Draft) Section(key string) string {
	k, v := get(d.doc, key)
	if v == nil {
		return ""
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	_ = enc.Encode(&yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{k, v}})
	_ = enc.Close()
	return b.String()
}

func (d *Draft) metrics(c Choices) error {
	_, m := get(d.doc, "metrics")
	if m == nil {
		return fmt.Errorf("scenario %s has no metrics section", c.Scenario.Name)
	}
	if c.URL != "" {
		set(m, "url", scalar(c.URL), "found by gameday new; --prometheus or "+"GAMEDAY_PROMETHEUS_URL still win over it")
	}
	if c.Panels != nil {
		_, old := get(m, "panels")
		var dropped []string
		if old != nil {
			for i := 0; i+1 < len(old.Content); i += 2 {
				name := old.Content[i].Value
				if !slices.ContainsFunc(c.Panels, func(p Panel) bool { return p.Name == name }) {
					dropped = append(dropped, name)
				}
			}
		}
		panels := &yaml.Node{Kind: yaml.MappingNode}
		for _, p := range c.Panels {
			v := &yaml.Node{Kind: yaml.MappingNode}
			set(v, "query", scalar(p.Query), "")
			if p.Unit != "" {
				set(v, "unit", scalar(p.Unit), "")
			}
			if p.Title != "" {
				set(v, "title", scalar(p.Title), "")
			}
			set(panels, p.Name, v, p.Comment)
		}
		comment := ""
		if len(dropped) > 0 {
			comment = fmt.Sprintf("The scenario's %s panel(s) were left out: their example queries are not on this server.", strings.Join(dropped, ", "))
		}
		set(m, "panels", panels, comment)
		for _, name := range dropped {
			d.dropChecks(name)
		}
	}
	for _, ch := range c.Checks {
		if ch.Steady != "" {
			_, b := get(d.doc, "baseline")
			if b == nil {
				b = &yaml.Node{Kind: yaml.MappingNode}
				set(d.doc, "baseline", b, "")
			}
			_, ss := get(b, "steady_state")
			if ss == nil {
				ss = &yaml.Node{Kind: yaml.MappingNode}
				set(b, "steady_state", ss, "")
			}
			set(ss, ch.Panel, quoted(ch.Steady), ch.Why)
		}
		if ch.Guard != "" {
			_, g := get(d.doc, "guardrails")
			if g == nil {
				g = &yaml.Node{Kind: yaml.MappingNode}
				set(d.doc, "guardrails", g, "")
			}
			set(g, ch.Panel, quoted(ch.Guard), "")
		}
	}
	return nil
}

// dropChecks removes every condition on a panel that is no longer charted.
func (d *Draft) dropChecks(panel string) {
	for _, path := range [][]string{{"baseline", "steady_state"}, {"hypothesis", "expect"}, {"guardrails"}} {
		n := d.doc
		for _, k := range path {
			if _, n = get(n, k); n == nil {
				break
			}
		}
		if n != nil {
			del(n, panel)
		}
	}
}

func (d *Draft) target(c Choices) error {
	_, ts := get(d.doc, "targets")
	if ts == nil || len(ts.Content) < 2 {
		return fmt.Errorf("scenario %s has no target", c.Scenario.Name)
	}
	key, t := ts.Content[0], ts.Content[1]
	family := ""
	if len(t.Content) >= 2 {
		family = t.Content[0].Value
	}
	switch {
	case c.SSH != nil && family != "ssh":
		return &FamilyError{Scenario: c.Scenario.Name, Target: key.Value, Has: family, Given: "ssh hosts (--hosts)"}
	case c.AWS != nil && family != "aws":
		return &FamilyError{Scenario: c.Scenario.Name, Target: key.Value, Has: family, Given: "AWS tags (--aws-tags)"}
	}
	_, body := get(t, family)
	if c.SSH != nil {
		sshTarget(body, c.SSH)
	}
	if c.AWS != nil {
		awsTarget(body, c.AWS)
	}
	old := key.Value
	name := c.Target
	if name == "" {
		name = old
	}
	key.Value = name
	return d.renameTarget(old, name, c.Blast.String())
}

// sshTarget writes the chosen hosts into an ssh target's body.
func sshTarget(body *yaml.Node, c *SSH) {
	hosts := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, h := range c.Hosts {
		hosts.Content = append(hosts.Content, scalar(h))
	}
	body.Content = nil
	set(body, "hosts", hosts, c.Comment)
	if c.Config != "" {
		set(body, "config", scalar(c.Config), "")
	}
	sudo := "false"
	if c.Sudo {
		sudo = "true"
	}
	set(body, "sudo", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: sudo}, "")
}

// awsTarget writes the chosen tags, region and accounts into an aws
// target's body.
func awsTarget(body *yaml.Node, c *AWS) {
	del(body, "ids")
	del(body, "filters")
	if c.Region != "" {
		set(body, "region", scalar(c.Region), "")
	}
	tags := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
	for _, k := range slices.Sorted(maps.Keys(c.Tags)) {
		set(tags, k, scalar(c.Tags[k]), "")
	}
	set(body, "tags", tags, c.Comment)
	if len(c.Accounts) > 0 {
		acc := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, a := range c.Accounts {
			acc.Content = append(acc.Content, &yaml.Node{Kind: yaml.ScalarNode, Style: yaml.DoubleQuotedStyle, Value: a})
		}
		set(body, "accounts", acc, "only these accounts may be touched")
	}
}

// renameTarget renames the target in the blast radius and the attacks, and
// writes the chosen blast radius (blast, "" to keep the scenario's).
func (d *Draft) renameTarget(old, name, blast string) error {
	if _, br := get(d.doc, "blast_radius"); br != nil {
		for i := 0; i+1 < len(br.Content); i += 2 {
			if br.Content[i].Value != old {
				continue
			}
			br.Content[i].Value = name
			if blast == "" {
				continue
			}
			var n yaml.Node
			if err := yaml.Unmarshal([]byte(blast), &n); err != nil {
				return err
			}
			br.Content[i+1] = n.Content[0]
			br.Content[i].HeadComment = "chosen in gameday new; widen it only after a run at this size passes"
		}
	}
	if _, as := get(d.doc, "attacks"); as != nil {
		for _, a := range as.Content {
			if k, v := get(a, "target"); k != nil && v.Value == old {
				v.Value = name
			}
		}
	}
	return nil
}

// FamilyError is a scenario whose target is of another family than what
// the user gave (hosts for an AWS scenario, tags for an SSH one).
type FamilyError struct {
	Scenario, Target, Has, Given string
}

func (e *FamilyError) Error() string {
	return fmt.Sprintf("scenario %s attacks %s, an %s target, so %s do not fit it; pick a scenario for %s targets (gameday scenarios) or give what %s needs",
		e.Scenario, e.Target, e.Has, e.Given, strings.Fields(e.Given)[0], e.Target)
}

func get(m *yaml.Node, key string) (k, v *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

// set puts key: v in m, in place when the key exists (its comments are
// replaced when comment is given), else at the end.
func set(m *yaml.Node, key string, v *yaml.Node, comment string) {
	if k, old := get(m, key); k != nil {
		if comment != "" {
			k.HeadComment = comment
		}
		for i := 1; i < len(m.Content); i += 2 {
			if m.Content[i] == old {
				m.Content[i] = v
			}
		}
		return
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key, HeadComment: comment}, v)
}

func del(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return
		}
	}
}

// quoted is a threshold, quoted as the scenarios write them: "< 1%" reads
// as one value, and "> ..." would otherwise start a folded scalar.
func quoted(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Style: yaml.DoubleQuotedStyle, Value: s}
}

func scalar(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}
