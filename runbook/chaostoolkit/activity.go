package chaostoolkit

import (
	"fmt"
	"path"
	"strings"
)

// phase is where an activity appears; the same provider means different
// things in each (a Prometheus probe is a steady-state threshold before the
// method and an expectation during it; an action is an attack in the method
// and an undo in the rollbacks).
type phase int

const (
	phaseSteady phase = iota
	phaseMethod
	phaseRollback
)

func (p phase) String() string {
	switch p {
	case phaseSteady:
		return "steady-state probe"
	case phaseMethod:
		return "method activity"
	}
	return "rollback"
}

// Attack kinds and their parameter names, as the targets catalogue defines them.
const (
	kindEC2Stop      = "ec2-stop"
	kindEC2Terminate = "ec2-terminate"
	kindLambda       = "lambda-throttle"
	kindProcessKill  = "process-kill"
	kindCPU          = "cpu"
	paramProcessName = "name"
	paramSignal      = "signal"
	paramForce       = "force"
	paramConcurrency = "concurrency"
)

// activity maps one probe or action.
func (im *importer) activity(a val, ph phase) {
	if !a.isMap() {
		im.warn(a.path, "expected an activity (a mapping with type, name and provider), found %s; not imported", kindOf(a))
		return
	}
	if ref, ok := a.get("ref"); ok {
		im.ref(a, ref, ph)
		return
	}
	name := a.getStr("name")
	if name != "" {
		im.named[name] = a
	}
	label := fmt.Sprintf("%s %q", ph, name)
	for _, f := range a.fields() {
		switch f.key {
		case "type", "name", "provider", "tolerance":
		case "pauses":
			for _, p := range f.val.fields() {
				if p.key != "before" && p.key != "after" {
					im.warn(p.val.path, "%q is not a pause Chaos Toolkit knows; not imported", p.key)
				}
			}
		case "background":
			if s, _ := f.val.str(); s == "true" {
				im.warn(f.val.path, "runs in the background in Chaos Toolkit; in gameday every attack runs on its own schedule (start_after), so this is implied")
			}
		case "controls":
			im.controls(f.val)
		default:
			im.warn(f.val.path, "%q is not imported", f.key)
		}
	}
	im.pause(a, "before", ph)
	prov, ok := a.get("provider")
	if !ok || !prov.isMap() {
		im.warn(a.path, "%s has no provider; not imported", label)
	} else {
		im.provider(a, prov, name, label, ph)
	}
	im.pause(a, "after", ph)
}

// ref re-runs an activity defined earlier. A probe that already became a
// panel needs nothing more; anything else is mapped again at this point in
// time.
func (im *importer) ref(a, ref val, ph phase) {
	name, _ := ref.str()
	orig, ok := im.named[name]
	if !ok {
		im.warn(ref.path, "refers to %q, which no earlier activity is called; not imported", name)
		return
	}
	for _, f := range a.fields() {
		if f.key != "ref" && f.key != "pauses" {
			im.warn(f.val.path, "%q next to ref is not imported", f.key)
		}
	}
	im.pause(a, "before", ph)
	switch prov, _ := orig.get("provider"); {
	case im.produced[name] == "panel" && ph != phaseRollback:
		// Charted already: a panel is watched for the whole game day.
	case im.produced[name] == "attack" && ph == phaseMethod:
		// The same fault again, later: another attack at this point in time.
		im.provider(orig, prov, name, fmt.Sprintf("%s %q (again, via ref at %s)", ph, name, a.path), ph)
	default:
		im.warn(ref.path, "refers to %q (%s), which was not imported", name, orig.path)
	}
	im.pause(a, "after", ph)
}

// pause advances the method's clock. Chaos Toolkit's activities return at
// once and pauses are what give a fault time to act, so the clock decides
// when each attack starts and how long it lasts.
func (im *importer) pause(a val, which string, ph phase) {
	p, ok := a.get("pauses")
	if !ok {
		return
	}
	v, ok := p.get(which)
	if !ok {
		return
	}
	secs, ok := v.number()
	if s, isStr := v.str(); isStr && !ok {
		if n, err := parseNumber(im.subst(s, v.path)); err == nil {
			secs, ok = n, true
		}
	}
	switch {
	case !ok || secs < 0:
		im.warn(v.path, "expected a number of seconds, found %s; not imported", kindOf(v))
	case ph == phaseMethod:
		im.clock += secs
	default:
		im.warn(v.path, "a pause in a %s has no gameday equivalent (only method pauses set start_after and duration); not imported", ph)
	}
}

