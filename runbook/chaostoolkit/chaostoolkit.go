// Package chaostoolkit turns a Chaos Toolkit experiment (JSON or YAML) into a
// gameday runbook. Chaos Toolkit is the format teams already have; importing
// it gives them a runbook to review instead of a blank page.
//
// The two formats do not line up one to one. Chaos Toolkit checks a steady
// state with probes of any kind before and after a method; gameday charts
// Prometheus panels throughout and holds thresholds against them. So the
// import maps what has a faithful equivalent (title, description, tags,
// Prometheus probes and their range tolerances, EC2 stop/terminate, Lambda
// concurrency, pauses), and reports everything else as a Warning with the
// JSON path it came from. Nothing is dropped silently: what cannot be mapped
// is warned about and described in the runbook's notes. Where a runbook field
// is required but the experiment cannot say (an AWS account, SSH hosts), the
// import writes a valid placeholder marked `# TODO(import): …` and warns.
package chaostoolkit

import (
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Result is an imported runbook and what the import could not carry over.
type Result struct {
	YAML     []byte    // the runbook, commented
	Warnings []Warning // in the order the experiment was read
}

// Warning is one part of the experiment that did not map, or mapped only
// approximately.
type Warning struct {
	Path string // JSON path in the experiment, e.g. $.method[2].provider.arguments.filters
	Msg  string
}

// String renders the warning as "path: message", the way the CLI prints it.
func (w Warning) String() string { return w.Path + ": " + w.Msg }

// Placeholders the import writes where the experiment cannot say. They are
// valid, and chosen so that they can never touch anything real: an account
// id AWS never issues, a host name under the reserved .invalid domain.
const (
	placeholderAccount = "000000000000"
	placeholderHost    = "replace-me.invalid"
	placeholderRegion  = "us-east-1"
	defaultDuration    = 5 * 60 // seconds, when nothing in the experiment bounds an attack
)

// Import converts the Chaos Toolkit experiment in data. file names it in
// messages and in the runbook's header. The error is only for input that is
// not an experiment at all; everything else becomes warnings.
func Import(file string, data []byte) (Result, error) {
	root, err := decode(file, data)
	if err != nil {
		return Result{}, err
	}
	top := val{root, "$"}
	if !top.isMap() {
		return Result{}, fmt.Errorf("%s: a Chaos Toolkit experiment is a JSON/YAML object with title, steady-state-hypothesis and method; found %s", file, kindOf(top))
	}
	im := &importer{
		file:     file,
		cfg:      map[string]cfgValue{},
		named:    map[string]val{},
		produced: map[string]string{},
		d: &doc{
			baseline: "2m",
			step:     "5s",
		},
	}
	im.run(top)
	return Result{YAML: im.d.render(), Warnings: im.warns}, nil
}

func kindOf(v val) string {
	switch {
	case v.isMap():
		return "a mapping"
	case v.isList():
		return "a list"
	case v.isScalar():
		return fmt.Sprintf("%q", v.node().Value)
	}
	return "nothing"
}

type cfgValue struct {
	value string
	known bool // false for env-typed entries without a default
	path  string
}

type importer struct {
	file    string
	cfg     map[string]cfgValue
	cfgUsed map[string]bool
	named   map[string]val // activities by name, for {ref: name}
	// produced says what each named activity became ("panel", "attack"),
	// so that a ref repeats what was imported and warns about what was not.
	produced map[string]string
	warns    []Warning
	d        *doc

	clock       float64  // seconds into the method, advanced by pauses
	stepSet     string   // path of the probe that set metrics.step
	attackPaths []string // where each attack came from, for warnings written later
	steadyPath  string
}

// warn records a warning once: an activity run again through a ref would
// otherwise repeat its warnings word for word.
func (im *importer) warn(path, format string, args ...any) {
	w := Warning{Path: path, Msg: fmt.Sprintf(format, args...)}
	if !slices.Contains(im.warns, w) {
		im.warns = append(im.warns, w)
	}
}

func (im *importer) note(format string, args ...any) {
	im.d.notes = append(im.d.notes, "- "+fmt.Sprintf(format, args...))
}

// run walks the experiment. Configuration comes first whatever its place in
// the file, because every later string may refer to it as ${name}.
func (im *importer) run(top val) {
	im.cfgUsed = map[string]bool{}
	if c, ok := top.get("configuration"); ok {
		im.configuration(c)
	}
	// chaosprometheus reads the server from here, and so does the runbook.
	if url, ok := im.cfgString("prometheus_base_url"); ok {
		im.d.metricsURL = url
	}
	im.d.header = []string{
		"Imported from the Chaos Toolkit experiment " + filepath.Base(im.file) + ".",
		"Read every TODO(import) and the notes at the end, then: gameday validate FILE",
	}
	for _, f := range top.fields() {
		switch f.key {
		case "version", "configuration":
			// version is the experiment format's, not ours; configuration was read above.
		case "title":
			if s, ok := f.val.str(); ok && strings.TrimSpace(s) != "" {
				im.d.name = strings.TrimSpace(im.subst(s, f.val.path))
			}
		case "description":
			if s, ok := f.val.str(); ok {
				im.d.description = im.subst(s, f.val.path)
			} else {
				im.warn(f.val.path, "expected a string, found %s; not imported", kindOf(f.val))
			}
		case "tags":
			im.tags(f.val)
		case "contributions":
			im.contributions(f.val)
		case "secrets":
			im.warn(f.val.path, "secrets are not imported: gameday takes AWS credentials from the standard chain (or a target's profile) and Prometheus credentials from metrics.auth files")
		case "extensions":
			for _, e := range f.val.items() {
				im.warn(e.path, "extension %q is not imported; gameday has no extension mechanism", e.getStr("name"))
			}
			if !f.val.isList() {
				im.warn(f.val.path, "extensions are not imported")
			}
		case "controls":
			im.controls(f.val)
		case "runtime":
			im.warn(f.val.path, "runtime strategies are not imported: gameday always rolls back and holds the hypothesis for the whole run")
		case "steady-state-hypothesis":
			im.steadyState(f.val)
		case "method":
			im.activities(f.val, phaseMethod, "actions and probes")
		case "rollbacks":
			im.activities(f.val, phaseRollback, "actions")
		default:
			im.warn(f.val.path, "%q is not part of the Chaos Toolkit format this import knows; not imported", f.key)
		}
	}
	for _, k := range sortedKeys(im.cfg) {
		if !im.cfgUsed[k] {
			c := im.cfg[k]
			im.warn(c.path, "configuration %q is not used by anything the import mapped; not imported", k)
		}
	}
	im.finish()
}

func (im *importer) tags(v val) {
	for _, t := range v.items() {
		if s, ok := t.str(); ok && s != "" {
			im.d.tags = append(im.d.tags, s)
		} else {
			im.warn(t.path, "tag is not a string; not imported")
		}
	}
	if !v.isList() {
		im.warn(v.path, "expected a list of tags, found %s; not imported", kindOf(v))
	}
}

func (im *importer) contributions(v val) {
	var parts []string
	for _, f := range v.fields() {
		parts = append(parts, f.key+": "+f.val.text())
	}
	if len(parts) == 0 {
		im.warn(v.path, "expected a mapping of contribution: level; not imported")
		return
	}
	im.note("contributions (from the experiment): %s", strings.Join(parts, ", "))
}

func (im *importer) controls(v val) {
	for _, c := range v.items() {
		what := "control"
		if n := c.getStr("name"); n != "" {
			what = fmt.Sprintf("control %q", n)
		}
		if mod := c.get2("provider", "module"); mod != "" {
			what += " (" + mod + ")"
		}
		if strings.Contains(c.get2("provider", "module"), "safeguards") {
			im.warn(c.path, "%s is not imported; its probes are the kind of stop condition gameday calls guardrails: express them as panel thresholds under guardrails", what)
		} else {
			im.warn(c.path, "%s is not imported; gameday has no controls", what)
		}
		im.note("not imported: %s", what)
	}
	if !v.isList() {
		im.warn(v.path, "controls are not imported")
	}
}

func (v val) get2(a, b string) string {
	x, ok := v.get(a)
	if !ok {
		return ""
	}
	return x.getStr(b)
}

// configuration reads the values ${name} may refer to. Chaos Toolkit also
// lets a value come from the environment at run time; the import can only
// use its default.
func (im *importer) configuration(v val) {
	for _, f := range v.fields() {
		c := cfgValue{path: f.val.path}
		switch {
		case f.val.isScalar():
			c.value, c.known = f.val.node().Value, true
		case f.val.isMap() && f.val.getStr("type") == "env":
			key := f.val.getStr("key")
			if d, ok := f.val.get("default"); ok && d.isScalar() {
				c.value, c.known = d.node().Value, true
				im.warn(f.val.path, "read from environment variable %s when Chaos Toolkit runs; the import used its default %q", key, c.value)
			} else {
				im.warn(f.val.path, "read from environment variable %s when Chaos Toolkit runs and has no default; the import cannot know its value", key)
			}
		default:
			im.warn(f.val.path, "configuration of this shape is not imported")
		}
		im.cfg[f.key] = c
	}
}

var reference = regexp.MustCompile(`\$\{([A-Za-z0-9_.-]+)\}`)

// subst replaces ${name} with configuration values, as Chaos Toolkit does
// before it runs an activity.
func (im *importer) subst(s, path string) string {
	return reference.ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-1]
		c, ok := im.cfg[name]
		im.cfgUsed[name] = true
		if !ok {
			im.warn(path, "%s is not defined in configuration; left as it is", m)
			return m
		}
		if !c.known {
			im.warn(path, "%s has no value the import can know; left as it is", m)
			return m
		}
		return c.value
	})
}

