package journaltest

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestEditKeepsLinesAndTheLastNewline(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	if err := os.WriteFile(path, []byte("{\"a\":1}\n{\"b\":2}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := Lines(t, path); !slices.Equal(got, []string{"{\"a\":1}\n", "{\"b\":2}\n"}) {
		t.Fatalf("Lines = %q", got)
	}
	Edit(t, path, func(l []string) []string { return append(l[:1], "{\"c\"") })
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "{\"a\":1}\n{\"c\"\n" {
		t.Errorf("after Edit: %q", b)
	}
}
