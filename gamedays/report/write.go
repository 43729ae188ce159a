package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gameday/gameday/gamedays"
)

// Formats are every report format, in the order they are written: md
// (with an SVG per chart), html, json, pdf, junit (report.junit.xml) and
// actions (actions.md and actions.csv).
var Formats = []string{"md", "html", "json", "pdf", "junit", "actions"}

// DefaultFormats are written when no format is named; pdf joins them when a
// browser to print it is found (FindBrowser).
var DefaultFormats = []string{"md", "html", "json", "actions"}

// Options say what Write writes.
type Options struct {
	// Formats to write; nil means DefaultFormats, and pdf when a browser is
	// found.
	Formats []string
	// Paper is the PDF's paper size: a4 (default) or letter.
	Paper string
	// Context bounds printing the PDF; nil means no bound beyond its own.
	Context context.Context
}

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
// journal file) and writes it in each of formats (nil means the defaults,
// with a PDF when a browser is found) into the run directory. It returns
// the files written.
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
	return Write(run, outDir, Options{Formats: formats})
}

// Write builds the report of run and writes it into outDir as o says. A PDF
// that cannot be printed (no browser, a browser that fails) does not stop
// the other formats: they are written, and the error says why the PDF is
// missing.
func Write(run, outDir string, o Options) ([]string, error) {
	formats := o.Formats
	browser, findErr := "", error(nil)
	if len(formats) == 0 {
		formats = slices.Clone(DefaultFormats)
		if browser, findErr = FindBrowser(); findErr == nil {
			formats = append(formats, "pdf")
		}
	}
	for _, f := range formats {
		if !slices.Contains(Formats, f) {
			return nil, fmt.Errorf("report format %q: expected one of %s", f, strings.Join(Formats, ", "))
		}
	}
	if _, err := paperSize(o.Paper); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	r, err := Load(run)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(outDir, 0o700); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	link, err := filepath.Abs(filepath.Join(outDir, "report.html"))
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	var written []string
	var pdfErr error
	put := func(name string, data []byte) error {
		path := filepath.Join(outDir, name)
		if err := writeFile(path, data); err != nil {
			return err
		}
		written = append(written, path)
		return nil
	}
	for _, f := range formats {
		var buf bytes.Buffer
		var err error
		name := "report." + f
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
		case "junit":
			name = "report.junit.xml"
			err = r.JUnit(&buf)
		case "actions":
			var csv bytes.Buffer
			if err := r.ActionsCSV(&csv, link); err != nil {
				return written, err
			}
			if err := put("actions.csv", csv.Bytes()); err != nil {
				return written, err
			}
			name = "actions.md"
			err = r.ActionsMarkdown(&buf, link)
		case "pdf":
			pdfErr = r.writePDF(&buf, browser, findErr, o)
			if pdfErr != nil {
				continue
			}
		}
		if err != nil {
			return written, err
		}
		if err := put(name, buf.Bytes()); err != nil {
			return written, err
		}
	}
	return written, pdfErr
}

// writePDF prints the PDF with browser, or the first one found when the
// caller named pdf itself.
func (r *Report) writePDF(buf *bytes.Buffer, browser string, findErr error, o Options) error {
	if browser == "" {
		browser, findErr = FindBrowser()
	}
	if findErr != nil {
		return fmt.Errorf("report.pdf not written (the other formats were): %w", findErr)
	}
	ctx := o.Context
	if ctx == nil {
		ctx = context.Background()
	}
	pdf, err := r.PDF(ctx, browser, o.Paper)
	if err != nil {
		return fmt.Errorf("report.pdf not written (the other formats were): %w", err)
	}
	buf.Write(pdf)
	return nil
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
