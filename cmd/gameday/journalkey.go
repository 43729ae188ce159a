package main

import (
	"errors"
	"io/fs"
	"os"

	"github.com/gameday/gameday/gamedays"
)

// journalKey returns the key that seals this user's journals, from
// $GAMEDAY_JOURNAL_KEY or the user's state directory. run creates it on
// first use; recover only reads it, and without one trusts no journal
// (nil, no error).
func journalKey(create bool) (*gamedays.JournalKey, error) {
	path, err := gamedays.KeyPath(os.Getenv)
	if err != nil {
		return nil, err
	}
	if create {
		return gamedays.EnsureJournalKey(path)
	}
	k, err := gamedays.LoadJournalKey(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return k, err
}
