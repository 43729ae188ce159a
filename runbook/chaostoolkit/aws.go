package chaostoolkit

import (
	"fmt"
	"strings"
)

// ec2 maps chaosaws's stop/terminate actions. The plural forms act on every
// instance the selection matches and the singular forms on one picked at
// random, which is what blast_radius all: true and count: 1 say.
func (im *importer) ec2(a, prov val, name, fn, label string, ph phase) {
	if ph != phaseMethod {
		im.warn(a.path, "%s calls %s; only actions in the method become attacks; not imported", label, fn)
		im.note("not imported: %s (%s%s)", label, fn, im.argsText(prov))
		return
	}
	args := im.knownArgs(prov, label, "instance_ids", "filters", "az", "force")
	var sel selection
	force := ""
	for _, f := range args.fields() {
		switch f.key {
		case "instance_ids":
			for _, id := range f.val.items() {
				if s, ok := id.str(); ok {
					sel.ids = append(sel.ids, im.subst(s, id.path))
				} else {
					im.warn(id.path, "expected an instance id, found %s; not imported", kindOf(id))
				}
			}
			if s, ok := f.val.str(); ok { // a lone id written as a string
				sel.ids = append(sel.ids, im.subst(s, f.val.path))
			}
		case "filters":
			im.ec2Filters(f.val, &sel)
		case "az":
			if s, ok := f.val.str(); ok {
				sel.addFilter("availability-zone", im.subst(s, f.val.path))
			}
		case "force":
			force, _ = f.val.str()
			if force != "true" && force != "false" {
				im.warn(f.val.path, "expected true or false, found %s; not imported", kindOf(f.val))
				force = ""
			}
		}
	}
	t := im.awsTarget(a, sel, "ec2:instance")
	kind, blast := kindEC2Stop, "all: true"
	if strings.HasPrefix(fn, "terminate") {
		kind = kindEC2Terminate
	}
	if !strings.HasSuffix(fn, "s") {
		blast = "count: 1"
	}
	at := im.newAttack(a, name, kind, t.name)
	at.comments = []string{fmt.Sprintf("From %s (chaosaws.ec2.actions.%s).", label, fn)}
	if force == "true" && kind == kindEC2Stop {
		at.params = append(at.params, [2]string{paramForce, "true"})
	} else if force == "true" {
		im.warn(a.path, "force=true applies to stopping; %s has no such option; not imported", fn)
	}
	if t.blast == "" {
		t.blast = blast
		if blast == "all: true" {
			t.blastComment = []string{fmt.Sprintf("%s acts on every instance that matches; all: true keeps that.", fn),
				"For a first run, count: 1 is gentler."}
			if len(sel.ids) == 0 {
				im.warn(a.path, "%s acts on every instance the filters match, so the blast radius of %q is all: true; narrow it to count: 1 unless you mean to lose them all", fn, t.name)
			}
		} else {
			t.blastComment = []string{fn + " picks one matching instance at random; so does count: 1."}
		}
	}
	if kind == kindEC2Terminate {
		at.irreversible = true
		at.irreversibleNote = []string{
			"IRREVERSIBLE: terminated instances are gone; the experiment terminates them,",
			"so this opt-in is set. Check targets and blast_radius before running.",
		}
		what := "every instance it selects"
		if blast == "count: 1" {
			what = "the instance it picks"
		}
		im.warn(a.path, "IRREVERSIBLE: %s destroys %s; the runbook sets allow_irreversible: true to match the experiment — check target %q and its blast radius before running", fn, what, t.name)
	}
}

// selection is how an AWS target picks its resources.
type selection struct {
	ids     []string
	tags    [][2]string
	filters []filter
}

func (s *selection) addFilter(name string, values ...string) {
	for i := range s.filters {
		if s.filters[i].name == name {
			s.filters[i].values = append(s.filters[i].values, values...)
			return
		}
	}
	s.filters = append(s.filters, filter{name, values})
}

func (s selection) key() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ids=%q tags=%q", s.ids, s.tags)
	for _, f := range s.filters {
		fmt.Fprintf(&b, " %s=%q", f.name, f.values)
	}
	return b.String()
}

// ec2Filters reads EC2 API filters. A tag filter with one value is the
// target's tags:, which is how runbooks usually select; everything else is
// kept as a filter of the same name.
func (im *importer) ec2Filters(v val, sel *selection) {
	if !v.isList() {
		im.warn(v.path, "expected a list of {Name, Values} filters, found %s; not imported", kindOf(v))
		return
	}
	for _, f := range v.items() {
		name := im.subst(f.getStr("Name"), f.path+".Name")
		vals, _ := f.get("Values")
		var values []string
		for _, x := range vals.items() {
			if s, ok := x.str(); ok {
				values = append(values, im.subst(s, x.path))
			}
		}
		if name == "" || len(values) == 0 {
			im.warn(f.path, "expected a filter {Name: ..., Values: [...]}, found %s; not imported", f.text())
			continue
		}
		for _, g := range f.fields() {
			if g.key != "Name" && g.key != "Values" {
				im.warn(g.val.path, "%q of a filter is not imported", g.key)
			}
		}
		if k, ok := strings.CutPrefix(name, "tag:"); ok && len(values) == 1 {
			sel.tags = append(sel.tags, [2]string{k, values[0]})
			continue
		}
		sel.addFilter(name, values...)
	}
}

