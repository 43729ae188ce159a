package alerts

import (
	"context"
	"fmt"
	"strings"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
)

// Group is one rule group Prometheus has loaded, with its alerting rules.
type Group struct {
	Name, File string
	Interval   time.Duration
	Alerts     []Rule
}

// Rule is one alerting rule.
type Rule struct {
	Name  string
	Query string
	For   time.Duration
}

// Rules reads every rule group from /api/v1/rules.
func Rules(ctx context.Context, api v1.API) ([]Group, error) {
	res, err := api.Rules(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("read alerting rules (/api/v1/rules): %w", err)
	}
	out := make([]Group, 0, len(res.Groups))
	for _, g := range res.Groups {
		grp := Group{Name: g.Name, File: g.File, Interval: seconds(g.Interval)}
		for _, r := range g.Rules {
			if a, ok := r.(v1.AlertingRule); ok {
				grp.Alerts = append(grp.Alerts, Rule{Name: a.Name, Query: a.Query, For: seconds(a.Duration)})
			}
		}
		out = append(out, grp)
	}
	return out, nil
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// Find returns the alerting rule named name and its group.
func Find(groups []Group, name string) (Rule, Group, bool) {
	for _, g := range groups {
		for _, r := range g.Alerts {
			if r.Name == name {
				return r, g, true
			}
		}
	}
	return Rule{}, Group{}, false
}

// Looked names the groups looked in, for an error that says where an alert
// was not found: "app (/etc/rules.yml), node (/etc/node.yml)".
func Looked(groups []Group) string {
	if len(groups) == 0 {
		return "no rule groups at all: is rule_files set in prometheus.yml?"
	}
	names := make([]string, len(groups))
	for i, g := range groups {
		names[i] = g.Name
		if g.File != "" {
			names[i] += " (" + g.File + ")"
		}
	}
	return fmt.Sprintf("%d rule group(s): %s", len(groups), strings.Join(names, ", "))
}
