package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// JUnit XML is what CI systems (Jenkins, GitLab, GitHub Actions) show as
// test results. A run is one suite; each thing the runbook asserted is one
// test case: the steady-state checks, the expectations, the guardrails and
// the expected alerts, and a last case for the verdict itself. A refuted
// expectation is a failure; a run that was aborted, blocked or did not
// finish is an error, never a pass, and what it left unjudged is an error
// too. The layout follows the junit-4 schema CI tools accept
// (testdata/junit-4.xsd).

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	ID         string          `xml:"id,attr,omitempty"`
	Package    string          `xml:"package,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  string          `xml:"system-out,omitempty"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Skipped   *junitSkipped `xml:"skipped"`
	Error     *junitResult  `xml:"error"`
	Failure   *junitResult  `xml:"failure"`
}

type junitSkipped struct {
	Message string `xml:"message,attr,omitempty"`
}

type junitResult struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// JUnit writes the reports as one JUnit XML document, a suite per run.
func JUnit(w io.Writer, reports ...*Report) error {
	var suites []junitSuite
	var total float64
	for _, r := range reports {
		suites = append(suites, r.junitSuite())
		total += r.Duration
	}
	return writeJUnit(w, suites, total)
}

// RefusedJUnit writes the JUnit XML of a run refused before it began (a
// runbook that does not load, credentials that do not work, a blast radius
// nobody confirmed): one suite named after the runbook file with one case,
// the run, in error with why. CI then shows a refused run as an error
// rather than no result at all.
func RefusedJUnit(w io.Writer, runbookFile, why string, at time.Time) error {
	s := junitSuite{Name: runbookFile, Time: "0.000", Timestamp: at.UTC().Format("2006-01-02T15:04:05"), Package: "gameday",
		Properties: []junitProperty{{"runbook_file", runbookFile}, {"outcome", "refused"}}}
	s.Tests, s.Errors = 1, 1
	s.Cases = []junitCase{{Name: "verdict", ClassName: "gameday.run", Time: "0.000",
		Error: &junitResult{Message: "run refused before it began: " + firstLine(why), Type: "refused", Text: why}}}
	return writeJUnit(w, []junitSuite{s}, 0)
}

