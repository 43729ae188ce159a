package gamedays

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gameday/gameday/gamedays/journaltest"
)

func TestKeyPath(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{KeyEnv: "/k", "XDG_STATE_HOME": "/s", "HOME": "/h"}, "/k"},
		{map[string]string{"XDG_STATE_HOME": "/s", "HOME": "/h"}, "/s/gameday/journal.key"},
		{map[string]string{"XDG_STATE_HOME": "relative", "HOME": "/h"}, "/h/.local/state/gameday/journal.key"},
		{map[string]string{"HOME": "/h"}, "/h/.local/state/gameday/journal.key"},
	} {
		got, err := KeyPath(func(k string) string { return c.env[k] })
		if err != nil || got != c.want {
			t.Errorf("KeyPath(%v) = %q, %v; want %q", c.env, got, err, c.want)
		}
	}
	if _, err := KeyPath(func(string) string { return "" }); err == nil {
		t.Error("KeyPath with no HOME: no error")
	}
}

func TestJournalKeyIsPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "gameday", "journal.key")
	k, err := EnsureJournalKey(path)
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700} {
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: %v %v, want mode %04o", p, st, err, want)
		}
	}
	again, err := EnsureJournalKey(path)
	if err != nil || string(again.key) != string(k.key) {
		t.Fatalf("a second EnsureJournalKey made another key: %v", err)
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".journal.key-*")); len(m) != 0 {
		t.Errorf("left behind: %v", m)
	}
	os.Chmod(path, 0o640)
	if _, err := LoadJournalKey(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a key others can read: %v", err)
	}
	os.WriteFile(path, []byte("not hex\n"), 0o600)
	os.Chmod(path, 0o600)
	if _, err := LoadJournalKey(path); err == nil || !strings.Contains(err.Error(), "hex digits") {
		t.Errorf("a damaged key: %v", err)
	}
}

// A sealed journal is still one JSON object per line, readable by anything,
// with the seal as its last field; the file is for its user alone.
func TestSealedJournalIsPlainJSONL(t *testing.T) {
	key := testKey(t)
	path := killedRun(t, t.TempDir(), key, true)
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("journal mode %04o, want 0600", st.Mode().Perm())
	}
	lines := journaltest.Lines(t, path)
	for i, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %d is not JSON: %v", i+1, err)
		}
		if mac, _ := m["mac"].(string); len(mac) != 64 || !strings.HasSuffix(strings.TrimSpace(l), `"mac":"`+mac+`"}`) {
			t.Errorf("line %d: mac %q is not the last field", i+1, mac)
		}
	}
	events, warn, err := ReadJournal(path)
	if err != nil || warn != nil || len(events) != len(lines) {
		t.Fatalf("sealed journal reads back as %d events (%d lines): %v %v", len(events), len(lines), warn, err)
	}
	chk, err := CheckJournal(path, key)
	if err != nil || len(chk.Problems) != 0 {
		t.Fatalf("intact journal: %v %v", chk.Problems, err)
	}
}