func isPrometheus(prov val) bool {
	mod, fn := prov.getStr("module"), prov.getStr("func")
	return prov.getStr("type") == "python" && mod == "chaosprometheus.probes" && (fn == "query" || fn == "query_interval")
}

func argStr(prov val, name string) string {
	args, _ := prov.get("arguments")
	return args.getStr(name)
}

func (im *importer) provider(a, prov val, name, label string, ph phase) {
	typ := prov.getStr("type")
	switch typ {
	case "python":
		mod, fn := prov.getStr("module"), prov.getStr("func")
		switch {
		case isPrometheus(prov):
			im.prometheus(a, prov, name, ph)
			return
		case mod == "chaosaws.ec2.actions":
			switch fn {
			case "stop_instances", "stop_instance", "terminate_instances", "terminate_instance":
				im.ec2(a, prov, name, fn, label, ph)
				return
			case "start_instances":
				im.undo(a, prov, name, label, ph, kindEC2Stop, "starts the instances again")
				return
			}
		case mod == "chaosaws.awslambda.actions":
			switch fn {
			case "put_function_concurrency":
				im.lambda(a, prov, name, label, ph)
				return
			case "delete_function_concurrency":
				im.undo(a, prov, name, label, ph, kindLambda, "removes the concurrency limit again")
				return
			}
		}
		im.warn(prov.path, "%s calls %s.%s, which has no gameday equivalent; not imported", label, mod, fn)
		im.note("not imported: %s (%s.%s%s)", label, mod, fn, im.argsText(prov))
	case "http":
		im.http(a, prov, label, ph)
	case "process":
		im.process(a, prov, name, label, ph)
	default:
		im.warn(prov.path, "%s has a provider of type %q, which gameday cannot run; not imported", label, typ)
		im.note("not imported: %s (provider %s)", label, prov.text())
	}
}

// argsText renders an activity's arguments for the notes, with ${name}
// replaced where the configuration knows it (a warning already names those
// it does not).
func (im *importer) argsText(prov val) string {
	args, ok := prov.get("arguments")
	if !ok {
		return ""
	}
	return " " + reference.ReplaceAllStringFunc(args.text(), func(m string) string {
		if c, ok := im.cfg[m[2:len(m)-1]]; ok && c.known {
			return c.value
		}
		return m
	})
}

// knownArgs warns about every argument the mapping does not use.
func (im *importer) knownArgs(prov val, label string, known ...string) val {
	for _, f := range prov.fields() {
		switch f.key {
		case "type", "module", "func", "arguments":
		case "secrets":
			im.warn(f.val.path, "secrets are not imported: gameday takes AWS credentials from the standard chain or the target's profile")
		default:
			im.warn(f.val.path, "%q is not imported", f.key)
		}
	}
	args, _ := prov.get("arguments")
	for _, f := range args.fields() {
		found := false
		for _, k := range known {
			found = found || f.key == k
		}
		if !found {
			im.warn(f.val.path, "argument %q of %s is not imported", f.key, label)
		}
	}
	return args
}

// prometheus charts a probe's query. Its tolerance becomes a threshold: in
// the steady state it must hold before the run and, since Chaos Toolkit
// checks the steady state again afterwards, throughout it; in the method it
// is an expectation.
func (im *importer) prometheus(a, prov val, name string, ph phase) {
	label := fmt.Sprintf("%s %q", ph, name)
	if ph == phaseRollback {
		im.warn(a.path, "%s queries Prometheus; gameday charts panels for the whole game day, so a rollback probe adds nothing; not imported", label)
		return
	}
	args := im.knownArgs(prov, label, "query", "when", "start", "end", "step")
	qv, ok := args.get("query")
	query, _ := qv.str()
	if !ok || strings.TrimSpace(query) == "" {
		im.warn(prov.path, "%s has no query; not imported", label)
		return
	}
	query = im.subst(query, qv.path)
	for _, k := range []string{"when", "start", "end"} {
		if v, ok := args.get(k); ok {
			im.warn(v.path, "%s=%s is not imported: gameday queries every step from the start of the game day to its end", k, v.text())
		}
	}
	if v, ok := args.get("step"); ok {
		im.step(v)
	}
	p := im.panelFor(query)
	if p == nil {
		p = &panel{name: im.panelName(name), title: name, query: query}
		if p.title == "" {
			p.title = p.name
		}
		p.comments = []string{fmt.Sprintf("From %s %q. Add unit: seconds, ratio or bytes if the query returns one.", ph, name)}
		im.d.panels = append(im.d.panels, p)
	}
	im.produced[name] = "panel"
	tol, ok := a.get("tolerance")
	if !ok {
		return
	}
	thr, ok := im.threshold(tol, label)
	if !ok {
		return
	}
	c := check{panel: p.name, threshold: thr, comment: "from the tolerance of " + label, fromSteady: ph == phaseSteady}
	if ph == phaseSteady && findCheck(im.d.steady, p.name) < 0 {
		im.d.steady = append(im.d.steady, c)
	}
	switch i := findCheck(im.d.expect, p.name); {
	case i < 0:
		im.d.expect = append(im.d.expect, c)
	case im.d.expect[i].fromSteady && ph == phaseMethod:
		// A probe in the method says what the author expects while the
		// fault is in force; that is closer to an expectation than the
		// steady state it would otherwise inherit.
		im.d.expect[i] = c
	default:
		im.warn(tol.path, "panel %s already has an expectation; this tolerance is not imported", p.name)
	}
}

