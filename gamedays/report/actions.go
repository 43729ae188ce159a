package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
)

// ActionItem is a finding or an action item from the conclude phase, in
// the shape a tracker takes: a title, who owns it, and where it came from.
type ActionItem struct {
	// Kind is "action" or "finding".
	Kind  string
	Title string
	// Owner is who the note names with @name ("cap retries @ana"); empty
	// when it names nobody. The note's author is not its owner: the scribe
	// writes most notes.
	Owner  string
	Author string
	At     time.Time
	Run    string
	// Report is where the full report is, as given to the writer.
	Report string
}

// owner is the first @name in a note.
var owner = regexp.MustCompile(`(^|\s)@([\p{L}\p{N}._-]+)`)

// ActionItems lists the run's action items, then its findings, in the
// order they were noted. link is the report they point back to.
func (r *Report) ActionItems(link string) []ActionItem {
	var out []ActionItem
	add := func(kind string, ns []Note) {
		for _, n := range ns {
			it := ActionItem{Kind: kind, Title: n.Text, Author: n.Author, At: n.At, Run: r.RunID, Report: link}
			if m := owner.FindStringSubmatchIndex(n.Text); m != nil {
				it.Owner = n.Text[m[4]:m[5]]
				it.Title = strings.Join(strings.Fields(n.Text[:m[0]]+" "+n.Text[m[1]:]), " ")
			}
			out = append(out, it)
		}
	}
	add("action", r.Actions)
	add("finding", r.Findings)
	return out
}

// ActionsMarkdown writes the action items as a checklist to paste into an
// issue, and the findings as a list under it.
func (r *Report) ActionsMarkdown(w io.Writer, link string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## Action items: %s\n\n", r.Title)
	fmt.Fprintf(&b, "From game day `%s` (%s), verdict **%s**. Report: [%s](%s)\n\n", r.RunID, r.Start.Format("2006-01-02"), verdictWord(r.Verdict.Value), link, link)
	items := r.ActionItems(link)
	kinds := []struct{ kind, head, mark, none string }{
		{"action", "", "- [ ] ", "No action items were noted.\n"},
		{"finding", "### Findings\n\n", "- ", "No findings were noted.\n"},
	}
	for i, k := range kinds {
		if i > 0 {
			b.WriteString("\n" + k.head)
		}
		n := 0
		for _, it := range items {
			if it.Kind != k.kind {
				continue
			}
			n++
			b.WriteString(k.mark + mdLine(it.Title))
			if it.Owner != "" {
				b.WriteString(" (owner: @" + it.Owner + ")")
			}
			b.WriteString("\n")
		}
		if n == 0 {
			b.WriteString(k.none)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdLine keeps a note on one line of a list.
func mdLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// ActionsCSV writes one row per action item and finding, with a header, for
// a tracker's import.
func (r *Report) ActionsCSV(w io.Writer, link string) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"kind", "title", "owner", "run", "report", "noted_by", "noted_at"})
	for _, it := range r.ActionItems(link) {
		at := ""
		if !it.At.IsZero() {
			at = it.At.UTC().Format(time.RFC3339)
		}
		cw.Write([]string{it.Kind, csvCell(it.Title), it.Owner, it.Run, it.Report, it.Author, at})
	}
	cw.Flush()
	return cw.Error()
}

// csvCell keeps a spreadsheet from running a note as a formula.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@", rune(s[0])) {
		return "'" + s
	}
	return s
}
