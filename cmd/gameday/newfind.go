package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/gameday/gameday/metrics"
	"github.com/gameday/gameday/metrics/discover"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/runbook/draft"
	"github.com/gameday/gameday/targets"
	"github.com/gameday/gameday/targets/aws"
	"github.com/gameday/gameday/targets/ssh"
)

// found is what gameday new learnt about the user's systems.
type found struct {
	prom     *discover.Found
	hosts    []ssh.KnownHost
	aws      []targets.Member
	awsTags  map[string]string
	accounts []string
	// family is the scenario's target family (ssh or aws).
	family string
}

// selection is what goes into the runbook: the best candidates, or what
// the person picked.
type selection struct {
	scenario runbook.Scenario
	latency  *discover.Candidate
	errs     *discover.Candidate
	hosts    []string
	blast    draft.Blast
}

func newFromDiscovery(cmd *cobra.Command, name string, sc runbook.Scenario, o *newOpts) error {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	w := cmd.OutOrStdout()
	blast, err := parseBlast(o.blast)
	if err != nil {
		return invalid(fmt.Errorf("new: --blast %q: %w", o.blast, err))
	}
	fd, err := findAll(ctx, w, sc, o)
	if err != nil {
		return err
	}
	sel, err := best(fd, sc, o)
	if err != nil {
		return err
	}
	sel.blast = blast
	if !o.yes && term.IsTerminal(int(os.Stdin.Fd())) && term.IsTerminal(int(os.Stdout.Fd())) {
		picked, ok, err := choose(fd, sel, name, o)
		if err != nil {
			return err
		}
		if !ok {
			fmt.Fprintln(w, "nothing written")
			return nil
		}
		sel = picked
	}
	d, err := draft.Compose(choices(name, fd, sel, o))
	if err != nil {
		return invalid(fmt.Errorf("new: %w", err))
	}
	if err := writeRunbook(o.out, d.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(w, "wrote %s from scenario %s\nnext: gameday validate --check-metrics %s, then gameday run %s\n", o.out, sel.scenario.Name, o.out, o.out)
	return nil
}

// findAll asks Prometheus, ssh_config and AWS, and says what each gave.
func findAll(ctx context.Context, w io.Writer, sc runbook.Scenario, o *newOpts) (*found, error) {
	fd := &found{}
	rb, err := runbook.Parse(sc.Name+".yaml", sc.Source, targets.Default())
	if err != nil || len(rb.Targets) == 0 {
		return nil, fmt.Errorf("new: scenario %s does not validate (a bug): %v", sc.Name, err)
	}
	target := rb.Targets[0]
	fd.family = target.Family()

	if o.prometheus != "" || os.Getenv(metrics.EnvURL) != "" {
		client, err := metrics.NewClient(ctx, runbook.Metrics{}, metrics.Options{URL: o.prometheus})
		if err != nil {
			return nil, invalid(fmt.Errorf("new: %w", err))
		}
		f, err := discover.Discover(ctx, client.API, client.URL, time.Now())
		if err != nil {
			return nil, invalid(fmt.Errorf("new: %w", err))
		}
		fd.prom = f
		printCandidates(w, f)
	}
	if len(o.hosts) > 0 {
		hosts, _, err := ssh.FindHosts(o.sshConfig, o.knownHosts, o.hosts)
		if err != nil {
			return nil, invalid(fmt.Errorf("new: --hosts: %w", err))
		}
		fd.hosts = hosts
		fmt.Fprintf(w, "hosts matching %s:\n", strings.Join(o.hosts, " "))
		for _, h := range hosts {
			fmt.Fprintf(w, "  %-24s %s@%s  (from %s)\n", h.Alias, h.User, h.Addr, h.From)
		}
	}
	if len(o.awsTags) > 0 {
		if err := findAWS(ctx, w, fd, target, o); err != nil {
			return nil, err
		}
	}
	return fd, nil
}

// findAWS resolves the scenario's AWS target with the given tags through
// the resolver a run uses: read-only, and refused for accounts not named.
func findAWS(ctx context.Context, w io.Writer, fd *found, target runbook.Target, o *newOpts) error {
	if target.AWS == nil {
		return invalid(fmt.Errorf("new: --aws-tags: scenario %s attacks %s, an %s target; pick an AWS scenario (gameday scenarios)", target.Name, target.Name, target.Family()))
	}
	fd.awsTags = map[string]string{}
	for _, kv := range o.awsTags {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return invalid(fmt.Errorf("new: --aws-tags %q: want KEY=VALUE", kv))
		}
		fd.awsTags[k] = v
	}
	a := *target.AWS
	a.Tags, a.IDs, a.Filters, a.Accounts = fd.awsTags, nil, nil, o.awsAccount
	if o.awsRegion != "" {
		a.Region = o.awsRegion
	}
	resolver, _, err := families[targets.FamilyAWS](&runFlags{})
	if err != nil {
		return fmt.Errorf("new: %w", err)
	}
	members, err := resolver.Resolve(ctx, runbook.Target{Name: target.Name, AWS: &a})
	if err != nil {
		return invalid(fmt.Errorf("new: --aws-tags: %w", err))
	}
	if len(members) == 0 {
		return invalid(fmt.Errorf("new: --aws-tags: no %s in region %s has the tags %s", a.Resource, cmpOrNone(a.Region), strings.Join(o.awsTags, ", ")))
	}
	fd.aws = members
	for _, m := range members {
		if acct := m.Labels[aws.LabelAccount]; acct != "" && !slices.Contains(fd.accounts, acct) {
			fd.accounts = append(fd.accounts, acct)
		}
	}
	fmt.Fprintf(w, "%s with tags %s: %d\n", a.Resource, strings.Join(o.awsTags, ", "), len(members))
	for _, m := range members {
		fmt.Fprintf(w, "  %s  %s\n", m.ID, m.Labels[aws.LabelRegion])
	}
	if o.awsRegion == "" && len(members) > 0 {
		o.awsRegion = members[0].Labels[aws.LabelRegion]
	}
	return nil
}

