package runbook

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// decoder turns a YAML node tree into typed values, collecting every problem
// with its position instead of stopping at the first.
type decoder struct {
	file string
	errs ErrorList
}

func (d *decoder) errorf(n *yaml.Node, format string, args ...any) {
	line, col := 0, 0
	if n != nil {
		line, col = n.Line, n.Column
	}
	d.errs = append(d.errs, Error{File: d.file, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)})
}

func (d *decoder) errorAt(p Pos, format string, args ...any) {
	d.errs = append(d.errs, Error{File: d.file, Line: p.Line, Col: p.Col, Msg: fmt.Sprintf(format, args...)})
}

func pos(n *yaml.Node) Pos { return Pos{Line: n.Line, Col: n.Column} }

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

// pair is one key and its value in a mapping.
type pair struct{ k, v *yaml.Node }

// pairs checks n is a mapping without duplicate or merge keys and returns its
// entries in order. what names the thing for messages.
func (d *decoder) pairs(n *yaml.Node, what string) ([]pair, bool) {
	n = resolve(n)
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil, true
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s: expected a mapping of key: value, found %s", what, describe(n))
		return nil, false
	}
	seen := map[string]*yaml.Node{}
	out := make([]pair, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, "%s: keys must be plain words, found %s", what, describe(k))
			continue
		}
		if k.Tag == "!!merge" {
			d.errorf(k, "%s: merge keys (<<) are not supported; write the fields out", what)
			continue
		}
		if prev, dup := seen[k.Value]; dup {
			d.errorf(k, "%s: duplicate key %q (first at line %d)", what, k.Value, prev.Line)
			continue
		}
		seen[k.Value] = k
		out = append(out, pair{k, v})
	}
	return out, true
}

// object decodes a mapping whose keys are fixed by spec; each known key is
// handed to set, unknown keys are reported with a suggestion.
func (d *decoder) object(n *yaml.Node, spec *field, what string, set func(key string, k, v *yaml.Node)) map[string]*yaml.Node {
	ps, ok := d.pairs(n, what)
	got := map[string]*yaml.Node{}
	if !ok {
		return got
	}
	misspelt := map[string]bool{} // required keys an unknown key looks like a typo of
	for _, p := range ps {
		name := p.k.Value
		if spec.child(name) == nil {
			if spec.Elem != nil { // open object: unknown keys go to set as well
				got[name] = p.k
				set(name, p.k, p.v)
				continue
			}
			d.unknown(p.k, what, name, spec.names())
			misspelt[Closest(name, spec.names())] = true
			continue
		}
		got[name] = p.k
		set(name, p.k, p.v)
	}
	for _, c := range spec.Fields {
		if c.Required && got[c.Name] == nil && !misspelt[c.Name] {
			d.errorf(n, "%s: missing required field %q (%s)", what, c.Name, c.Doc)
		}
	}
	return got
}

func (d *decoder) unknown(k *yaml.Node, what, name string, known []string) {
	msg := fmt.Sprintf("%s: unknown field %q", what, name)
	if s := Closest(name, known); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	msg += "; expected one of: " + strings.Join(known, ", ")
	d.errorf(k, "%s", msg)
}

func (d *decoder) scalar(n *yaml.Node, what, expect string) (string, bool) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.errorf(n, "%s: expected %s, found %s", what, expect, describe(n))
		return "", false
	}
	return n.Value, true
}

func (d *decoder) str(n *yaml.Node, what string) string {
	s, _ := d.scalar(n, what, "a string")
	return s
}

func (d *decoder) nonEmpty(n *yaml.Node, what string) string {
	s, ok := d.scalar(n, what, "a string")
	if ok && strings.TrimSpace(s) == "" {
		d.errorf(n, "%s: must not be empty", what)
	}
	return s
}

func (d *decoder) boolean(n *yaml.Node, what string) bool {
	s, ok := d.scalar(n, what, "true or false")
	if !ok {
		return false
	}
	if n.Tag != "!!bool" {
		d.errorf(n, "%s: expected true or false, found %q", what, s)
		return false
	}
	return s == "true" || s == "True" || s == "TRUE"
}

func (d *decoder) integer(n *yaml.Node, what string, lo, hi int64) int64 {
	s, ok := d.scalar(n, what, "a whole number")
	if !ok {
		return 0
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n.Tag != "!!int" {
		d.errorf(n, "%s: expected a whole number, found %q", what, s)
		return 0
	}
	if v < lo || v > hi {
		d.errorf(n, "%s: expected a number from %d to %d, found %d", what, lo, hi, v)
	}
	return v
}

func (d *decoder) number(n *yaml.Node, what string, lo, hi float64) float64 {
	s, ok := d.scalar(n, what, "a number")
	if !ok {
		return 0
	}
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || (n.Tag != "!!int" && n.Tag != "!!float" && !strings.HasSuffix(s, "%")) {
		d.errorf(n, "%s: expected a number, found %q", what, s)
		return 0
	}
	if v <= lo || v > hi {
		d.errorf(n, "%s: expected a number above %g and at most %g, found %g", what, lo, hi, v)
	}
	return v
}

// duration parses a Go duration and requires it to be positive unless zero is allowed.
func (d *decoder) duration(n *yaml.Node, what string, allowZero bool) time.Duration {
	s, ok := d.scalar(n, what, "a duration such as 30s, 5m or 1h30m")
	if !ok {
		return 0
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		hint := ""
		if _, numErr := strconv.ParseFloat(s, 64); numErr == nil {
			hint = " (a unit is required: ms, s, m or h)"
		}
		d.errorf(n, "%s: expected a duration such as 30s, 5m or 1h30m, found %q%s", what, s, hint)
		return 0
	}
	if v < 0 || (v == 0 && !allowZero) {
		d.errorf(n, "%s: expected a positive duration, found %q", what, s)
		return 0
	}
	return v
}

// list is the items of a YAML sequence; anything else is reported as not
// expect (what the list holds, with an example), and has no items.
func (d *decoder) list(n *yaml.Node, what, expect string) []*yaml.Node {
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "%s: expected %s, found %s", what, expect, describe(n))
		return nil
	}
	return n.Content
}

func (d *decoder) strList(n *yaml.Node, what string) []string {
	items := d.list(n, what, "a list such as [a, b]")
	out := make([]string, 0, len(items))
	for i, item := range items {
		if s, ok := d.scalar(item, fmt.Sprintf("%s[%d]", what, i), "a string"); ok {
			out = append(out, s)
		}
	}
	return out
}

func (d *decoder) strMap(n *yaml.Node, what string) map[string]string {
	ps, _ := d.pairs(n, what)
	out := make(map[string]string, len(ps))
	for _, p := range ps {
		if s, ok := d.scalar(p.v, what+"."+p.k.Value, "a single value"); ok {
			out[p.k.Value] = s
		}
	}
	return out
}

var panelName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
