package runbook_test

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/gameday/gameday/runbook"
)

// parseErrors returns each error of Parse as line:col: message.
func parseErrors(t *testing.T, src string, cat runbook.Catalogue) []string {
	t.Helper()
	rb, err := runbook.Parse("r.yaml", []byte(src), cat)
	if err == nil {
		t.Fatalf("accepted:\n%q\n%+v", src, rb)
	}
	var list runbook.ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("error is %T, want ErrorList", err)
	}
	var out []string
	for _, e := range list {
		out = append(out, strings.TrimPrefix(e.Error(), "r.yaml:"))
	}
	return out
}

// A YAML syntax error names its line and column, like every other error:
// where the parser gave up, or where an unclosed bracket opens.
func TestSyntaxErrorPositions(t *testing.T) {
	wantErrors(t, map[string]string{
		"name: [unclosed":                                "1:7: YAML syntax: did not find expected ',' or ']'",
		"version: 1\nname: {a: 1\nnotes: x\n":            "2:7: YAML syntax: did not find expected ',' or '}'",
		"version: 1\nname: [x, y]\ntags: [\n  a,\n  b\n": "3:7: YAML syntax: did not find expected ',' or ']'",
		"version: 1\nname: a: b\n":                       "2:8: YAML syntax: mapping values are not allowed in this context",
		"version: 1\nname: \"open\n":                     "2:7: YAML syntax: found unexpected end of stream",
		"version: 1\nmetrics:\n  url: x\n step: 5s\n":    "4:2: YAML syntax: did not find expected key",
		"version: 1\nname: @x\n":                         "2:7: YAML syntax: found character that cannot start any token",
		"version: 1\nname: *nowhere\n":                   "2:14: YAML syntax: unknown anchor 'nowhere' referenced",
		// Columns count characters, not bytes.
		"name: é: x\n": "1:8: YAML syntax: mapping values are not allowed in this context",
		// CR LF line ends count once.
		"version: 1\r\nname: a: b\r\n": "2:8: YAML syntax: mapping values are not allowed in this context",
	})
}

// Text that is not UTF-8, a NUL byte or another control character is
// refused at its place before the parser sees it.
func TestBadTextPositions(t *testing.T) {
	wantErrors(t, map[string]string{
		"version: 1\nname: a\x00b\n":    "2:8: YAML syntax: a NUL byte; a runbook is text, and YAML allows no control characters",
		"version: 1\nname: é\xffx\n":    "2:8: YAML syntax: byte 0xff is not UTF-8; save the runbook as UTF-8 text",
		"name: \xc3\n":                  "1:7: YAML syntax: byte 0xc3 is not UTF-8; save the runbook as UTF-8 text",
		"version: 1\n\nnotes: a\x1bb\n": "3:9: YAML syntax: control character U+001B; YAML allows none but tab and line breaks",
		"\x00":                          "1:1: YAML syntax: a NUL byte; a runbook is text, and YAML allows no control characters",
	})
}

// wantErrors parses each source and expects exactly its one error.
func wantErrors(t *testing.T, cases map[string]string) {
	t.Helper()
	for src, want := range cases {
		if got := parseErrors(t, src, nil); len(got) != 1 || got[0] != want {
			t.Errorf("%q:\n got %q\nwant %q", src, got, want)
		}
	}
}

// brokenCase is a runbook with one edit, old replaced by new, and the
// errors that edit must give, in file order.
type brokenCase struct {
	name, old, new string
	want           []string
}

// wantBroken applies each case's edit to base, where old must stand exactly
// once, and expects exactly the case's errors and nothing else.
func wantBroken(t *testing.T, base string, cat runbook.Catalogue, cases []brokenCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if n := strings.Count(base, tc.old); n != 1 {
				t.Fatalf("edit target %q occurs %d times in the runbook", tc.old, n)
			}
			got := parseErrors(t, strings.Replace(base, tc.old, tc.new, 1), cat)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// Nesting past the parser's limit is an error at the bracket or the line
// where the limit is crossed.
func TestDeepNestingPosition(t *testing.T) {
	const limit = 10000
	flow := "version: 1\nname: " + strings.Repeat("[", limit+1) + strings.Repeat("]", limit+1) + "\n"
	if got, want := parseErrors(t, flow, nil), "2:10007: YAML syntax: exceeded max depth of 10000"; len(got) != 1 || got[0] != want {
		t.Errorf("flow nesting: %q, want %q", got, want)
	}
	// Compact nested lists, - - - x, nest one level per dash on one line.
	block := "version: 1\nname:\n" + strings.Repeat("- ", limit+1) + "x\n"
	if got, want := parseErrors(t, block, nil), "3:20001: YAML syntax: exceeded max depth of 10000"; len(got) != 1 || got[0] != want {
		t.Errorf("block nesting: %q, want %q", got, want)
	}
}

// A runbook is one YAML document: whatever follows a second --- is refused
// where it starts, whether it parses or not.
func TestOneDocument(t *testing.T) {
	base, err := os.ReadFile("testdata/valid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Count(string(base), "\n")
	second := "a second YAML document starts here; a runbook file holds exactly one, so that nothing in it is silently ignored"
	for _, tt := range []struct {
		name, tail string
		line       int
	}{
		{"garbage after ---", "---\ngarbage\n", lines + 1},
		{"a narrower blast radius", "# the real one\n---\nblast_radius:\n  checkout: {count: 1}\n", lines + 2},
		{"an empty second document", "---\n", lines + 1},
		{"a second document that does not parse", "---\nname: [\n", lines + 1},
		{"a document after an end marker", "...\n---\nx: 1\n", lines + 2},
	} {
		got := parseErrors(t, string(base)+tt.tail, nil)
		if want := strconv.Itoa(tt.line) + ":1: " + second; len(got) != 1 || got[0] != want {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, want)
		}
	}
	for name, src := range map[string]string{
		"an explicit start":  "---\n" + string(base),
		"an end marker":      string(base) + "...\n",
		"a trailing comment": string(base) + "# done\n",
	} {
		if _, err := runbook.Parse("r.yaml", []byte(src), nil); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
