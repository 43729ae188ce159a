package ui

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// reportWritten says where the report went in w cells: the HTML, the page
// people open, first and whole; the other files by name as room allows.
func reportWritten(files []string, w int) string {
	files = slices.Clone(files)
	rank := map[string]int{".html": 0, ".pdf": 1, ".md": 2, ".json": 3}
	order := func(f string) int {
		if r, ok := rank[filepath.Ext(f)]; ok {
			return r
		}
		return len(rank)
	}
	slices.SortStableFunc(files, func(a, b string) int { return order(a) - order(b) })
	if len(files) == 0 {
		return "report written"
	}
	lead := "report written: "
	first := fitPath(files[0], w-len(lead))
	msg := lead + first
	var rest []string
	for _, f := range files[1:] {
		rest = append(rest, filepath.Base(f))
	}
	for n := len(rest); n > 0; n-- {
		tail := " (also " + strings.Join(rest[:n], ", ")
		if n < len(rest) {
			tail += fmt.Sprintf(" and %d more", len(rest)-n)
		}
		if l := msg + tail + ")"; ansi.StringWidth(l) <= w {
			return l
		}
	}
	return msg
}

// fitPath shortens a path to w cells by dropping leading directories
// whole, never cutting a name mid-word.
func fitPath(p string, w int) string {
	if ansi.StringWidth(p) <= w {
		return p
	}
	parts := strings.Split(filepath.ToSlash(p), "/")
	for i := 1; i < len(parts); i++ {
		if s := "…/" + strings.Join(parts[i:], "/"); ansi.StringWidth(s) <= w || i == len(parts)-1 {
			return s
		}
	}
	return p
}