// lambda maps put_function_concurrency: reserved concurrency 0 is a throttle.
func (im *importer) lambda(a, prov val, name, label string, ph phase) {
	if ph != phaseMethod {
		im.warn(a.path, "%s sets a function's concurrency; only actions in the method become attacks; not imported", label)
		im.note("not imported: %s (put_function_concurrency%s)", label, im.argsText(prov))
		return
	}
	args := im.knownArgs(prov, label, "function_name", "concurrent_executions")
	fv, _ := args.get("function_name")
	fn, ok := fv.str()
	fn = im.subst(fn, fv.path)
	sel := selection{ids: []string{fn}}
	if !ok || fn == "" {
		im.warn(prov.path+".arguments", "put_function_concurrency has no function_name; wrote a placeholder id")
		sel.ids = []string{"replace-me"}
	}
	concurrency := ""
	if c, ok := args.get("concurrent_executions"); ok {
		if n, ok := c.number(); ok && n >= 0 && n == float64(int64(n)) {
			concurrency = formatNumber(n)
		} else {
			im.warn(c.path, "expected a whole number of concurrent executions, found %s; not imported", kindOf(c))
		}
	}
	t := im.awsTarget(a, sel, "lambda:function")
	t.key = "lambda:" + fn
	if t.blast == "" {
		t.blast = "all: true"
	}
	at := im.newAttack(a, name, kindLambda, t.name)
	at.comments = []string{fmt.Sprintf("From %s (chaosaws.awslambda.actions.put_function_concurrency).", label)}
	if concurrency != "" {
		at.params = append(at.params, [2]string{paramConcurrency, concurrency})
		if concurrency == "0" {
			at.paramComments[paramConcurrency] = "0 throttles every invocation"
		}
	}
}

// awsTarget finds or adds the target for a selection. Region and profile come
// from the experiment's configuration (aws_region, aws_profile_name), as in
// chaosaws; the account never appears in an experiment, so it is always a
// placeholder.
func (im *importer) awsTarget(a val, sel selection, resource string) *target {
	key := resource + " " + sel.key()
	for _, t := range im.d.targets {
		if t.key == key {
			return t
		}
	}
	if len(sel.ids) == 0 && len(sel.tags) == 0 && len(sel.filters) == 0 {
		im.warn(a.path, "selects no instances (no instance_ids, filters or az); wrote a placeholder tag")
		sel.tags = [][2]string{{"service", "replace-me"}}
	}
	t := &target{key: key, resource: resource, ids: sel.ids, tags: sel.tags, filters: sel.filters}
	t.name = im.targetName(targetHint(sel, resource))
	if strings.Contains(key, "${") {
		// The warning about the reference is already out; the comment is
		// what the reader of the runbook will see.
		t.comments = []string{"TODO(import): replace the ${...} below; Chaos Toolkit filled it in at run time."}
	}
	if r, ok := im.cfgString("aws_region"); ok && r != "" {
		t.region = r
	} else {
		t.region = placeholderRegion
		t.regionTODO = "the experiment does not say which region (configuration.aws_region)."
		im.warn(a.path, "no aws_region in configuration; target %q has the placeholder region %s", t.name, placeholderRegion)
	}
	if p, ok := im.cfgString("aws_profile_name"); ok && p != "" {
		t.profile = p
	}
	t.accounts = []string{placeholderAccount}
	t.accountsTODO = "the account(s) this may touch; the placeholder matches no account, so nothing runs until you set it."
	im.warn(a.path, "target %q needs the AWS account ids it may touch; wrote the placeholder %s, which matches no account", t.name, placeholderAccount)
	im.d.targets = append(im.d.targets, t)
	return t
}

func targetHint(sel selection, resource string) string {
	suffix, _, _ := strings.Cut(resource, ":")
	for _, want := range []string{"service", "app", "application", "Name", "name"} {
		for _, kv := range sel.tags {
			if kv[0] == want {
				return kv[1] + "-" + suffix
			}
		}
	}
	if resource == "lambda:function" && len(sel.ids) == 1 {
		return sel.ids[0]
	}
	return suffix
}

func (im *importer) targetName(hint string) string {
	base := ident(hint, "-", "target")
	return uniqueName(base, "%s-%d", im.d.targets, func(t *target) string { return t.name })
}

// sshPlaceholder is the one SSH target that process attacks (and the
// placeholder attack) land on: Chaos Toolkit ran commands locally, so which
// hosts they belong on is the user's call. todo says what to fill in.
func (im *importer) sshPlaceholder(todo string) *target {
	for _, t := range im.d.targets {
		if t.key == "ssh placeholder" {
			return t
		}
	}
	t := &target{key: "ssh placeholder", name: im.targetName("hosts"), hosts: []string{placeholderHost}, blast: "count: 1"}
	t.hostsTODO = todo
	t.blastComment = []string{"One host first; widen once the team has seen it work."}
	im.d.targets = append(im.d.targets, t)
	return t
}
