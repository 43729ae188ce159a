package gamedays

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// Only directories holding a journal are runs: a stray file, an empty
// directory and one with other files are passed over.
func TestRunDirs(t *testing.T) {
	runs := t.TempDir()
	for _, p := range []string{"b/" + JournalName, "a/" + JournalName, "notes.txt", "c/report.md"} {
		path := filepath.Join(runs, p)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(runs, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := RunDirs(runs)
	if err != nil || !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("RunDirs = %v, %v; want [a b]", got, err)
	}
	if _, err := RunDirs(filepath.Join(runs, "nope")); !os.IsNotExist(err) {
		t.Errorf("a missing runs directory: %v, want a not-exist error", err)
	}
}