func cmpOrNone(s string) string {
	if s == "" {
		return "(the SDK's default)"
	}
	return s
}

// printCandidates lists what Prometheus offers, best first.
func printCandidates(w io.Writer, f *discover.Found) {
	fmt.Fprintf(w, "Prometheus at %s: %d metric names\n", f.URL, f.Names)
	for _, c := range f.Latency {
		fmt.Fprintf(w, "  p95        %-22s now %-8s %d series  %s\n", c.Where(), value(c), c.Series, c.Query)
	}
	for _, c := range f.Errors {
		fmt.Fprintf(w, "  error_rate %-22s now %-8s %d series  %s\n", c.Where(), value(c), c.Series, c.Query)
	}
	for _, n := range f.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
}

// value is a candidate's current value for a person.
func value(c discover.Candidate) string {
	switch {
	case math.IsNaN(c.Now):
		return "no data"
	case c.Kind == discover.Latency:
		return discover.Seconds(c.Now)
	default:
		return discover.Percent(c.Now)
	}
}

// best is the selection --yes takes.
func best(fd *found, sc runbook.Scenario, o *newOpts) (selection, error) {
	sel := selection{scenario: sc}
	if fd.prom != nil {
		lat, errs, ok := fd.prom.Best(o.job)
		if !ok {
			return sel, invalid(fmt.Errorf("new: --job %s: no latency histogram has job or service %q; found %s", o.job, o.job, strings.Join(fd.prom.Groups(), ", ")))
		}
		sel.latency, sel.errs = &lat, errs
	}
	for _, h := range fd.hosts {
		sel.hosts = append(sel.hosts, h.Alias)
	}
	return sel, nil
}

// choices turns a selection into what the draft replaces.
func choices(name string, fd *found, sel selection, o *newOpts) draft.Choices {
	c := draft.Choices{Name: name, Scenario: sel.scenario, Blast: sel.blast}
	c.Header = []string{fmt.Sprintf("Written by gameday new from scenario %s on %s.", sel.scenario.Name, time.Now().UTC().Format("2006-01-02 15:04 UTC"))}
	if fd.prom != nil && sel.latency != nil {
		c.URL = fd.prom.URL
		lat := *sel.latency
		c.Target = slug(lat.Group)
		c.Panels = append(c.Panels, draft.Panel{Name: "p95", Query: lat.Query, Unit: "seconds", Title: "P95 latency",
			Comment: fmt.Sprintf("P95 of %s at %s: %d series, %s when written.", lat.Metric, lat.Where(), lat.Series, value(lat))})
		th := discover.LatencyThresholds(lat)
		c.Checks = append(c.Checks, draft.Check{Panel: "p95", Steady: th.Steady, Guard: th.Guard, Why: th.Why + "."})
		c.Header = append(c.Header, "Thresholds come from the last 15 minutes of "+fd.prom.URL+"; judge them against a normal day before relying on them.")
		if sel.errs != nil {
			e := *sel.errs
			c.Panels = append(c.Panels, draft.Panel{Name: "error_rate", Query: e.Query, Unit: "ratio", Title: "Error rate",
				Comment: fmt.Sprintf("Share of %s with %s 5xx at %s: %d series, %s when written. The numerator falls back to 0, so no errors reads 0, not no data.", e.Metric, e.StatusLabel, e.Where(), e.Series, value(e))})
			th := discover.ErrorThresholds(e)
			c.Checks = append(c.Checks, draft.Check{Panel: "error_rate", Steady: th.Steady, Guard: th.Guard, Why: th.Why + "."})
		}
	}
	if len(sel.hosts) > 0 && fd.family == targets.FamilySSH {
		sudo := false
		for _, h := range fd.hosts {
			if slices.Contains(sel.hosts, h.Alias) && h.User != "root" {
				sudo = true
			}
		}
		s := &draft.SSH{Hosts: sel.hosts, Sudo: sudo,
			Comment: fmt.Sprintf("Hosts matching %s in your ssh_config/known_hosts; user, port and keys come from ssh_config.", strings.Join(o.hosts, " "))}
		if o.sshConfig != "" {
			if abs, err := filepath.Abs(o.sshConfig); err == nil {
				s.Config = abs
			}
		}
		c.SSH = s
	}
	if fd.awsTags != nil {
		c.AWS = &draft.AWS{Region: o.awsRegion, Tags: fd.awsTags, Accounts: fd.accounts,
			Comment: fmt.Sprintf("%d resource(s) had these tags when written.", len(fd.aws))}
	}
	return c
}

// parseBlast reads --blast: count:N, percent:N or all.
func parseBlast(s string) (draft.Blast, error) {
	if s == "" {
		return draft.Blast{}, nil
	}
	if s == "all" {
		return draft.Blast{All: true}, nil
	}
	k, v, _ := strings.Cut(s, ":")
	n, err := strconv.Atoi(strings.TrimSpace(v))
	switch {
	case err != nil || n < 1:
		return draft.Blast{}, fmt.Errorf("want count:N, percent:N or all, with N a whole number above 0")
	case k == "count":
		return draft.Blast{Count: n}, nil
	case k == "percent" && n <= 100:
		return draft.Blast{Percent: n}, nil
	}
	return draft.Blast{}, fmt.Errorf("want count:N, percent:N (at most 100) or all")
}
