package runbook

import (
	"slices"

	"go.yaml.in/yaml/v3"
)

// awsSelector checks that an aws target narrows: at least one of ids, tags
// or filters, and none of them empty. An empty one (often a templated
// value that came out empty) selects nothing away, so the target would
// match every resource of its type in the account. got holds the target's
// keys as written.
func (l *loader) awsSelector(n *yaml.Node, got map[string]*yaml.Node, a *AWSTarget, what string) {
	if got["tags"] == nil && got["filters"] == nil && got["ids"] == nil {
		l.errorf(n, "%s: expected at least one of ids, tags or filters, so that the target cannot match every resource in the account", what)
		return
	}
	if k := got["tags"]; k != nil && len(a.Tags) == 0 {
		l.errorf(k, "%s.tags: expected at least one tag such as {service: checkout}; empty tags would select every %s in the account", what, resourceName(a))
	}
	if k := got["ids"]; k != nil && len(a.IDs) == 0 {
		l.errorf(k, "%s.ids: expected at least one id; an empty list would select every %s in the account", what, resourceName(a))
	}
	if k := got["filters"]; k != nil {
		if len(a.Filters) == 0 {
			l.errorf(k, "%s.filters: expected at least one filter such as {az: [us-east-1a]}; empty filters would select every %s in the account", what, resourceName(a))
		}
		for _, name := range sortedKeys(a.Filters) {
			if len(a.Filters[name]) == 0 {
				l.errorf(k, "%s.filters.%s: expected at least one value; a filter without values narrows nothing", what, name)
			}
		}
	}
}

func resourceName(a *AWSTarget) string {
	if a.Resource == "" {
		return "resource"
	}
	return a.Resource
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
