package lab

import (
	"strings"
	"testing"
)

func TestExpandPlaceholders(t *testing.T) {
	value := func(f string) (string, error) {
		if f == ".X" {
			return "x", nil
		}
		return "", &placeholderError{f}
	}
	got, err := expand("a: {{.X}}\nb: {{ .X }}{{.X}}\nno braces\n", value)
	if want := "a: x\nb: xx\nno braces\n"; err != nil || got != want {
		t.Errorf("expand: %q, %v; want %q", got, err, want)
	}
	for src, want := range map[string]string{
		"a\nb: {{.Y}}\n": "line 2: .Y",
		"a\n\nb: {{.X\n": "line 3: {{ without }}",
	} {
		if _, err := expand(src, value); err == nil || err.Error() != want {
			t.Errorf("expand(%q): %v, want %q", src, err, want)
		}
	}
}

type placeholderError struct{ field string }

func (e *placeholderError) Error() string { return e.field }

func TestRunbookPlaceholderErrors(t *testing.T) {
	l := &Lab{PrometheusURL: "http://127.0.0.1:9090"}
	for field, want := range map[string]string{
		`{{.Nope}}`:        `line 1: unknown placeholder {{.Nope}}: expected a lab value or dur, step or window`,
		`{{dur 5s}}`:       `line 1: {{dur 5s}}: expected a quoted duration`,
		`{{window "5 s"}}`: `line 1: {{window "5 s"}}: time: unknown unit " s" in duration "5 s"`,
	} {
		_, err := l.render("name: x\n"+field, 1)
		if want = strings.Replace(want, "line 1", "line 2", 1); err == nil || err.Error() != want {
			t.Errorf("%s: %v, want %s", field, err, want)
		}
	}
	out, err := l.render(`{dur: {{dur "1m"}}, short: {{dur "1s"}}, step: {{step "5s"}}, window: {{window "30s"}}, url: {{.PrometheusURL}}}`, 0.1)
	if want := `{dur: 6s, short: 2s, step: 1s, window: 5s, url: http://127.0.0.1:9090}`; err != nil || string(out) != want {
		t.Errorf("scaled by 0.1: %s, %v; want %s (floors 2s, 1s, 5s)", out, err, want)
	}
}
