package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gameday/gameday/runbook"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite the golden reports under testdata/golden")

func formatAs(v float64, unit string) string { return runbook.FormatValue(v, runbook.Unit(unit)) }

// golden compares got with testdata/golden/name, or rewrites it.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *updateGolden {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update-golden to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; run with -update-golden if the change is intended.\n%s", path, firstDiff(string(want), string(got)))
	}
}

func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return "line " + strconv.Itoa(i+1) + ":\n want: " + a + "\n  got: " + b
		}
	}
	return "(same lines, different bytes)"
}

func loadFixture(t testing.TB, name string) *Report {
	t.Helper()
	r, err := Load(filepath.Join("testdata", "journals", name+".jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestGolden(t *testing.T) {
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			r := loadFixture(t, s.name)
			dir := t.TempDir()
			var md bytes.Buffer
			if err := r.Markdown(&md, dir); err != nil {
				t.Fatal(err)
			}
			golden(t, s.name+".md", md.Bytes())
			var js bytes.Buffer
			if err := r.JSON(&js); err != nil {
				t.Fatal(err)
			}
			golden(t, s.name+".json", js.Bytes())
			for _, p := range []string{"p95", "error_rate"} {
				svg, err := os.ReadFile(filepath.Join(dir, ChartFile(p)))
				if err != nil {
					t.Fatalf("chart beside the Markdown: %v", err)
				}
				if !bytes.Contains(md.Bytes(), []byte("]("+ChartFile(p)+")")) {
					t.Errorf("the Markdown does not link %s", ChartFile(p))
				}
				if !bytes.Contains(svg, []byte("<path")) {
					t.Errorf("%s has no path", ChartFile(p))
				}
				// Fonts are named, never fetched or embedded.
				for _, bad := range []string{"url(", "@import", "@font-face", "href="} {
					if bytes.Contains(svg, []byte(bad)) {
						t.Errorf("%s contains %q", ChartFile(p), bad)
					}
				}
			}
		})
	}
}

// Every field of the JSON form is documented in docs/report.md, so the
// documented schema cannot drift from what is written.
func TestJSONFieldsDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				keys[k] = true
				if k != "params" { // attack params are the runbook's own names
					walk(x)
				}
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	for _, s := range append(scenarios, scenario{name: "drill"}) {
		r := loadFixture(t, "held")
		if s.name != "drill" {
			r = loadFixture(t, s.name)
		} else {
			r.Drill = &Drill{}
		}
		var buf bytes.Buffer
		if err := r.JSON(&buf); err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(buf.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		walk(v)
	}
	documented := map[string]bool{}
	prose := regexp.MustCompile("(?ms)^```.*?^```").ReplaceAll(doc, nil)
	for _, span := range regexp.MustCompile("`[^`\n]+`").FindAll(prose, -1) {
		for _, w := range regexp.MustCompile(`[a-z][a-z0-9_]*`).FindAll(span, -1) {
			documented[string(w)] = true
		}
	}
	for k := range keys {
		if !documented[k] {
			t.Errorf("JSON field %q is not in docs/report.md", k)
		}
	}
	if len(keys) < 40 {
		t.Errorf("only %d fields seen; the walk is broken", len(keys))
	}
}
