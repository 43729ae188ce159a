package runbook_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

// The issue names these; the library may grow, it must not shrink.
var requiredScenarios = []string{
	"added-latency", "cpu-hog", "dependency-blackhole", "disk-fill",
	"ec2-instance-loss", "lambda-errors", "lambda-throttle", "memory-pressure",
	"process-kill",
}

func TestScenariosValidate(t *testing.T) {
	all := runbook.Scenarios()
	if len(all) < 8 {
		t.Fatalf("library has %d scenarios, want at least 8", len(all))
	}
	names := make([]string, len(all))
	for i, s := range all {
		names[i] = s.Name
	}
	if !slices.IsSorted(names) {
		t.Errorf("Scenarios() not sorted by name: %v", names)
	}
	for _, want := range requiredScenarios {
		if !slices.Contains(names, want) {
			t.Errorf("library lacks scenario %q", want)
		}
	}
	for _, s := range all {
		t.Run(s.Name, func(t *testing.T) {
			rb, err := runbook.Parse("scenarios/"+s.Name+".yaml", s.Source, targets.Default())
			if err != nil {
				t.Fatalf("scenario does not validate:\n%v", err)
			}
			if s.Title == "" || s.Title != rb.Name {
				t.Errorf("Title = %q, runbook name = %q", s.Title, rb.Name)
			}
			first, _, _ := strings.Cut(strings.TrimSpace(rb.Description), "\n")
			if s.Summary == "" || s.Summary != first {
				t.Errorf("Summary = %q, want the first line of the description %q", s.Summary, first)
			}
			if !slices.Equal(s.Tags, rb.Tags) || len(s.Tags) == 0 {
				t.Errorf("Tags = %v, runbook tags = %v", s.Tags, rb.Tags)
			}
			// What makes a scenario worth copying: it says what it believes,
			// what must hold first, and when to stop.
			if len(rb.Baseline.SteadyState) == 0 {
				t.Error("no steady state")
			}
			if len(rb.Hypothesis.Expect) == 0 {
				t.Error("no expectations")
			}
			if len(rb.Guardrails.Checks) == 0 || rb.Guardrails.MetricsBlind == 0 {
				t.Error("needs at least one guardrail threshold and metrics_blind")
			}
			if bytes.Count(s.Source, []byte("#")) < 5 {
				t.Error("a scenario should explain what to adapt in comments")
			}
			if bytes.Contains(s.Source, []byte("\t")) {
				t.Error("tabs in YAML source")
			}
		})
	}
}

func TestLookupScenario(t *testing.T) {
	s, ok := runbook.LookupScenario("cpu-hog")
	if !ok || s.Name != "cpu-hog" || len(s.Source) == 0 {
		t.Fatalf("LookupScenario(cpu-hog) = %+v, %v", s.Name, ok)
	}
	if _, ok := runbook.LookupScenario("no-such-thing"); ok {
		t.Error("LookupScenario found a scenario that does not exist")
	}
	// Callers get copies: changing one must not change the library.
	s.Source[0] = '!'
	s.Tags[0] = "changed"
	again, _ := runbook.LookupScenario("cpu-hog")
	if again.Source[0] == '!' || again.Tags[0] == "changed" {
		t.Error("LookupScenario hands out the shared copy")
	}
}

func TestInstantiate(t *testing.T) {
	names := []string{
		"payments game day",
		"q3: checkout # not a comment",
		"true",
		"123",
		`it's "quoted"`,
		"- looks like a list",
		"ünïcödé",
	}
	for _, s := range runbook.Scenarios() {
		for _, name := range names {
			out := s.Instantiate(name)
			rb, err := runbook.Parse("new.yaml", out, targets.Default())
			if err != nil {
				t.Fatalf("%s as %q does not validate:\n%v\n%s", s.Name, name, err, out)
			}
			if rb.Name != name {
				t.Errorf("%s as %q: name = %q", s.Name, name, rb.Name)
			}
			// Everything but the name line is kept byte for byte.
			if got, want := dropNameLine(out), dropNameLine(s.Source); got != want {
				t.Errorf("%s as %q: more than the name line changed", s.Name, name)
			}
		}
	}
}

func dropNameLine(src []byte) string {
	var keep []string
	for _, l := range strings.Split(string(src), "\n") {
		if !strings.HasPrefix(l, "name:") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

func TestInstantiateShapes(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"plain", "version: 1\nname: old\ntags: [a]\n", "version: 1\nname: new one\ntags: [a]\n"},
		{"line comment kept", "name: old   # the title\nx: 1\n", "name: new one # the title\nx: 1\n"},
		{"quoted", "name: 'it''s old'\nx: 1\n", "name: new one\nx: 1\n"},
		{"folded", "name: >-\n  a long\n  old name\n\n# about x\nx: 1\n", "name: new one\n\n# about x\nx: 1\n"},
		{"literal with blank line", "name: |\n  a\n\n  b\nx: 1\n", "name: new one\nx: 1\n"},
		{"wrapped plain", "name: a long\n  old name\nx: 1\n", "name: new one\nx: 1\n"},
		{"indented comment after is kept", "name: old\n  # still here\nx: 1\n", "name: new one\n  # still here\nx: 1\n"},
		{"missing: after version", "# head\nversion: 1\nx: 1\n", "# head\nversion: 1\nname: new one\nx: 1\n"},
		{"missing, no version", "x: 1\n", "name: new one\nx: 1\n"},
		{"nested name untouched", "x:\n  name: inner\nname: old\n", "x:\n  name: inner\nname: new one\n"},
		{"no final newline", "version: 1\nname: old", "version: 1\nname: new one\n"},
	} {
		got := string(runbook.Scenario{Source: []byte(tc.src)}.Instantiate("new one"))
		if got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}