func writeJUnit(w io.Writer, suites []junitSuite, total float64) error {
	doc := junitSuites{Name: "gameday", Suites: suites, Time: junitSeconds(total)}
	for _, s := range suites {
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// JUnit writes this run's report as JUnit XML.
func (r *Report) JUnit(w io.Writer) error { return JUnit(w, r) }

func junitSeconds(s float64) string { return fmt.Sprintf("%.3f", math.Max(s, 0)) }

func (r *Report) junitSuite() junitSuite {
	s := junitSuite{
		Name: r.Title, Time: junitSeconds(r.Duration), Timestamp: r.Start.UTC().Format("2006-01-02T15:04:05"),
		ID: r.RunID, Package: "gameday",
		Properties: []junitProperty{
			{"run_id", r.RunID}, {"runbook_file", r.RunbookFile}, {"outcome", r.Status.Outcome},
			{"verdict", verdictWord(r.Verdict.Value)}, {"tool_version", r.ToolVersion},
		},
	}
	// Whatever the run did not get to judge is an error when the run did
	// not end on a verdict of its own (held or refuted).
	unjudged := ""
	switch r.Status.Outcome {
	case "aborted", "blocked", "incomplete":
		unjudged = "not judged: the run was " + r.Status.Outcome
		if r.Verdict.Reason != "" {
			unjudged += " (" + r.Verdict.Reason + ")"
		}
	}
	add := func(c junitCase) {
		s.Tests++
		switch {
		case c.Error != nil:
			s.Errors++
		case c.Failure != nil:
			s.Failures++
		case c.Skipped != nil:
			s.Skipped++
		}
		s.Cases = append(s.Cases, c)
	}
	for _, c := range r.SteadyState {
		add(r.checkCase("steady state", c, unjudged))
	}
	for _, c := range r.Hypothesis.Expectations {
		add(r.checkCase("expectation", c, unjudged))
	}
	for _, g := range r.Guardrails {
		add(r.guardrailCase(g))
	}
	for _, a := range r.Alerts {
		c := junitCase{Name: "alert " + a.Alert + " fires", ClassName: "gameday.alert", Time: "0"}
		if a.Forbid {
			c.Name = "alert " + a.Alert + " stays silent"
		}
		if !a.Held {
			c.Failure = &junitResult{Message: a.Text, Type: "refuted", Text: a.Text}
		}
		add(c)
	}
	add(r.verdictCase())
	var out []string
	for _, w := range r.Warnings {
		out = append(out, "warning: "+w)
	}
	// A held verdict passes; what it could not cover must still reach
	// whoever reads the CI log.
	for _, a := range r.Attacks {
		switch {
		case a.EndedEarly != "":
			out = append(out, fmt.Sprintf("warning: %s on %s ended early: %s", a.Name, a.Member, a.EndedEarly))
		case a.Gone:
			out = append(out, fmt.Sprintf("warning: %s on %s was no longer in place when its rollback came: something other than gameday ended it", a.Name, a.Member))
		}
	}
	if r.Status.Notice != "" {
		out = append(out, r.Status.Notice)
	}
	s.SystemOut = strings.Join(out, "\n")
	return s
}

// checkCase is one threshold: its measured value against its limit.
func (r *Report) checkCase(kind string, c Check, unjudged string) junitCase {
	u := r.unit(c.Panel)
	jc := junitCase{Name: kind + " " + c.Panel + " " + c.Threshold, ClassName: "gameday." + strings.ReplaceAll(kind, " ", "_"), Time: "0"}
	measured := fmt.Sprintf("%s %s: measured %s, threshold %s (limit %s)", c.Panel, kind, limitText(c.Value, u), c.Threshold, limitText(c.Limit, u))
	switch {
	case c.Held == nil && unjudged != "":
		jc.Error = &junitResult{Message: c.Panel + " " + c.Threshold + ": " + unjudged, Type: "unjudged", Text: c.Text}
	case c.Held == nil:
		jc.Skipped = &junitSkipped{Message: "not judged"}
	case c.NoData:
		jc.Error = &junitResult{Message: c.Panel + " " + kind + ": no data, threshold " + c.Threshold, Type: "no-data", Text: c.Text}
	case !*c.Held:
		jc.Failure = &junitResult{Message: measured, Type: "refuted", Text: c.Text}
	}
	return jc
}

// guardrailCase passes when the guardrail never fired.
func (r *Report) guardrailCase(g Guardrail) junitCase {
	jc := junitCase{Name: "guardrail " + g.Panel + " " + g.Threshold, ClassName: "gameday.guardrail", Time: "0"}
	for _, b := range r.Breaches {
		if b.Panel != g.Panel && !(g.Panel == "(any)" && b.Panel == "") {
			continue
		}
		msg := b.Text
		for _, c := range r.Verdict.Evidence {
			if c.Panel == g.Panel && c.Threshold == g.Threshold {
				u := r.unit(c.Panel)
				msg = fmt.Sprintf("%s guardrail fired at T+%s: measured %s, threshold %s (limit %s)", g.Panel, clock(b.T), limitText(c.Value, u), g.Threshold, limitText(c.Limit, u))
			}
		}
		jc.Failure = &junitResult{Message: msg, Type: "breach", Text: b.Text}
		break
	}
	return jc
}

// verdictCase is the run as a whole: held passes, refuted fails, aborted,
// blocked and unfinished runs are errors, a dry run is skipped.
func (r *Report) verdictCase() junitCase {
	jc := junitCase{Name: "verdict", ClassName: "gameday.run", Time: junitSeconds(r.Duration)}
	reason := r.Verdict.Reason
	switch r.Status.Outcome {
	case "held":
	case "refuted":
		jc.Failure = &junitResult{Message: "hypothesis refuted: " + reason, Type: "refuted", Text: r.evidenceText()}
	case "dry-run":
		jc.Skipped = &junitSkipped{Message: "dry run: nothing was injected"}
	default:
		if reason == "" {
			reason = r.Status.Notice
		}
		jc.Error = &junitResult{Message: "run " + r.Status.Outcome + ": " + reason, Type: r.Status.Outcome, Text: r.evidenceText()}
	}
	if n := len(r.Unreverted); n > 0 && jc.Error == nil {
		jc.Failure = nil
		jc.Error = &junitResult{Message: fmt.Sprintf("%d injection(s) may still be applied; run gameday recover", n), Type: "unreverted"}
	}
	return jc
}

func (r *Report) evidenceText() string {
	var lines []string
	for _, c := range r.Verdict.Evidence {
		u := r.unit(c.Panel)
		lines = append(lines, fmt.Sprintf("%s: measured %s, threshold %s (limit %s): %s", c.Panel, limitText(c.Value, u), c.Threshold, limitText(c.Limit, u), c.Text))
	}
	return strings.Join(lines, "\n")
}