func findCheck(cs []check, panel string) int {
	for i, c := range cs {
		if c.panel == panel {
			return i
		}
	}
	return -1
}

func (im *importer) panelFor(query string) *panel {
	for _, p := range im.d.panels {
		if p.query == query {
			return p
		}
	}
	return nil
}

func (im *importer) panelName(probe string) string {
	base := ident(probe, "_", "panel")
	if base == "metrics_blind" {
		base = "panel_metrics_blind"
	}
	return uniqueName(base, "%s_%d", im.d.panels, func(p *panel) string { return p.name })
}

// step sets metrics.step from query_interval's step (seconds). gameday has
// one step for all panels; a different step on a later probe is reported.
func (im *importer) step(v val) {
	secs, ok := v.number()
	if !ok {
		if s, isStr := v.str(); isStr {
			if d, err := parseDuration(s); err == nil {
				secs, ok = d, true
			}
		}
	}
	switch {
	case !ok || secs <= 0:
		im.warn(v.path, "expected a step in seconds, found %s; not imported", kindOf(v))
	case secs < 1:
		im.warn(v.path, "step %s is below gameday's minimum of 1s; not imported", v.text())
	case im.stepSet == "":
		im.stepSet = v.path
		im.d.step = seconds(secs)
	case seconds(secs) != im.d.step:
		im.warn(v.path, "step %s differs from the step %s taken from %s; gameday uses one step for every panel", seconds(secs), im.d.step, im.stepSet)
	}
}

// threshold expresses a tolerance as a gameday threshold where one can: a
// range tolerance is a bound. Exact values, regular expressions, JSONPath
// matches and probe tolerances have no comparison to turn into.
func (im *importer) threshold(tol val, label string) (string, bool) {
	if tol.isMap() {
		switch typ := tol.getStr("type"); typ {
		case "range":
			return im.rangeThreshold(tol, label)
		case "regex":
			im.warn(tol.path, "regex tolerance %q cannot be a threshold (gameday compares numbers); not imported", tol.getStr("pattern"))
		case "jsonpath":
			what := "matches " + tol.getStr("path")
			if e, ok := tol.get("expect"); ok {
				what += " against " + e.text()
			}
			im.warn(tol.path, "jsonpath tolerance (%s) cannot be a threshold: gameday compares a panel's value with <, <=, > or >=; not imported", what)
		case "probe":
			im.warn(tol.path, "a probe as tolerance has no gameday equivalent; not imported")
		default:
			im.warn(tol.path, "tolerance of type %q is not imported", typ)
		}
		return "", false
	}
	im.warn(tol.path, "exact tolerance %s cannot be a threshold: gameday compares with <, <=, > or >=; not imported", tol.text())
	return "", false
}

