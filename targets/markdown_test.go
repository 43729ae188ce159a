package targets

import (
	"strings"
	"testing"
)

func TestMarkdown(t *testing.T) {
	c := Default()
	md := c.Markdown()
	if !strings.HasPrefix(md, "# Attack reference\n") {
		t.Errorf("does not start with the title:\n%.200s", md)
	}
	for _, k := range c.Kinds() {
		if !strings.Contains(md, "\n### "+k.Name+"\n") || !strings.Contains(md, "[`"+k.Name+"`](#"+k.Name+")") {
			t.Errorf("no section or index entry for %s", k.Name)
		}
		for _, p := range k.Params {
			if !strings.Contains(md, "| `"+p.Name+"` | "+string(p.Type)+" |") {
				t.Errorf("%s: param %s missing", k.Name, p.Name)
			}
		}
	}
	for _, t2 := range Types() {
		if !strings.Contains(md, "| `"+string(t2)+"` |") {
			t.Errorf("param type %s not described", t2)
		}
	}
	for _, want := range []string{
		"| `delay` | duration | required | from 1ms to 30s | delay added to each packet |",
		"| `signal` | signal | `KILL` | — |",
		"| `size` | bytes | required | of at least 1MiB; or a percentage of the file system |",
		"| `processes` | list | required | comma-separated, any of `Launch`, `Terminate`,",
		"- **Irreversible**: cannot be rolled back; needs `allow_irreversible: true`",
		"- Runs on: aws targets selecting `rds:cluster` or `rds:instance`",
		"- Needs on the host: `stress-ng`",
		"- Max duration: 12h",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("missing %q", want)
		}
	}
	if md != Default().Markdown() {
		t.Error("Markdown is not deterministic")
	}
}
