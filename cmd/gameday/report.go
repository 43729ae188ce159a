package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	gdreport "github.com/gameday/gameday/gamedays/report"
)

func newReportCmd() *cobra.Command {
	var formats []string
	var out string
	var summary bool
	cmd := &cobra.Command{
		Use:   "report RUN_DIR|JOURNAL  |  report --summary [RUNS_DIR]",
		Short: "Write the post-gameday report (Markdown, HTML, JSON) from a run's journal",
		Long: `Write the report of a game day from its journal alone: Markdown with SVG
charts beside it (report.md, report-PANEL.svg), one self-contained HTML file
that opens offline and prints (report.html), and a versioned JSON summary for
tools (report.json, schema gameday.report/v1). By default all three go into
the run directory.

It works on any journal: a run that was aborted, blocked, or killed (no
run.end, a cut-off last line) is reported as far as the journal goes, and
says so at the top.

With --summary, it writes a Markdown table of every run under RUNS_DIR
(default ./gameday-runs): date, runbook, verdict, P95 and error-rate change
under attack, duration and aborts. It goes to standard output, or to
DIR/summary.md with --out DIR.

See docs/report.md for the content and the JSON schema.

Exit codes: 0 written, 4 invalid input (no such run, damaged journal, unknown
format).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if summary {
				dir := defaultRunsDir
				if len(args) == 1 {
					dir = args[0]
				}
				return writeSummary(cmd, dir, out)
			}
			if len(args) != 1 {
				return invalid(fmt.Errorf("report: name a run directory or a journal file (or use --summary RUNS_DIR)"))
			}
			run := args[0]
			dir := out
			if dir == "" {
				dir = run
				if st, err := os.Stat(run); err == nil && !st.IsDir() {
					dir = filepath.Dir(run)
				}
			}
			files, err := gdreport.WriteTo(run, dir, formats)
			if err != nil {
				return invalid(err)
			}
			for _, f := range files {
				fmt.Fprintln(cmd.OutOrStdout(), f)
			}
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&formats, "format", gdreport.Formats, "formats to write: md, html, json")
	cmd.Flags().StringVar(&out, "out", "", "directory to write into (default: the run directory)")
	cmd.Flags().BoolVar(&summary, "summary", false, "write a table of every run under RUNS_DIR instead")
	return cmd
}

func writeSummary(cmd *cobra.Command, runsDir, out string) error {
	var buf bytes.Buffer
	if err := gdreport.Summary(&buf, runsDir); err != nil {
		return invalid(err)
	}
	if out == "" {
		_, err := buf.WriteTo(cmd.OutOrStdout())
		return err
	}
	if err := os.MkdirAll(out, 0o700); err != nil {
		return invalid(fmt.Errorf("report --summary: %w", err))
	}
	path := filepath.Join(out, "summary.md")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		return invalid(fmt.Errorf("report --summary: %w", err))
	}
	fmt.Fprintln(cmd.OutOrStdout(), path)
	return nil
}
