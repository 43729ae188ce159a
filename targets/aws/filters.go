package aws

import (
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
