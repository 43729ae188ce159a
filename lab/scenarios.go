package lab

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/gameday/gameday/runbook"
)

// The lab's scenarios are runbooks with a known outcome, written as
// templates: the lab fills in its own URLs, hosts and paths, and scales the
// durations so tests can run them in seconds.
//
//go:embed scenarios/*.yaml
var scenarioFS embed.FS

// Scenario is one lab scenario.
type Scenario struct {
	Name    string // file name without .yaml
	Summary string // the first comment line after the name
	// Outcome is what a run ends with: held, refuted or aborted, from the
	// file's "# outcome:" line.
	Outcome string
	source  string
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
				s.Outcome, _, _ = strings.Cut(strings.TrimSpace(rest), " ")
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
// multiplied by scale (1 as written).
func (l *Lab) Runbook(name string, scale float64) ([]byte, error) {
	s, ok := LookupScenario(name)
	if !ok {
		return nil, fmt.Errorf("lab: no scenario %q; expected one of %s", name, strings.Join(ScenarioNames(), ", "))
	}
	if scale <= 0 {
		return nil, fmt.Errorf("lab: time scale %g: expected a number above 0", scale)
	}
	scaled := func(floor time.Duration) func(string) (string, error) {
		return func(d string) (string, error) {
			v, err := time.ParseDuration(d)
			if err != nil {
				return "", err
			}
			return runbook.FormatDuration(max(floor, time.Duration(float64(v)*scale).Round(time.Second))), nil
		}
	}
	t, err := template.New(s.Name).Option("missingkey=error").Funcs(template.FuncMap{
		"dur":    scaled(minSpan),
		"step":   scaled(minStep),
		"window": scaled(minWindow),
	}).Parse(s.source)
	if err != nil {
		return nil, fmt.Errorf("lab: scenario %s: %w", name, err)
	}
	var hosts []string
	for _, h := range l.Hosts {
		hosts = append(hosts, h.Name)
	}
	data := map[string]any{
		"PrometheusURL": l.PrometheusURL,
		"SSHConfig":     l.SSHConfigPath,
		"Hosts":         "[" + strings.Join(hosts, ", ") + "]",
		"User":          User,
		"AWS":           l.AWS,
	}
	var out bytes.Buffer
	if err := t.Execute(&out, data); err != nil {
		return nil, fmt.Errorf("lab: scenario %s: %w", name, err)
	}
	return out.Bytes(), nil
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