func (im *importer) rangeThreshold(tol val, label string) (string, bool) {
	r, _ := tol.get("range")
	items := r.items()
	if len(items) != 2 {
		im.warn(r.path, "expected a range [low, high], found %s; not imported", r.text())
		return "", false
	}
	lo, okLo := items[0].number()
	hi, okHi := items[1].number()
	if !okLo || !okHi || lo > hi {
		im.warn(r.path, "expected a range of two numbers, low first, found %s; not imported", r.text())
		return "", false
	}
	for _, f := range tol.fields() {
		switch f.key {
		case "type", "range":
		case "target":
			// The path into Prometheus's response; a panel is already that value.
		default:
			im.warn(f.val.path, "%q of a range tolerance is not imported", f.key)
		}
	}
	switch {
	case lo <= 0:
		// Nearly every metric is non-negative, so the lower bound says nothing.
		return "<= " + formatNumber(hi), true
	case hi == 1 && lo < 1:
		// A ratio's ceiling: [0.99, 1] means "at least 0.99".
		return ">= " + formatNumber(lo), true
	}
	im.warn(r.path, "range [%s, %s] of %s keeps only its upper bound: a gameday threshold is one comparison", formatNumber(lo), formatNumber(hi), label)
	return "<= " + formatNumber(hi), true
}

func (im *importer) http(a, prov val, label string, ph phase) {
	method := strings.ToUpper(prov.getStr("method"))
	if method == "" {
		method = "GET"
	}
	url := im.subst(prov.getStr("url"), prov.path+".url")
	want := ""
	if t, ok := a.get("tolerance"); ok {
		want = ", tolerance " + t.text()
	}
	switch ph {
	case phaseSteady:
		im.warn(a.path, "HTTP probe %s %s has no gameday equivalent: the steady state is judged from Prometheus panels, so chart this endpoint's success rate and latency instead (described in notes)", method, url)
	default:
		im.warn(a.path, "HTTP call %s %s in a %s has no gameday equivalent; not imported (described in notes)", method, url, ph)
	}
	im.note("not imported: %s: HTTP %s %s%s", label, method, url, want)
}

func (im *importer) newAttack(a val, name, kind, targetName string) *attack {
	if name == "" {
		name = kind
	}
	name = uniqueName(name, "%s (%d)", im.d.attacks, func(x *attack) string { return x.name })
	if tol, ok := a.get("tolerance"); ok {
		im.warn(tol.path, "a tolerance on an action that became an attack is not imported; say what must hold under hypothesis.expect")
	}
	at := &attack{name: name, kind: kind, target: targetName, start: im.clock, paramComments: map[string]string{}}
	im.produced[a.getStr("name")] = "attack"
	im.d.attacks = append(im.d.attacks, at)
	im.attackPaths = append(im.attackPaths, a.path)
	return at
}

// undo handles an action that reverses an earlier attack. gameday rolls
// back every attack itself when it ends or is aborted, so the action is not
// needed; in the method it also marks when the fault ends.
func (im *importer) undo(a, prov val, name, label string, ph phase, kind, does string) {
	var hit *attack
	for _, at := range im.d.attacks {
		// In the method, only a fault still in force can end; a rollback
		// undoes whatever the method left.
		if at.kind == kind && (at.end == 0 || ph == phaseRollback) && im.sameSelection(at, prov) {
			hit = at
			break
		}
	}
	if hit == nil || ph == phaseSteady {
		im.warn(a.path, "%s %s, but no imported attack is its counterpart; not imported", label, does)
		im.note("not imported: %s (%s%s)", label, prov.getStr("func"), im.argsText(prov))
		return
	}
	if ph == phaseMethod {
		hit.end = im.clock
		im.note("%s %s; the attack %q lasts until then, and gameday rolls it back itself at that point", label, does, hit.name)
		return
	}
	im.note("%s %s; gameday rolls back %q itself when it ends or is aborted, so the rollback is not needed", label, does, hit.name)
}

func (im *importer) sameSelection(at *attack, prov val) bool {
	for _, t := range im.d.targets {
		if t.name != at.target {
			continue
		}
		switch at.kind {
		case kindLambda:
			return t.key == "lambda:"+im.subst(argStr(prov, "function_name"), prov.path)
		case kindEC2Stop:
			// start_instances usually names the same instances; when it selects
			// differently, it still undoes the only stop there is.
			return true
		}
	}
	return false
}

