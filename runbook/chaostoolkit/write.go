package chaostoolkit

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// The runbook is written by hand rather than marshalled so that it can carry
// comments where the reader needs them (what was imported from where, what
// is a placeholder) and so that the output is the same byte for byte on
// every run. Scalars are quoted by yaml.v3, which knows YAML's rules.

// doc is the runbook being built, in the order it is written.
type doc struct {
	header      []string
	name        string
	nameTODO    string
	description string
	tags        []string
	metricsURL  string
	step        string
	timeout     string
	panels      []*panel
	baseline    string
	steady      []check
	statement   string
	stmtTODO    string
	expect      []check
	targets     []*target
	attacks     []*attack
	observe     string
	notes       []string
}

type panel struct {
	name, title, query, unit string
	comments                 []string
}

type check struct {
	panel, threshold string
	comment          string // trailing comment
	fromSteady       bool   // an expectation inherited from the steady state
}

type target struct {
	name     string
	key      string // identity of the selection, so repeated actions share a target
	comments []string
	// ssh
	hosts     []string
	hostsTODO string
	// aws
	region, regionTODO string
	resource           string
	tags               [][2]string
	filters            []filter
	ids                []string
	accounts           []string
	accountsTODO       string
	profile            string
	// blast radius
	blast        string // e.g. "count: 1" or "all: true"
	blastComment []string
}

type filter struct {
	name   string
	values []string
}

type attack struct {
	name, target, kind string
	comments           []string
	params             [][2]string
	paramComments      map[string]string
	start              float64 // seconds after the run starts
	end                float64 // seconds; 0 = until the method ends
	duration           string
	durationTODO       string
	irreversible       bool
	irreversibleNote   []string
}

// writer accumulates lines.
type writer struct{ b strings.Builder }

func (w *writer) line(indent int, s string) {
	w.b.WriteString(strings.Repeat("  ", indent))
	w.b.WriteString(s)
	w.b.WriteByte('\n')
}

func (w *writer) blank() { w.b.WriteByte('\n') }

// comment writes text as # lines; each line of text is one comment line.
func (w *writer) comment(indent int, text string) {
	for _, l := range strings.Split(text, "\n") {
		if l == "" {
			w.line(indent, "#")
			continue
		}
		w.line(indent, "# "+l)
	}
}

func (w *writer) comments(indent int, cs []string) {
	for _, c := range cs {
		w.comment(indent, c)
	}
}

// kv writes key: value with an optional trailing comment; value is raw YAML.
func (w *writer) kv(indent int, key, value, trailing string) {
	s := scalar(key) + ":"
	if value != "" {
		s += " " + value
	}
	if trailing != "" {
		s += "  # " + trailing
	}
	w.line(indent, s)
}

// text writes a string field, as a literal block when it spans lines.
func (w *writer) text(indent int, key, s string) {
	s = strings.TrimRight(s, " \t\n")
	if !strings.Contains(s, "\n") {
		w.kv(indent, key, scalar(s), "")
		return
	}
	if !blockSafe(s) {
		w.kv(indent, key, strconv.Quote(s), "")
		return
	}
	header := "|"
	if strings.HasPrefix(s, " ") {
		header = "|2" // a leading space would otherwise set the indentation
	}
	w.kv(indent, key, header, "")
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) == "" {
			w.blank()
			continue
		}
		w.line(indent+1, l)
	}
}

// blockSafe reports whether s can be a literal block scalar unchanged: only
// printable characters, and no line that is only spaces (which a block
// scalar would not keep).
func blockSafe(s string) bool {
	for _, r := range s {
		if r != '\n' && r != '\t' && !unicode.IsPrint(r) {
			return false
		}
	}
	for _, l := range strings.Split(s, "\n") {
		if l != "" && strings.TrimSpace(l) == "" {
			return false
		}
		if strings.HasSuffix(l, " ") || strings.HasSuffix(l, "\t") {
			return false
		}
	}
	return true
}