// cfgString returns a configuration value that the runbook has a field for.
func (im *importer) cfgString(name string) (string, bool) {
	c, ok := im.cfg[name]
	if !ok {
		return "", false
	}
	im.cfgUsed[name] = true
	return c.value, c.known
}

func (im *importer) steadyState(v val) {
	im.steadyPath = v.path
	if !v.isMap() {
		im.warn(v.path, "expected a mapping with title and probes, found %s; not imported", kindOf(v))
		return
	}
	for _, f := range v.fields() {
		switch f.key {
		case "title":
			if s, ok := f.val.str(); ok {
				im.d.statement = strings.TrimSpace(im.subst(s, f.val.path))
			}
		case "probes":
			for _, p := range f.val.items() {
				im.activity(p, phaseSteady)
			}
		case "controls":
			im.controls(f.val)
		default:
			im.warn(f.val.path, "%q is not imported", f.key)
		}
	}
}

// activities imports a list of activities of one phase; what says which
// kinds the list holds, for the message when it is not a list.
func (im *importer) activities(v val, ph phase, what string) {
	if !v.isList() {
		im.warn(v.path, "expected a list of %s, found %s; not imported", what, kindOf(v))
		return
	}
	for _, a := range v.items() {
		im.activity(a, ph)
	}
}

// uniqueName returns base, or the first of base numbered 2, 3, ... (as
// format writes it) that no item is named yet.
func uniqueName[T any](base, format string, items []T, nameOf func(T) string) string {
	name := base
	for i := 2; slices.ContainsFunc(items, func(x T) bool { return nameOf(x) == name }); i++ {
		name = fmt.Sprintf(format, base, i)
	}
	return name
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

func secondsDuration(s float64) time.Duration {
	return time.Duration(math.Round(s*1000)) * time.Millisecond
}

var nonWord = regexp.MustCompile(`[^a-z0-9]+`)

// ident turns a free-form name into a panel or target name.
func ident(s, sep, fallback string) string {
	s = strings.Trim(nonWord.ReplaceAllString(strings.ToLower(s), sep), sep)
	if s == "" {
		return fallback
	}
	if s[0] >= '0' && s[0] <= '9' {
		s = fallback + sep + s
	}
	return s
}

func formatNumber(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
