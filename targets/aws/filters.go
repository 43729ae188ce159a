package aws

import (
	"fmt"
	"maps"
	"slices"

	"github.com/gameday/gameday/runbook"
)

// tagAndFilters turns a target's tags (as tag:KEY filters) and its filters
// into one service's filter type, each in name order; renamed maps a
// runbook filter name to the service's where they differ.
func tagAndFilters[F any](a *runbook.AWSTarget, renamed map[string]string, filter func(name string, values []string) F) []F {
	var out []F
	for _, k := range slices.Sorted(maps.Keys(a.Tags)) {
		out = append(out, filter("tag:"+k, []string{a.Tags[k]}))
	}
	for _, k := range slices.Sorted(maps.Keys(a.Filters)) {
		name := k
		if r, ok := renamed[k]; ok {
			name = r
		}
		out = append(out, filter(name, a.Filters[k]))
	}
	return out
}

// namedOrAll returns the names a target lists in ids, or every one list
// finds. The kinds of resource read this way (resource) take no filters.
func namedOrAll(a *runbook.AWSTarget, resource string, list func() ([]string, error)) ([]string, error) {
	if len(a.Filters) > 0 {
		return nil, fmt.Errorf("%s targets take ids and tags, not filters", resource)
	}
	if len(a.IDs) > 0 {
		return a.IDs, nil
	}
	return list()
}
