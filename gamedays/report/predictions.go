package report

import (
	"strings"

	"github.com/gameday/gameday/runbook"
)

// Prediction is one guess written before the run, beside what was measured
// in the panels it speaks of.
type Prediction struct {
	Note
	// Measured is, per panel the prediction names (every panel when it
	// names none), the judged expectation's value in words.
	Measured []string `json:"measured"`
}

// PredictedPanels are the panels a prediction in words speaks of, by name
// or title ("p95", "error rate", "P95 latency"); every panel when it names
// none. The console and the report both ask it, so they compare a
// prediction with the same measurements.
func PredictedPanels(text string, panels []runbook.Panel) []string {
	words := " " + strings.Map(func(r rune) rune {
		if r == '_' || r == '-' || r == '[' || r == ']' || r == ',' || r == '.' || r == ':' || r == ';' {
			return ' '
		}
		return r
	}, strings.ToLower(text)) + " "
	var out, all []string
	for _, p := range panels {
		all = append(all, p.Name)
		for _, name := range []string{p.Name, p.Title} {
			n := strings.ReplaceAll(strings.ToLower(name), "_", " ")
			if n != "" && strings.Contains(words, " "+n+" ") {
				out = append(out, p.Name)
				break
			}
		}
	}
	if len(out) == 0 {
		return all
	}
	return out
}

// CheckLabel is the panel and series a judged check's evidence names
// ("p95[web-2]" from "p95[web-2] broken: ..."), or the panel alone.
func CheckLabel(panel, text string) string {
	label, _, _ := strings.Cut(text, " ")
	if !strings.HasPrefix(label, panel) {
		return panel
	}
	return label
}

// measuredText is a judged expectation as a prediction is compared with
// it: the series and value the verdict rests on, and the result.
func measuredText(c Check, u runbook.Unit) string {
	if c.NoData {
		return c.Panel + ": no data"
	}
	if c.Held == nil {
		return c.Panel + ": not judged"
	}
	return CheckLabel(c.Panel, c.Text) + " " + val(c.Value, u) + " (" + heldText(c) + " against " + c.Threshold + ")"
}

// predictions pairs each prediction with what was measured.
func (b *builder) predictions() {
	r := b.r
	var panels []runbook.Panel
	for _, p := range r.Panels {
		panels = append(panels, runbook.Panel{Name: p.Name, Title: p.Title})
	}
	for i, p := range r.Predictions {
		p.Measured = []string{}
		for _, name := range PredictedPanels(p.Text, panels) {
			for _, c := range r.Hypothesis.Expectations {
				if c.Panel == name {
					p.Measured = append(p.Measured, measuredText(c, r.unit(c.Panel)))
				}
			}
		}
		r.Predictions[i] = p
	}
}
