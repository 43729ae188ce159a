// Package gendoc keeps the generated parts of the Markdown docs in step
// with the code that generates them. A doc marks such a part with a begin
// line of its own and End; a test compares what is between them with what
// the code writes now, or rewrites it when asked.
package gendoc

import (
	"os"
	"strings"
	"testing"
)

// End closes every generated part.
const End = "<!-- END generated -->"

// Check fails t when the part of the file at path between the line begin
// and End is not want. With update it writes want there instead. fix is
// the command that rewrites the part, for the failure message.
func Check(t testing.TB, path, begin, want string, update bool, fix string) {
	t.Helper()
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i, j := strings.Index(s, begin), strings.Index(s, End)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the generated markers", path)
	}
	if update {
		if err := os.WriteFile(path, []byte(s[:i+len(begin)]+want+s[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if s[i+len(begin):j] != want {
		t.Errorf("%s is out of date; run: %s", path, fix)
	}
}
