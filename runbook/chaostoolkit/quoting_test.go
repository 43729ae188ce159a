package chaostoolkit_test

import (
	"encoding/json"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/gameday/gameday/runbook/chaostoolkit"
)

// Strings from an experiment land in YAML the import writes by hand; each
// must come back out exactly as it went in.
var awkward = []string{
	"plain words",
	"key: value",
	"# not a comment",
	"- not a list",
	"'single' and \"double\" quotes",
	"true",
	"0123",
	"1e3",
	"null",
	"~",
	"{flow}, [flow]",
	"trailing space ",
	" leading space",
	"tab\there",
	"ünïcödé ✓",
	"@at & *star ! bang | pipe > gt % pct `tick`",
	"back\\slash",
	"bell\a",
}

func TestImportQuoting(t *testing.T) {
	for _, s := range awkward {
		exp := map[string]any{
			"title":       s,
			"description": s + "\nsecond line " + s,
			"tags":        []string{s},
			"configuration": map[string]any{
				"aws_region": "us-east-1",
			},
			"steady-state-hypothesis": map[string]any{
				"title": s,
				"probes": []any{map[string]any{
					"type": "probe", "name": s,
					"tolerance": map[string]any{"type": "range", "range": []float64{0, 1.5}},
					"provider": map[string]any{"type": "python", "module": "chaosprometheus.probes", "func": "query",
						"arguments": map[string]any{"query": `sum(rate(x{job="` + s + `"}[1m]))`}},
				}},
			},
			"method": []any{map[string]any{
				"type": "action", "name": s,
				"provider": map[string]any{"type": "python", "module": "chaosaws.ec2.actions", "func": "stop_instances",
					"arguments": map[string]any{"filters": []any{map[string]any{"Name": "tag:" + s, "Values": []string{s}}}}},
				"pauses": map[string]any{"after": 60},
			}},
		}
		data, err := json.Marshal(exp)
		if err != nil {
			t.Fatal(err)
		}
		res, err := chaostoolkit.Import("awkward.json", data)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		var out struct {
			Name        string   `yaml:"name"`
			Description string   `yaml:"description"`
			Tags        []string `yaml:"tags"`
			Metrics     struct {
				Panels map[string]struct {
					Query string `yaml:"query"`
					Title string `yaml:"title"`
				} `yaml:"panels"`
			} `yaml:"metrics"`
			Hypothesis struct {
				Statement string `yaml:"statement"`
			} `yaml:"hypothesis"`
			Targets map[string]struct {
				AWS struct {
					Tags map[string]string `yaml:"tags"`
				} `yaml:"aws"`
			} `yaml:"targets"`
			Attacks []struct {
				Name string `yaml:"name"`
			} `yaml:"attacks"`
		}
		if err := yaml.Unmarshal(res.YAML, &out); err != nil {
			t.Fatalf("%q: output is not YAML: %v\n%s", s, err, res.YAML)
		}
		check := func(what, got, want string) {
			if got != want {
				t.Errorf("%q: %s = %q, want %q", s, what, got, want)
			}
		}
		check("name", out.Name, strings.TrimSpace(s))
		check("hypothesis.statement", out.Hypothesis.Statement, strings.TrimSpace(s))
		check("description", strings.TrimRight(out.Description, "\n"), strings.TrimRight(s+"\nsecond line "+s, " \t\n"))
		if len(out.Tags) != 1 {
			t.Errorf("%q: tags = %q", s, out.Tags)
		} else {
			check("tags[0]", out.Tags[0], s)
		}
		if len(out.Attacks) != 1 {
			t.Fatalf("%q: attacks = %+v", s, out.Attacks)
		}
		check("attack name", out.Attacks[0].Name, s)
		for _, p := range out.Metrics.Panels {
			check("panel query", p.Query, `sum(rate(x{job="`+s+`"}[1m]))`)
			check("panel title", p.Title, s)
		}
		for _, tg := range out.Targets {
			check("target tag", tg.AWS.Tags[s], s)
		}
	}
}

func TestImportErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"title": }`, `x.json: 1:11: invalid JSON: invalid character '}' looking for beginning of value`},
		{"{\n  \"title\": \"a\",\n  \"method\": [\n}", `x.json: 4:1: invalid JSON: invalid character '}' looking for beginning of value`},
		{`{"title": "a"} {}`, `x.json: 1:16: invalid JSON: unexpected data after the top-level value`},
		{`[1, 2]`, `x.json: a Chaos Toolkit experiment is a JSON/YAML object with title, steady-state-hypothesis and method; found a list`},
		{"title: [unclosed", `x.json: not a JSON or YAML experiment: line 1: did not find expected ',' or ']'`},
		{"", `x.json: the experiment is empty`},
		{"just text", `x.json: a Chaos Toolkit experiment is a JSON/YAML object with title, steady-state-hypothesis and method; found "just text"`},
	} {
		_, err := chaostoolkit.Import("x.json", []byte(tc.in))
		if err == nil || err.Error() != tc.want {
			t.Errorf("Import(%q) error = %v\nwant %s", tc.in, err, tc.want)
		}
	}
}

// JSON indented with tabs is common and is not valid YAML; it must import.
func TestImportJSONWithTabs(t *testing.T) {
	data := []byte("{\n\t\"title\": \"tabs\",\n\t\"tags\": [\"a\"]\n}\n")
	res, err := chaostoolkit.Import("tabs.json", data)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(res.YAML), "\nname: tabs\n") {
		t.Errorf("title not imported:\n%s", res.YAML)
	}
}
