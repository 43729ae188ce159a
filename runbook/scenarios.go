package runbook

import (
	"bytes"
	"embed"
	"fmt"
	"path"
	"sort"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// The library ships inside the binary so that `gameday new --from` works on a
// machine with nothing but the executable.
//
//go:embed scenarios/*.yaml
var scenarioFS embed.FS

// Scenario is one runbook of the built-in library, a starting point that
// `gameday new NAME --from SCENARIO` copies.
type Scenario struct {
	Name    string   // file name without .yaml, e.g. cpu-hog
	Title   string   // the runbook's name:
	Summary string   // first line of its description:
	Tags    []string // the runbook's tags:
	Source  []byte   // the file as written, comments included
}

// Scenarios returns the built-in library, sorted by Name.
func Scenarios() []Scenario {
	all := loadScenarios()
	out := make([]Scenario, len(all))
	for i, s := range all {
		out[i] = s.clone()
	}
	return out
}

// LookupScenario returns the scenario with that name.
func LookupScenario(name string) (Scenario, bool) {
	for _, s := range loadScenarios() {
		if s.Name == name {
			return s.clone(), true
		}
	}
	return Scenario{}, false
}

// clone keeps callers from changing the shared, embedded copy.
func (s Scenario) clone() Scenario {
	s.Tags = append([]string(nil), s.Tags...)
	s.Source = bytes.Clone(s.Source)
	return s
}

// loadScenarios reads the embedded files once. A file that does not decode
// is a bug in the build, not a user error, and the library's tests parse
// every file, so it panics rather than making every caller handle an error.
var loadScenarios = sync.OnceValue(func() []Scenario {
	entries, err := scenarioFS.ReadDir("scenarios")
	if err != nil {
		panic(fmt.Sprintf("runbook: read embedded scenarios: %v", err))
	}
	var out []Scenario
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".yaml" {
			continue
		}
		file := "scenarios/" + e.Name()
		src, err := scenarioFS.ReadFile(file)
		if err != nil {
			panic(fmt.Sprintf("runbook: read embedded %s: %v", file, err))
		}
		var head struct {
			Name        string   `yaml:"name"`
			Description string   `yaml:"description"`
			Tags        []string `yaml:"tags"`
		}
		if err := yaml.Unmarshal(src, &head); err != nil {
			panic(fmt.Sprintf("runbook: embedded %s: %v", file, err))
		}
		summary, _, _ := strings.Cut(strings.TrimSpace(head.Description), "\n")
		out = append(out, Scenario{
			Name:    strings.TrimSuffix(e.Name(), ".yaml"),
			Title:   head.Name,
			Summary: strings.TrimSpace(summary),
			Tags:    head.Tags,
			Source:  src,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
})

// Instantiate returns the scenario's source with its top-level name: replaced
// by name. The edit is made on the text rather than by re-encoding the YAML,
// so that every comment -- the scenario's explanation of what to adapt --
// survives into the new runbook.
func (s Scenario) Instantiate(name string) []byte {
	return replaceName(s.Source, name)
}

// replaceName rewrites the top-level name: of a runbook source, keeping all
// other bytes as they are. A source without a top-level mapping, or without
// name:, gets name: added after version: (or at the top).
func replaceName(src []byte, name string) []byte {
	value := quoteScalar(name)
	lines := bytes.SplitAfter(src, []byte("\n"))
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil || len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return append([]byte("name: "+value+"\n"), src...)
	}
	doc := root.Content[0]
	insertAt := 0
	for i := 0; i+1 < len(doc.Content); i += 2 {
		k, v := doc.Content[i], doc.Content[i+1]
		switch k.Value {
		case "version":
			insertAt = v.Line
		case "name":
			first := k.Line - 1
			last := first + continuation(lines[first+1:], v.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0)
			line := "name: " + value
			if v.LineComment != "" {
				line += " " + v.LineComment
			}
			var out []byte
			for _, l := range lines[:first] {
				out = append(out, l...)
			}
			out = append(out, line+"\n"...)
			for _, l := range lines[last+1:] {
				out = append(out, l...)
			}
			return out
		}
	}
	var out []byte
	for _, l := range lines[:insertAt] {
		out = append(out, l...)
	}
	if insertAt > 0 && !bytes.HasSuffix(out, []byte("\n")) {
		out = append(out, '\n')
	}
	out = append(out, "name: "+value+"\n"...)
	for _, l := range lines[insertAt:] {
		out = append(out, l...)
	}
	return out
}

// continuation counts the lines after a top-level name: that still belong
// to its value: a wrapped or block value continues on indented lines. In a
// block scalar, blank lines and #-lines are content; elsewhere an indented
// comment is a comment and stays.
func continuation(rest [][]byte, block bool) int {
	n := 0
	for i, l := range rest {
		t := bytes.TrimSpace(l)
		indented := len(l) > 0 && (l[0] == ' ' || l[0] == '\t')
		switch {
		case len(t) == 0 && block:
			// Blank lines are part of the block only if it goes on after them.
			j := i + 1
			for j < len(rest) && len(bytes.TrimSpace(rest[j])) == 0 {
				j++
			}
			if j == len(rest) || !(rest[j][0] == ' ' || rest[j][0] == '\t') {
				return n
			}
		case !indented || len(t) == 0:
			return n
		case t[0] == '#' && !block:
			return n
		}
		n = i + 1
	}
	return n
}

// quoteScalar renders s as one YAML scalar, quoted only where YAML needs it.
func quoteScalar(s string) string {
	if strings.ContainsAny(s, "\n\r") {
		s = strings.Join(strings.Fields(s), " ")
	}
	b, err := yaml.Marshal(s)
	if err != nil {
		return fmt.Sprintf("%q", s)
	}
	return strings.TrimSuffix(string(b), "\n")
}
