package gamedays

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// A journal is sealed so that recover, which runs what a journal says on
// real hosts as root, can tell the journal gameday wrote from one somebody
// edited: each line carries an HMAC-SHA256 over its own content and the
// previous line's MAC, keyed by a secret that lives outside the runs
// directory. Changing, inserting, removing or moving a line breaks the chain
// at that line. The line stays plain JSON; the MAC is its last field.

// KeyEnv names a file to use as the journal key instead of the one under
// the user's state directory.
const KeyEnv = "GAMEDAY_JOURNAL_KEY"

// keyBytes is the key's length: that of the SHA-256 output it keys.
const keyBytes = 32

// chainStart is what the first line's MAC chains from.
const chainStart = "gameday journal v1"

// macField is how the MAC is written: the last member of the line's object.
const macField = `,"mac":"`

// JournalKey seals journals and checks their seals.
type JournalKey struct {
	// Path is the file the key was read from, for messages.
	Path string
	key  []byte
}

// KeyPath says where the user's journal key is: $GAMEDAY_JOURNAL_KEY, else
// $XDG_STATE_HOME/gameday/journal.key, else
// ~/.local/state/gameday/journal.key. getenv is os.Getenv outside tests.
func KeyPath(getenv func(string) string) (string, error) {
	if p := getenv(KeyEnv); p != "" {
		return p, nil
	}
	if d := getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "gameday", "journal.key"), nil
	}
	home := getenv("HOME")
	if home == "" {
		return "", fmt.Errorf("journal key: neither $%s, $XDG_STATE_HOME nor $HOME is set", KeyEnv)
	}
	return filepath.Join(home, ".local", "state", "gameday", "journal.key"), nil
}

// LoadJournalKey reads the key at path. It refuses a key that another user
// owns or could read or write: such a key proves nothing.
func LoadJournalKey(path string) (*JournalKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("journal key: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("journal key: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("journal key %s: not a regular file", path)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("journal key %s: mode %04o lets other users read or change it; it must be 0600 (chmod 600 %s)", path, perm, path)
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != os.Geteuid() {
		return nil, fmt.Errorf("journal key %s: owned by uid %d, not by this user (uid %d)", path, sys.Uid, os.Geteuid())
	}
	buf := make([]byte, 2*keyBytes+2)
	n, _ := f.Read(buf)
	key, err := hex.DecodeString(strings.TrimSpace(string(buf[:n])))
	if err != nil || len(key) != keyBytes {
		return nil, fmt.Errorf("journal key %s: expected %d hex digits", path, 2*keyBytes)
	}
	return &JournalKey{Path: path, key: key}, nil
}

// EnsureJournalKey loads the key at path, creating it first if there is
// none: 0600, in a directory made 0700. Two runs starting at once end up
// with the same key.
func EnsureJournalKey(path string) (*JournalKey, error) {
	k, err := LoadJournalKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("journal key: %w", err)
	}
	raw := make([]byte, keyBytes)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("journal key: %w", err)
	}
	// Written aside and linked into place, so nobody ever reads half a key
	// and a key made meanwhile by another run is kept.
	tmp, err := os.CreateTemp(dir, ".journal.key-*")
	if err != nil {
		return nil, fmt.Errorf("journal key: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(hex.EncodeToString(raw) + "\n")
	if err == nil {
		err = tmp.Chmod(0o600)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("journal key %s: %w", path, err)
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("journal key %s: %w", path, err)
	}
	return LoadJournalKey(path)
}

// mac is the seal of body (one JSON object, without its MAC) following prev.
func (k *JournalKey) mac(prev string, body []byte) string {
	h := hmac.New(sha256.New, k.key)
	h.Write([]byte(prev))
	h.Write([]byte{'\n'})
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// seal returns body with its MAC as the last field, and the MAC.
func (k *JournalKey) seal(prev string, body []byte) ([]byte, string) {
	m := k.mac(prev, body)
	out := make([]byte, 0, len(body)+len(macField)+len(m)+2)
	out = append(out, body[:len(body)-1]...)
	out = append(out, macField...)
	out = append(out, m...)
	out = append(out, '"', '}')
	return out, m
}

// unseal splits a line into the body its MAC was computed over and the MAC;
// ok is false when the line carries no MAC. The encoder escapes every quote
// inside a string, so the last `,"mac":"` is the field's.
func unseal(line []byte) (body []byte, mac string, ok bool) {
	i := bytes.LastIndex(line, []byte(macField))
	if i < 0 || !bytes.HasSuffix(line, []byte(`"}`)) {
		return nil, "", false
	}
	m := line[i+len(macField) : len(line)-2]
	if len(m) != 2*sha256.Size {
		return nil, "", false
	}
	if _, err := hex.DecodeString(string(m)); err != nil {
		return nil, "", false
	}
	body = append(append(make([]byte, 0, i+1), line[:i]...), '}')
	return body, string(m), true
}

// verify says whether mac seals body after prev.
func (k *JournalKey) verify(prev string, body []byte, mac string) bool {
	want, err := hex.DecodeString(mac)
	if err != nil {
		return false
	}
	got, _ := hex.DecodeString(k.mac(prev, body))
	return hmac.Equal(got, want)
}

// CreateSealedJournal creates a new journal whose every line is sealed with
// key, as gameday run writes it; recover trusts only such a journal.
func CreateSealedJournal(path string, clock Clock, key *JournalKey) (*Journal, error) {
	if key == nil {
		return nil, errors.New("create journal: no key to seal it with")
	}
	j, err := CreateJournal(path, clock)
	if err != nil {
		return nil, err
	}
	j.key, j.mac = key, chainStart
	return j, nil
}
