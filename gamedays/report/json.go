package report

import (
	"encoding/json"
	"io"
)

// JSON writes the report for tools, in the layout named by Schema and
// documented in docs/report.md.
func (r *Report) JSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}
