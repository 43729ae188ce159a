package report

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// ChartFile is the name of a panel's chart beside the Markdown report.
// Panel names are already plain (lower case, digits, _); anything else is
// replaced so the name is always a safe file name.
func ChartFile(panel string) string {
	return "report-" + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, panel) + ".svg"
}

// Markdown writes the report as Markdown. Each panel's chart is written to
// chartDir as an SVG file (see ChartFile) and linked by its bare name, so
// chartDir should be the directory the Markdown goes into; with chartDir
// "" the charts are left out.
func (r *Report) Markdown(w io.Writer, chartDir string) error {
	bw := bufio.NewWriter(w)
	title, meta, sections := r.document()
	fmt.Fprintf(bw, "# %s\n\n", oneLine(title))
	for _, b := range meta {
		r.mdBlock(bw, b, chartDir)
	}
	for _, s := range sections {
		fmt.Fprintf(bw, "## %s\n\n", s.title)
		for _, b := range s.blocks {
			if err := r.mdBlock(bw, b, chartDir); err != nil {
				return err
			}
		}
	}
	return bw.Flush()
}

func (r *Report) mdBlock(w *bufio.Writer, b block, chartDir string) error {
	switch b.kind {
	case bPara:
		if b.strong != "" {
			fmt.Fprintf(w, "**%s**", strings.TrimSpace(b.strong))
			if b.text != "" {
				w.WriteString(" ")
			}
		}
		fmt.Fprintf(w, "%s\n\n", oneLine(b.text))
	case bNotice:
		fmt.Fprintf(w, "> **%s** %s\n\n", b.strong, oneLine(b.text))
	case bTable:
		w.WriteString("|")
		for _, h := range b.head {
			fmt.Fprintf(w, " %s |", cell(h))
		}
		w.WriteString("\n|")
		for range b.head {
			w.WriteString("---|")
		}
		w.WriteString("\n")
		for _, row := range b.rows {
			w.WriteString("|")
			for _, c := range row {
				fmt.Fprintf(w, " %s |", cell(c))
			}
			w.WriteString("\n")
		}
		w.WriteString("\n")
	case bList, bChecklist:
		mark := "- "
		if b.kind == bChecklist {
			mark = "- [ ] "
		}
		for _, it := range b.items {
			fmt.Fprintf(w, "%s%s\n", mark, oneLine(it))
		}
		w.WriteString("\n")
	case bCode:
		fence := "```"
		for strings.Contains(b.text, fence) {
			fence += "`"
		}
		fmt.Fprintf(w, "%s\n%s\n%s\n\n", fence, b.text, fence)
	case bChart:
		cp := r.charts.panels[b.chart]
		if chartDir == "" {
			fmt.Fprintf(w, "_(chart of %s not written)_\n\n", oneLine(cp.title))
			return nil
		}
		svg, err := r.chart(b.chart)
		if err != nil {
			return err
		}
		name := ChartFile(cp.name)
		if err := os.WriteFile(filepath.Join(chartDir, name), svg, 0o600); err != nil {
			return fmt.Errorf("write chart: %w", err)
		}
		fmt.Fprintf(w, "![%s over the run](%s)\n\n", cell(cp.title), name)
	}
	return nil
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func cell(s string) string {
	return strings.ReplaceAll(oneLine(s), "|", `\|`)
}