func (im *importer) process(a, prov val, name, label string, ph phase) {
	cmd := im.subst(prov.getStr("path"), prov.path+".path")
	argv := im.processArgs(prov)
	line := strings.TrimSpace(cmd + " " + strings.Join(argv, " "))
	base := path.Base(cmd)
	if ph != phaseMethod || (base != "kill" && base != "pkill" && base != "killall") {
		im.warn(a.path, "process %q runs on the machine running Chaos Toolkit and has no gameday equivalent; not imported (described in notes)%s", line, processHint(ph, base))
		want := ""
		if t, ok := a.get("tolerance"); ok {
			want = ", tolerance " + t.text()
		}
		im.note("not imported: %s: runs `%s`%s", label, line, want)
		return
	}
	proc, signal, full := parseKill(base, argv)
	t := im.sshPlaceholder("the hosts the process runs on; the experiment ran its command locally.")
	at := im.newAttack(a, name, kindProcessKill, t.name)
	if proc == "" {
		proc = "replace-me"
		at.paramComments[paramProcessName] = "TODO(import): the process name; " + base + " names PIDs"
	}
	at.params = append(at.params, [2]string{paramProcessName, proc})
	if signal != "" {
		at.params = append(at.params, [2]string{paramSignal, signal})
	}
	at.comments = []string{fmt.Sprintf("From %s: `%s`, run locally by Chaos Toolkit; gameday kills it on the target hosts over SSH.", label, line)}
	msg := fmt.Sprintf("process %q runs where Chaos Toolkit runs, not on a target; it became a process-kill attack on the placeholder target %q: fill in its hosts", line, t.name)
	if full {
		msg += "; pkill -f matched the whole command line, process-kill matches the process name"
	}
	im.warn(a.path, "%s", msg)
}

func processHint(ph phase, base string) string {
	switch {
	case ph == phaseSteady:
		return "; chart the same check as a Prometheus panel (up, or a blackbox exporter probe)"
	case base == "kill" || base == "pkill" || base == "killall":
		return "; to kill a process on hosts, use a process-kill attack"
	case ph == phaseMethod:
		return "; if it injects a fault on a host, look for the matching gameday attack kind (process-kill, service-stop, cpu, ...)"
	}
	return ""
}

// processArgs flattens the process provider's arguments, which Chaos Toolkit
// accepts as a string, a list, or a mapping of --option: value.
func (im *importer) processArgs(prov val) []string {
	args, ok := prov.get("arguments")
	if !ok {
		return nil
	}
	var out []string
	switch {
	case args.isScalar():
		out = strings.Fields(im.subst(args.node().Value, args.path))
	case args.isList():
		for _, it := range args.items() {
			out = append(out, im.subst(it.text(), it.path))
		}
	case args.isMap():
		for _, f := range args.fields() {
			out = append(out, f.key)
			if s := f.val.text(); s != "" && s != "null" {
				out = append(out, im.subst(s, f.val.path))
			}
		}
	}
	return out
}

var signalNumbers = map[string]string{
	"1": "HUP", "2": "INT", "3": "QUIT", "6": "ABRT", "9": "KILL", "15": "TERM",
	"10": "USR1", "12": "USR2", "18": "CONT", "19": "STOP",
}

// parseKill reads the process name, signal and pkill -f from a kill, pkill
// or killall command line.
func parseKill(base string, argv []string) (name, signal string, full bool) {
	valued := map[string]bool{"-u": true, "-U": true, "-g": true, "-G": true, "-P": true, "-t": true, "-F": true, "--pidfile": true}
	if base != "pkill" {
		valued["-s"], valued["-n"] = true, true
	}
	sig := func(s string) string {
		s = strings.ToUpper(strings.TrimPrefix(strings.TrimPrefix(s, "-"), "-"))
		if n, ok := signalNumbers[s]; ok {
			return n
		}
		return strings.TrimPrefix(s, "SIG")
	}
	var rest []string
	for i := 0; i < len(argv); i++ {
		arg := argv[i]
		switch {
		case arg == "-f" && base == "pkill":
			full = true
		case (arg == "-s" && base != "pkill") || arg == "--signal":
			if i+1 < len(argv) {
				signal = sig(argv[i+1])
				i++
			}
		case strings.HasPrefix(arg, "--signal="):
			signal = sig(strings.TrimPrefix(arg, "--signal="))
		case valued[arg]:
			i++
		case strings.HasPrefix(arg, "-") && len(arg) > 1 && isSignal(arg[1:]):
			signal = sig(arg)
		case strings.HasPrefix(arg, "-"):
		default:
			rest = append(rest, arg)
		}
	}
	if base != "kill" && len(rest) > 0 {
		name = rest[len(rest)-1]
	}
	return name, signal, full
}

func isSignal(s string) bool {
	s = strings.ToUpper(s)
	if _, ok := signalNumbers[s]; ok {
		return true
	}
	switch strings.TrimPrefix(s, "SIG") {
	case "HUP", "INT", "QUIT", "ABRT", "KILL", "TERM", "USR1", "USR2", "CONT", "STOP":
		return true
	}
	return false
}
