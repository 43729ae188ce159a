package targets

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/gameday/gameday/runbook"
)

// A custom attack's templates declare their own typed params where they use
// them: {{name:type}}. The value comes from the param of that name, is
// checked like any catalogue param of that type, and is shell-quoted into
// the command, so a runbook's values are never spliced in raw.
var placeholder = regexp.MustCompile(`\{\{\s*([a-z][a-z0-9_]*)\s*:\s*([a-z0-9-]+)\s*\}\}`)

// templated are the params of a custom attack that are templates.
var templated = []string{"inject", "rollback"}

// varTypes are the types a template can declare: every type that needs no
// further settings (enum values, list elements) and is not itself a template.
func varTypes() []Type {
	return slices.DeleteFunc(Types(), func(t Type) bool { return t == TypeEnum || t == TypeList || t == TypeTemplate })
}

// templateVars returns the param specs the templates declare, and what is
// wrong with their placeholders.
func templateVars(params map[string]string) ([]ParamSpec, []runbook.ParamProblem) {
	var specs []ParamSpec
	var probs []runbook.ParamProblem
	declared := map[string]string{} // name -> "type in template"
	for _, tmpl := range templated {
		text := params[tmpl]
		// A "{{" that is not a whole placeholder is a typo that would run
		// as literal braces; refuse it rather than guess.
		if rest := placeholder.ReplaceAllString(text, ""); strings.Contains(rest, "{{") || strings.Contains(rest, "}}") {
			probs = append(probs, runbook.ParamProblem{Param: tmpl, Msg: fmt.Sprintf("params.%s: a placeholder is written {{name:type}}, such as {{unit:unit}}; found a stray {{ or }}", tmpl)})
		}
		for _, m := range placeholder.FindAllStringSubmatch(text, -1) {
			name, typ := m[1], Type(m[2])
			if slices.Contains(templated, name) {
				probs = append(probs, runbook.ParamProblem{Param: tmpl, Msg: fmt.Sprintf("params.%s: {{%s:%s}} names a template; call the value something else", tmpl, name, typ)})
				continue
			}
			if !slices.Contains(varTypes(), typ) {
				probs = append(probs, runbook.ParamProblem{Param: tmpl, Msg: fmt.Sprintf("params.%s: {{%s:%s}} has an unknown type %q; expected one of: %s", tmpl, name, typ, typ, joinTypes(varTypes()))})
				continue
			}
			if prev, ok := declared[name]; ok {
				if !strings.HasPrefix(prev, string(typ)+" ") {
					probs = append(probs, runbook.ParamProblem{Param: tmpl, Msg: fmt.Sprintf("params.%s: {{%s:%s}} is declared as %s; one param has one type", tmpl, name, typ, prev)})
				}
				continue
			}
			declared[name] = fmt.Sprintf("%s in %s", typ, tmpl)
			specs = append(specs, ParamSpec{Name: name, Type: typ, Required: true, Help: fmt.Sprintf("value of {{%s:%s}} in the templates", name, typ)})
		}
	}
	return specs, probs
}

func joinTypes(ts []Type) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// Expand fills a custom attack's template with its checked values, each
// quoted by quote so that it reaches the command as one literal word.
func Expand(tmpl string, v Values, quote func(string) string) string {
	return placeholder.ReplaceAllStringFunc(tmpl, func(m string) string {
		return quote(v.String(placeholder.FindStringSubmatch(m)[1]))
	})
}