// scalar renders s as a single-line YAML scalar, quoted only where needed.
func scalar(s string) string {
	if strings.ContainsAny(s, "\n\r") || !blockSafe(s) {
		return strconv.Quote(s)
	}
	b, err := yaml.Marshal(s)
	if err != nil {
		return strconv.Quote(s)
	}
	return strings.TrimSuffix(string(b), "\n")
}

var plainParam = regexp.MustCompile(`^(true|false|-?[0-9]+(\.[0-9]+)?)$`)

// paramScalar writes numbers and booleans bare: params are read as text
// whatever their YAML type, and force: true reads better than force: "true".
func paramScalar(s string) string {
	if plainParam.MatchString(s) {
		return s
	}
	return scalar(s)
}

// list renders a list in flow style when every item is a plain word, so short
// lists stay on one line; otherwise each item gets its own line.
func (w *writer) list(indent int, key string, items []string, trailing string) {
	flow := len(items) > 0
	for _, it := range items {
		if q := scalar(it); q != it || strings.ContainsAny(it, ",[]{}#&*!|>'\"%@`") || it == "" {
			flow = false
		}
	}
	if flow {
		w.kv(indent, key, "["+strings.Join(items, ", ")+"]", trailing)
		return
	}
	w.kv(indent, key, "", trailing)
	for _, it := range items {
		w.line(indent+1, "- "+scalar(it))
	}
}

// todo writes a TODO(import) comment where the importer left one.
func (w *writer) todo(indent int, why string) {
	if why != "" {
		w.comment(indent, "TODO(import): "+why)
	}
}

// render writes the runbook section by section, in the order the runbook
// format documents them.
func (d *doc) render() []byte {
	var w writer
	for _, section := range []func(*writer){
		d.renderHead, d.renderMetrics, d.renderBaseline, d.renderHypothesis,
		d.renderGuardrails, d.renderTargets, d.renderBlastRadius, d.renderAttacks, d.renderEnd,
	} {
		section(&w)
	}
	return []byte(w.b.String())
}

func (d *doc) renderHead(w *writer) {
	w.comments(0, d.header)
	w.kv(0, "version", "1", "")
	w.todo(0, d.nameTODO)
	w.kv(0, "name", scalar(d.name), "")
	if d.description != "" {
		w.text(0, "description", d.description)
	}
	if len(d.tags) > 0 {
		w.list(0, "tags", d.tags, "")
	}
}

func (d *doc) renderMetrics(w *writer) {
	w.blank()
	w.kv(0, "metrics", "", "")
	if d.metricsURL != "" {
		w.kv(1, "url", scalar(d.metricsURL), "")
	} else {
		w.comment(1, "url: comes from --prometheus or GAMEDAY_PROMETHEUS_URL, or write it here.")
	}
	w.kv(1, "step", d.step, "")
	if d.timeout != "" {
		w.kv(1, "timeout", d.timeout, "")
	}
	w.kv(1, "panels", "", "")
	for _, p := range d.panels {
		w.comments(2, p.comments)
		w.kv(2, p.name, "", "")
		w.kv(3, "query", scalar(p.query), "")
		if p.unit != "" {
			w.kv(3, "unit", p.unit, "")
		}
		w.kv(3, "title", scalar(p.title), "")
	}
}

func (d *doc) renderBaseline(w *writer) {
	w.blank()
	w.kv(0, "baseline", "", "")
	w.comment(1, "Chaos Toolkit checks the steady state once; gameday measures it over a window.")
	w.kv(1, "duration", d.baseline, "")
	if len(d.steady) > 0 {
		w.kv(1, "steady_state", "", "")
		w.checks(2, d.steady)
	}
}

func (d *doc) renderHypothesis(w *writer) {
	w.blank()
	w.kv(0, "hypothesis", "", "")
	w.todo(1, d.stmtTODO)
	w.text(1, "statement", d.statement)
	w.comment(1, "Chaos Toolkit re-checks the steady state after the method; gameday holds it throughout.")
	w.kv(1, "expect", "", "")
	w.checks(2, d.expect)
}

func (w *writer) checks(indent int, checks []check) {
	for _, c := range checks {
		w.kv(indent, c.panel, strconv.Quote(c.threshold), c.comment)
	}
}

