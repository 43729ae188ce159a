package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	gdreport "github.com/gameday/gameday/gamedays/report"
)

func newReportCmd() *cobra.Command {
	var formats []string
	var out, paper string
	var summary bool
	cmd := &cobra.Command{
		Use:   "report RUN_DIR|JOURNAL  |  report --summary [RUNS_DIR]",
		Short: "Write the post-gameday report (Markdown, HTML, JSON, PDF, JUnit) from a run's journal",
		Long: `Write the report of a game day from its journal alone: Markdown with SVG
charts beside it (report.md, report-PANEL.svg), one self-contained HTML file
that opens offline and prints (report.html), a versioned JSON summary for
tools (report.json, schema gameday.report/v1), the action items and findings
as a checklist and CSV for a tracker (actions.md, actions.csv), and a PDF
(report.pdf, A4 or --paper letter) when headless Chromium or Chrome is on
PATH. By default these go into the run directory.

--format names formats instead: md, html, json, pdf, junit, actions. pdf
needs Chromium (or $GAMEDAY_CHROMIUM); without it the other formats are
still written and the command fails saying what to install. junit writes
report.junit.xml for CI: a suite for the run, a test case per steady-state
check, expectation, guardrail and expected alert; aborted and blocked runs
are errors.

It works on any journal: a run that was aborted, blocked, or killed (no
run.end, a cut-off last line) is reported as far as the journal goes, and
says so at the top.

With --summary, it writes a Markdown table of every run under RUNS_DIR
(default ./gameday-runs): date, runbook, verdict, P95 and error-rate change
under attack, duration and aborts. It goes to standard output, or to
DIR/summary.md with --out DIR. It also writes trends.html (into --out DIR,
else RUNS_DIR): per runbook, the verdict of every run and the measured value
of each expectation over the runs, a chart per panel.

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
			o := gdreport.Options{Paper: paper, Context: cmd.Context()}
			if cmd.Flags().Changed("format") {
				o.Formats = formats
			}
			files, err := gdreport.Write(run, dir, o)
			for _, f := range files {
				fmt.Fprintln(cmd.OutOrStdout(), f)
			}
			if err != nil {
				return invalid(err)
			}
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&formats, "format", gdreport.DefaultFormats, "formats to write: "+strings.Join(gdreport.Formats, ", ")+" (default adds pdf when Chromium is found)")
	cmd.Flags().StringVar(&paper, "paper", gdreport.PaperA4, "PDF paper size: a4 or letter")
	cmd.Flags().StringVar(&out, "out", "", "directory to write into (default: the run directory)")
	cmd.Flags().BoolVar(&summary, "summary", false, "write a table of every run under RUNS_DIR instead")
	return cmd
}

func writeSummary(cmd *cobra.Command, runsDir, out string) error {
	var buf bytes.Buffer
	if err := gdreport.Summary(&buf, runsDir); err != nil {
		return invalid(err)
	}
	var trends bytes.Buffer
	if err := gdreport.Trends(&trends, runsDir); err != nil {
		return invalid(err)
	}
	dir := out
	if dir == "" {
		dir = runsDir
		if _, err := buf.WriteTo(cmd.OutOrStdout()); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return invalid(fmt.Errorf("report --summary: %w", err))
	}
	files := []string{filepath.Join(dir, "trends.html")}
	if out != "" {
		files = append([]string{filepath.Join(dir, "summary.md")}, files...)
		if err := os.WriteFile(files[0], buf.Bytes(), 0o600); err != nil {
			return invalid(fmt.Errorf("report --summary: %w", err))
		}
	}
	if err := os.WriteFile(files[len(files)-1], trends.Bytes(), 0o600); err != nil {
		return invalid(fmt.Errorf("report --summary: %w", err))
	}
	for _, f := range files {
		if out == "" {
			// Standard output holds the table alone, to pipe on.
			fmt.Fprintln(cmd.ErrOrStderr(), "trend page: "+f)
			continue
		}
		fmt.Fprintln(cmd.OutOrStdout(), f)
	}
	return nil
}
