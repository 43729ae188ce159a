package chaostoolkit

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// finish fills in what a runbook needs and the experiment did not give,
// each placeholder valid, marked TODO(import) and warned about.
func (im *importer) finish() {
	d := im.d
	if d.name == "" {
		d.name = "imported from " + filepath.Base(im.file)
		d.nameTODO = "the experiment has no title; name the game day."
		im.warn("$.title", "the experiment has no title; wrote the placeholder name %q", d.name)
	}
	at := im.steadyPath
	if at == "" {
		at = "$"
	}
	if d.statement == "" {
		d.statement = "The steady state holds while the attacks run."
		d.stmtTODO = "say what the team expects, and why."
		im.warn(at, "no steady-state-hypothesis title to state the hypothesis with; wrote a placeholder statement")
	}
	if len(d.panels) == 0 {
		d.panels = []*panel{
			{name: "p95", title: "P95 latency", unit: "seconds",
				query:    `histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{job="TODO"}[1m])))`,
				comments: []string{"TODO(import): no probe of the experiment queries Prometheus. Point these two", "panels at the service the experiment checks (replace job=\"TODO\")."}},
			{name: "error_rate", title: "Error rate", unit: "ratio",
				query: `sum(rate(http_requests_total{job="TODO",code=~"5.."}[1m])) / sum(rate(http_requests_total{job="TODO"}[1m]))`},
		}
		const why = "TODO(import): a starting point, not taken from the experiment"
		d.steady = []check{{panel: "p95", threshold: "< 300ms", comment: why}, {panel: "error_rate", threshold: "< 1%", comment: why}}
		d.expect = []check{{panel: "p95", threshold: "< baseline * 1.5", comment: why}, {panel: "error_rate", threshold: "< 2%", comment: why}}
		im.warn(at, "no probe queries Prometheus, so there is nothing to chart; wrote placeholder panels p95 and error_rate with example thresholds: point them at the service (job=\"TODO\")")
	} else if len(d.expect) == 0 {
		p := d.panels[0].name
		d.expect = []check{{panel: p, threshold: "< baseline * 1.5", comment: "TODO(import): no tolerance could be expressed; say what must hold"}}
		im.warn(at, "no tolerance became a threshold; wrote the placeholder expectation %s: \"< baseline * 1.5\"", p)
	}
	if len(d.attacks) == 0 {
		t := im.sshPlaceholder("the hosts to attack; nothing in the experiment names any.")
		a := &attack{name: "replace me", target: t.name, kind: kindCPU, paramComments: map[string]string{}}
		a.comments = []string{"TODO(import): nothing in the experiment's method maps to a gameday attack (see", "the notes). This placeholder burns CPU; replace it with the fault you meant."}
		d.attacks = append(d.attacks, a)
		im.attackPaths = append(im.attackPaths, "$.method")
		im.warn("$.method", "no action maps to a gameday attack; wrote a placeholder cpu attack on target %q", t.name)
	}
	end, last := im.clock, 0.0
	for i, a := range d.attacks {
		stop := end
		if a.end > 0 {
			stop = a.end
		}
		if stop-a.start > 0 {
			a.duration = seconds(stop - a.start)
			last = max(last, stop)
			continue
		}
		last = max(last, a.start+defaultDuration)
		a.duration = seconds(defaultDuration)
		a.durationTODO = "nothing in the experiment bounds this fault (no pause after it); how long should it last?"
		im.warn(im.attackPaths[i], "nothing in the experiment says how long attack %q lasts (no pause follows it); wrote duration: %s", a.name, a.duration)
	}
	if end > last {
		d.observe = seconds(end)
	}
	if d.step == "" {
		d.step = "5s"
	}
	if len(d.notes) > 0 {
		d.notes = append([]string{"From the Chaos Toolkit import:"}, d.notes...)
	}
}

func parseNumber(s string) (float64, error) { return strconv.ParseFloat(strings.TrimSpace(s), 64) }

// parseDuration reads a step as seconds or as a duration with a unit.
func parseDuration(s string) (float64, error) {
	if n, err := parseNumber(s); err == nil {
		return n, nil
	}
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("not a duration: %q", s)
	}
	return d.Seconds(), nil
}
