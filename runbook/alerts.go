package runbook

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"time"

	"go.yaml.in/yaml/v3"
)

// Alerts is what the team's monitoring is expected to say while the game
// day runs: a game day proves the alerting as well as the system.
type Alerts struct {
	// Alertmanager is the base URL of the Alertmanager the alerts go
	// through; when set, it must answer before anything is injected.
	Alertmanager string
	Expect       []ExpectedAlert
	Forbid       []ForbiddenAlert
}

// ExpectedAlert is an alert that must fire (and may have to page and
// resolve) within its limits.
type ExpectedAlert struct {
	Pos    Pos
	Name   string
	Labels map[string]string
	// Attack, when set, starts the clock at that attack's first inject;
	// otherwise at the run's first inject.
	Attack         string
	FiresWithin    time.Duration
	NotifiedWithin time.Duration // 0: not checked
	ResolvesWithin time.Duration // after the last rollback; 0: not checked
}

// ForbiddenAlert is an alert (by name and/or labels) that must not fire
// during the game day, such as anything with severity: page.
type ForbiddenAlert struct {
	Pos    Pos
	Name   string
	Labels map[string]string
}

// Matches says whether an alert with these labels is the one meant:
// alertname equal to Name (when set) and every given label equal.
func (a ExpectedAlert) Matches(labels map[string]string) bool {
	return matchAlert(a.Name, a.Labels, labels)
}

// Matches says whether an alert with these labels is forbidden.
func (a ForbiddenAlert) Matches(labels map[string]string) bool {
	return matchAlert(a.Name, a.Labels, labels)
}

func matchAlert(name string, want, labels map[string]string) bool {
	if name != "" && labels["alertname"] != name {
		return false
	}
	for k, v := range want {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// Describe names the alert with its labels, e.g. HighErrorRate{job="app"}.
func (a ExpectedAlert) Describe() string { return alertWords(a.Name, a.Labels) }

// Describe names the forbidden alert with its labels.
func (a ForbiddenAlert) Describe() string { return alertWords(a.Name, a.Labels) }

func alertWords(name string, labels map[string]string) string {
	if len(labels) == 0 {
		return name
	}
	s := name + "{"
	for i, k := range slices.Sorted(maps.Keys(labels)) {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s=%q", k, labels[k])
	}
	return s + "}"
}

// alertName is Prometheus's rule name grammar (a metric name).
var alertName = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)

var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

func (l *loader) alerts(n *yaml.Node, spec *field) {
	a := &l.rb.Alerts
	l.object(n, spec, "alerts", func(key string, _, v *yaml.Node) {
		switch key {
		case "alertmanager":
			a.Alertmanager = l.httpURL(v, "alerts.alertmanager")
		case "expect":
			for i, item := range l.list(v, "alerts.expect", "a list of expected alerts (- name: ...)") {
				a.Expect = append(a.Expect, l.expectedAlert(item, spec.child("expect").Elem, fmt.Sprintf("alerts.expect[%d]", i)))
			}
		case "forbid":
			for i, item := range l.list(v, "alerts.forbid", "a list of forbidden alerts (- name: ... or - labels: ...)") {
				a.Forbid = append(a.Forbid, l.forbiddenAlert(item, spec.child("forbid").Elem, fmt.Sprintf("alerts.forbid[%d]", i)))
			}
		}
	})
}

func (l *loader) expectedAlert(n *yaml.Node, spec *field, what string) ExpectedAlert {
	e := ExpectedAlert{Pos: pos(n)}
	l.object(n, spec, what, func(key string, _, v *yaml.Node) {
		w := what + "." + key
		switch key {
		case "name":
			e.Name = l.alertName(v, w)
		case "labels":
			e.Labels = l.alertLabels(v, w)
		case "attack":
			e.Attack = l.nonEmpty(v, w)
			if e.Attack != "" && !slices.ContainsFunc(l.rb.Attacks, func(a Attack) bool { return a.Name == e.Attack }) {
				l.errorf(v, "%s: no attack is named %q", w, e.Attack)
			}
		case "fires_within":
			e.FiresWithin = l.duration(v, w, false)
		case "notified_within":
			e.NotifiedWithin = l.duration(v, w, false)
		case "resolves_within":
			e.ResolvesWithin = l.duration(v, w, false)
		}
	})
	if e.NotifiedWithin > 0 && e.FiresWithin > 0 && e.NotifiedWithin < e.FiresWithin {
		l.errorf(n, "%s: notified_within (%s) is shorter than fires_within (%s); an alert is notified only after it fires", what, FormatDuration(e.NotifiedWithin), FormatDuration(e.FiresWithin))
	}
	return e
}

func (l *loader) forbiddenAlert(n *yaml.Node, spec *field, what string) ForbiddenAlert {
	f := ForbiddenAlert{Pos: pos(n)}
	l.object(n, spec, what, func(key string, _, v *yaml.Node) {
		switch key {
		case "name":
			f.Name = l.alertName(v, what+".name")
		case "labels":
			f.Labels = l.alertLabels(v, what+".labels")
		}
	})
	if f.Name == "" && len(f.Labels) == 0 && resolve(n).Kind == yaml.MappingNode {
		l.errorf(n, "%s: give a name, labels or both; an empty match would forbid every alert", what)
	}
	return f
}

func (l *loader) alertName(n *yaml.Node, what string) string {
	s := l.nonEmpty(n, what)
	if s != "" && !alertName.MatchString(s) {
		l.errorf(n, "%s: expected an alert name such as HighErrorRate (letters, digits, _ and :), found %q", what, s)
	}
	return s
}

func (l *loader) alertLabels(n *yaml.Node, what string) map[string]string {
	m := l.strMap(n, what)
	for k := range m {
		if !labelName.MatchString(k) || k == "alertname" {
			l.errorf(n, "%s: %q is not a label to match on (use name: for alertname)", what, k)
		}
	}
	return m
}
