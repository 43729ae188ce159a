// Package journaltest reads and rewrites a run's journal line by line, for
// tests that tamper with one (an edited command, a deleted or damaged line)
// and check that recover refuses it. Only tests import it.
package journaltest

import (
	"os"
	"strings"
	"testing"
)

// Lines is the journal at path, one entry a line, each with its newline.
func Lines(t testing.TB, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	return lines[:len(lines)-1] // after the last newline: nothing
}

// Edit rewrites the journal at path with change applied to its lines. The
// file still ends in a newline, as a journal does, whatever change returns.
func Edit(t testing.TB, path string, change func(lines []string) []string) {
	t.Helper()
	s := strings.Join(change(Lines(t, path)), "")
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}
