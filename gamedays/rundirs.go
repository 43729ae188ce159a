package gamedays

import (
	"os"
	"path/filepath"
)

// RunDirs lists the names of the run directories under runsDir, those
// holding a journal, in directory order.
func RunDirs(runsDir string) ([]string, error) {
	entries, err := os.ReadDir(runsDir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(runsDir, e.Name(), JournalName)); err != nil {
			continue
		}
		names = append(names, e.Name())
	}
	return names, nil
}
