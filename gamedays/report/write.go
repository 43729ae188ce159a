package report

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gameday/gameday/gamedays"
)

// Formats are the report formats, in the order WriteAll writes them.
var Formats = []string{"md", "html", "json"}

// Load reads the journal at path (a run directory or the journal file
// itself) and builds its report. A truncated last line is tolerated and
// reported in the report's status.
func Load(path string) (*Report, error) {
	journal, err := gamedays.JournalPath(path)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	events, warn, err := gamedays.ReadJournal(journal)
	if err != nil {
		return nil, err
	}
	var trunc *gamedays.TruncatedError
	truncated := errors.As(warn, &trunc)
	r, err := Build(events, truncated)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", journal, err)
	}
	if truncated {
		r.Warnings = append(r.Warnings, trunc.Error())
	}
	return r, nil
}

// WriteAll builds the report of the run at runDir (a run directory or a
// journal file) and writes it in each of formats (md, html, json; nil
// means all) into the run directory. It returns the files written.
func WriteAll(runDir string, formats []string) ([]string, error) {
	dir := runDir
	if st, err := os.Stat(runDir); err == nil && !st.IsDir() {
		dir = filepath.Dir(runDir)
	}
	return WriteTo(runDir, dir, formats)
}

// WriteTo is WriteAll with the output directory chosen: it is created if
// needed.
func WriteTo(run, outDir string, formats []string) ([]string, error) {
	if len(formats) == 0 {
		formats = Formats
	}
	for _, f := range formats {
		if !slices.Contains(Formats, f) {
			return nil, fmt.Errorf("report format %q: expected one of %s", f, strings.Join(Formats, ", "))
		}
	}
	r, err := Load(run)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(outDir, 0o700); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	var written []string
	for _, f := range formats {
		var buf bytes.Buffer
		var err error
		switch f {
		case "md":
			err = r.Markdown(&buf, outDir)
			for _, cp := range r.charts.panels {
				written = append(written, filepath.Join(outDir, ChartFile(cp.name)))
			}
		case "html":
			err = r.HTML(&buf)
		case "json":
			err = r.JSON(&buf)
		}
		if err != nil {
			return written, err
		}
		path := filepath.Join(outDir, "report."+f)
		if err := writeFile(path, buf.Bytes()); err != nil {
			return written, err
		}
		written = append(written, path)
	}
	return written, nil
}

// writeFile replaces path whole, so a reader never sees half a report.
func writeFile(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
