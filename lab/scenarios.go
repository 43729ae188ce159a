package lab

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gameday/gameday/runbook"
)

// The lab's scenarios are runbooks with a known outcome, with placeholders:
// the lab fills in its own URLs, hosts and paths, and scales the durations
// so tests can run them in seconds.
//
//go:embed scenarios/*.yaml
var scenarioFS embed.FS

// A scenario may come with the team's alerting rules, a Prometheus rule
// file named after it (errors-two-hosts.rules.yml), with the same
// placeholders; the lab's Prometheus evaluates them while it runs.
//
//go:embed scenarios/*.rules.yml
var rulesFS embed.FS

// Scenario is one lab scenario.
type Scenario struct {
	Name    string // file name without .yaml
	Summary string // the first comment line after the name
	// Outcome is what a run ends with: held, refuted or aborted, from the
	// file's "# outcome:" line.
	Outcome string
	// Stage is the stage a staged scenario is refuted at ("# outcome:
	// refuted at stage 3"), or 0.
	Stage  int
	source string
}

// ExitCode is what gameday run exits with for the scenario's outcome.
func (s Scenario) ExitCode() int {
	switch s.Outcome {
	case "refuted":
		return 1
	case "aborted":
		return 2
	}
	return 0
}

// Scenarios lists the lab scenarios, sorted by name.
func Scenarios() []Scenario {
	entries, err := scenarioFS.ReadDir("scenarios")
	if err != nil {
		panic("lab: embedded scenarios: " + err.Error())
	}
	var out []Scenario
	for _, e := range entries {
		src, err := scenarioFS.ReadFile("scenarios/" + e.Name())
		if err != nil {
			panic("lab: embedded scenarios: " + err.Error())
		}
		s := Scenario{Name: strings.TrimSuffix(e.Name(), path.Ext(e.Name())), source: string(src)}
		for _, line := range strings.Split(s.source, "\n") {
			if rest, ok := strings.CutPrefix(line, "# outcome: "); ok {
				var more string
				s.Outcome, more, _ = strings.Cut(strings.TrimSpace(rest), " ")
				if n, _, ok := strings.Cut(strings.TrimPrefix(more, "at stage "), " "); ok && strings.HasPrefix(more, "at stage ") {
					s.Stage, _ = strconv.Atoi(n)
				}
			} else if rest, ok := strings.CutPrefix(line, "# "+s.Name+": "); ok && s.Summary == "" {
				s.Summary = strings.TrimSpace(rest)
			}
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Scenario) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// ScenarioNames lists the scenario names, sorted.
func ScenarioNames() []string {
	var out []string
	for _, s := range Scenarios() {
		out = append(out, s.Name)
	}
	return out
}

// LookupScenario returns the named scenario.
func LookupScenario(name string) (Scenario, bool) {
	for _, s := range Scenarios() {
		if s.Name == name {
			return s, true
		}
	}
	return Scenario{}, false
}

// Floors for scaled durations: below these the lab's one-second scrapes
// cannot tell a fault from noise.
const (
	minStep   = time.Second
	minWindow = 5 * time.Second
	minSpan   = 2 * time.Second
)

// Runbook renders the named scenario for this lab with every duration
// multiplied by scale (1 as written). The lab's Prometheus evaluates the
// scenario's alerting rules, scaled alike, from now on (none if it has
// none).
func (l *Lab) Runbook(name string, scale float64) ([]byte, error) {
	s, ok := LookupScenario(name)
	if !ok {
		return nil, fmt.Errorf("lab: no scenario %q; expected one of %s", name, strings.Join(ScenarioNames(), ", "))
	}
	if scale <= 0 {
		return nil, fmt.Errorf("lab: time scale %g: expected a number above 0", scale)
	}
	out, err := l.render(s.source, scale)
	if err != nil {
		return nil, fmt.Errorf("lab: scenario %s: %w", name, err)
	}
	rules, _, err := l.Rules(name, scale)
	if err != nil || l.prom == nil {
		return out, err
	}
	// A scenario without rules clears those of the one before it.
	return out, l.prom.SetRules(name+RulesExt, rules)
}

// RulesExt ends the name of a scenario's rule file.
const RulesExt = ".rules.yml"

// Rules renders the named scenario's alerting rules for this lab, scaled
// as its runbook is; ok is false when it has none.
func (l *Lab) Rules(name string, scale float64) (_ []byte, ok bool, _ error) {
	src, err := rulesFS.ReadFile("scenarios/" + name + RulesExt)
	if err != nil {
		return nil, false, nil
	}
	out, err := l.render(string(src), scale)
	if err != nil {
		return nil, false, fmt.Errorf("lab: scenario %s: %s: %w", name, name+RulesExt, err)
	}
	return out, true, nil
}

// render fills in a scenario's placeholders: this lab's values, and
// durations scaled and held above the floors.
func (l *Lab) render(src string, scale float64) ([]byte, error) {
	var hosts []string
	for _, h := range l.Hosts {
		hosts = append(hosts, h.Name)
	}
	values := map[string]string{
		".PrometheusURL": l.PrometheusURL,
		".SSHConfig":     l.SSHConfigPath,
		".Hosts":         "[" + strings.Join(hosts, ", ") + "]",
		".User":          User,
		".AWS.Endpoint":  l.AWS.Endpoint,
		".AWS.Region":    l.AWS.Region,
		".AWS.Account":   l.AWS.Account,
	}
	floors := map[string]time.Duration{"dur": minSpan, "step": minStep, "window": minWindow}
	out, err := expand(src, func(field string) (string, error) {
		if v, ok := values[field]; ok {
			return v, nil
		}
		fn, arg, _ := strings.Cut(field, " ")
		floor, ok := floors[fn]
		if !ok {
			return "", fmt.Errorf("unknown placeholder {{%s}}: expected a lab value or dur, step or window", field)
		}
		q, err := strconv.Unquote(strings.TrimSpace(arg))
		if err != nil {
			return "", fmt.Errorf("{{%s}}: expected a quoted duration", field)
		}
		v, err := time.ParseDuration(q)
		if err != nil {
			return "", fmt.Errorf("{{%s}}: %w", field, err)
		}
		return runbook.FormatDuration(max(floor, time.Duration(float64(v)*scale).Round(time.Second))), nil
	})
	return []byte(out), err
}

// expand replaces each {{field}} in src with what value returns for it.
// The scenarios need nothing more than this: text/template would keep every
// method of every type in the binary, since it calls methods by name.
func expand(src string, value func(string) (string, error)) (string, error) {
	var b strings.Builder
	line := 1
	for {
		open := strings.Index(src, "{{")
		if open < 0 {
			b.WriteString(src)
			return b.String(), nil
		}
		line += strings.Count(src[:open], "\n")
		end := strings.Index(src[open:], "}}")
		if end < 0 {
			return "", fmt.Errorf("line %d: {{ without }}", line)
		}
		v, err := value(strings.TrimSpace(src[open+2 : open+end]))
		if err != nil {
			return "", fmt.Errorf("line %d: %w", line, err)
		}
		b.WriteString(src[:open])
		b.WriteString(v)
		src = src[open+end+2:]
	}
}

// WaitForMetrics waits until the lab's Prometheus answers the load
// balancer's request rate, so a baseline that starts now has data from its
// first step.
func (l *Lab) WaitForMetrics(ctx context.Context) error {
	q := url.Values{"query": {`sum(rate(http_requests_total{job="checkout-lb"}[5s])) > 0`}}
	u := l.PrometheusURL + "/api/v1/query?" + q.Encode()
	c := &http.Client{}
	defer c.CloseIdleConnections()
	for {
		if ok, err := hasResult(ctx, c, u); ok {
			return nil
		} else if ctx.Err() != nil {
			return fmt.Errorf("lab: no load balancer metrics at %s yet: %v", l.PrometheusURL, err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func hasResult(ctx context.Context, c *http.Client, u string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return false, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Result []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return false, err
	}
	return len(body.Data.Result) > 0, nil
}