func (d *doc) renderGuardrails(w *writer) {
	w.blank()
	w.kv(0, "guardrails", "", "")
	w.comment(1, "Chaos Toolkit has no stop conditions of its own. Add the thresholds that should")
	w.comment(1, `abort the game day, e.g. error_rate: "> 10% for 15s".`)
	w.kv(1, "metrics_blind", "60s", "")
}

func (d *doc) renderTargets(w *writer) {
	w.blank()
	w.kv(0, "targets", "", "")
	for _, t := range d.targets {
		w.comments(1, t.comments)
		w.kv(1, t.name, "", "")
		if t.resource == "" {
			t.renderSSH(w)
		} else {
			t.renderAWS(w)
		}
	}
}

func (t *target) renderSSH(w *writer) {
	w.kv(2, "ssh", "", "")
	w.todo(3, t.hostsTODO)
	w.list(3, "hosts", t.hosts, "")
	w.comment(3, "user: gameday")
	w.kv(3, "sudo", "true", "")
}

func (t *target) renderAWS(w *writer) {
	w.kv(2, "aws", "", "")
	w.todo(3, t.regionTODO)
	w.kv(3, "region", scalar(t.region), "")
	w.kv(3, "resource", t.resource, "")
	if len(t.tags) > 0 {
		w.kv(3, "tags", "", "")
		for _, kv := range t.tags {
			w.kv(4, kv[0], scalar(kv[1]), "")
		}
	}
	if len(t.filters) > 0 {
		w.kv(3, "filters", "", "")
		for _, f := range t.filters {
			w.list(4, f.name, f.values, "")
		}
	}
	if len(t.ids) > 0 {
		w.list(3, "ids", t.ids, "")
	}
	w.todo(3, t.accountsTODO)
	w.kv(3, "accounts", "", "")
	for _, a := range t.accounts {
		w.line(4, "- "+strconv.Quote(a))
	}
	if t.profile != "" {
		w.kv(3, "profile", scalar(t.profile), "")
	}
}

func (d *doc) renderBlastRadius(w *writer) {
	w.blank()
	w.kv(0, "blast_radius", "", "")
	for _, t := range d.targets {
		w.comments(1, t.blastComment)
		w.kv(1, t.name, "{"+t.blast+"}", "")
	}
}

func (d *doc) renderAttacks(w *writer) {
	w.blank()
	w.kv(0, "attacks", "", "")
	for _, a := range d.attacks {
		w.comments(1, a.comments)
		w.line(1, "- name: "+scalar(a.name))
		w.kv(2, "target", scalar(a.target), "")
		w.kv(2, "kind", a.kind, "")
		if len(a.params) > 0 {
			w.kv(2, "params", "", "")
			for _, p := range a.params {
				w.kv(3, p[0], paramScalar(p[1]), a.paramComments[p[0]])
			}
		}
		if a.start > 0 {
			w.kv(2, "start_after", seconds(a.start), "")
		}
		w.todo(2, a.durationTODO)
		w.kv(2, "duration", a.duration, "")
		if a.irreversible {
			w.comments(2, a.irreversibleNote)
			w.kv(2, "allow_irreversible", "true", "")
		}
	}
}

// renderEnd writes the observe window and the importer's notes.
func (d *doc) renderEnd(w *writer) {
	if d.observe != "" {
		w.blank()
		w.kv(0, "observe", "", "")
		w.comment(1, "The experiment's method runs on after its last fault ends; keep watching as long.")
		w.kv(1, "duration", d.observe, "")
	}
	if len(d.notes) > 0 {
		w.blank()
		w.text(0, "notes", strings.Join(d.notes, "\n"))
	}
}

// seconds renders a number of seconds as a Go duration: 90 -> 1m30s.
func seconds(s float64) string {
	d := fmt.Sprint(secondsDuration(s))
	if strings.HasSuffix(d, "m0s") {
		d = strings.TrimSuffix(d, "0s")
	}
	if strings.HasSuffix(d, "h0m") {
		d = strings.TrimSuffix(d, "0m")
	}
	return d
}
