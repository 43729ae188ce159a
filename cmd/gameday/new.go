package main

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gameday/gameday/metrics"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

// newOpts are gameday new's flags.
type newOpts struct {
	from, out  string
	prometheus string
	job        string
	hosts      []string
	sshConfig  string
	knownHosts string
	awsTags    []string
	awsRegion  string
	awsAccount []string
	blast      string
	yes        bool
}

// discovering says whether gameday new looks at the user's systems, or
// only copies a scenario as it always has.
func (o *newOpts) discovering() bool {
	return o.prometheus != "" || os.Getenv(metrics.EnvURL) != "" || len(o.hosts) > 0 || len(o.awsTags) > 0
}

func newNewCmd() *cobra.Command {
	var o newOpts
	cmd := &cobra.Command{
		Use:   "new NAME",
		Short: "Start a runbook from a built-in scenario and what is found on your systems",
		Long: `Start a runbook from a built-in scenario (see gameday scenarios). The file is
NAME as a slug with .yaml, unless -o says otherwise; an existing file is never
overwritten.

With --prometheus (or GAMEDAY_PROMETHEUS_URL), the server is asked which latency
histograms and request counters with a status label it has, and the runbook
gets a P95 and an error-ratio panel for one job (--job, else the best found),
with steady-state thresholds and guardrails derived from the last 15 minutes.
With --hosts, its SSH target lists the hosts of your ssh_config (-F) and
known_hosts (--known-hosts) whose names match the patterns; with --aws-tags,
its AWS target selects by those tags, resolved as a run would resolve them.

On a terminal a short dialogue lets you choose the scenario, panels, hosts and
blast radius, showing the YAML each choice writes; --yes (or no terminal)
takes the best candidates.`,
		Example: `  gameday new shop --prometheus http://localhost:9090 --hosts 'web-*' --from cpu-hog --yes
  gameday new shop --from ec2-instance-loss --aws-tags service=shop --aws-account 123456789012`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := strings.TrimSpace(args[0])
			if name == "" {
				return invalid(errors.New("new: NAME must not be empty"))
			}
			sc, ok := runbook.LookupScenario(o.from)
			if !ok {
				return invalid(fmt.Errorf("new: no scenario %q%s; run `gameday scenarios` for the list", o.from, didYouMean(o.from, scenarioNames())))
			}
			if o.out == "" {
				o.out = slug(name) + ".yaml"
			}
			// Fail before asking anything of anyone: the file is never overwritten.
			if _, err := os.Lstat(o.out); err == nil {
				return invalid(fmt.Errorf("new: %s already exists; choose another name or -o FILE", o.out))
			}
			if !o.discovering() {
				if err := writeRunbook(o.out, sc.Instantiate(name)); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "wrote %s from scenario %s; edit its targets and metrics, then: gameday validate %s\n", o.out, o.from, o.out)
				return nil
			}
			return newFromDiscovery(cmd, name, sc, &o)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.from, "from", "cpu-hog", "scenario to start from")
	fs.StringVarP(&o.out, "output", "o", "", "file to write (default NAME.yaml)")
	fs.StringVar(&o.prometheus, "prometheus", "", "Prometheus-compatible base URL to find panels on (default "+metrics.EnvURL+")")
	fs.StringVar(&o.job, "job", "", "the job or service to chart (default: the best candidate found)")
	fs.StringArrayVar(&o.hosts, "hosts", nil, "ssh_config Host pattern of the hosts to attack, e.g. 'web-*' (repeatable; '!name' excludes)")
	fs.StringVarP(&o.sshConfig, "ssh-config", "F", "", "ssh_config file to find hosts in (default ~/.ssh/config)")
	fs.StringVar(&o.knownHosts, "known-hosts", "", "known_hosts file to find hosts in as well")
	fs.StringArrayVar(&o.awsTags, "aws-tags", nil, "KEY=VALUE tag that selects the AWS target's resources (repeatable)")
	fs.StringVar(&o.awsRegion, "aws-region", "", "AWS region of the tagged resources (default: the scenario's, else the SDK's)")
	fs.StringArrayVar(&o.awsAccount, "aws-account", nil, "AWS account the target may touch (repeatable; required with --aws-tags)")
	fs.StringVar(&o.blast, "blast", "", "blast radius: count:N, percent:N or all (default: the scenario's)")
	fs.BoolVarP(&o.yes, "yes", "y", false, "take the best candidates without asking")
	return cmd
}

// writeRunbook validates src and writes it to a file that must not exist.
func writeRunbook(out string, src []byte) error {
	if _, err := runbook.Parse(out, src, targets.Default()); err != nil {
		return fmt.Errorf("new: the runbook written does not validate (a bug): %w", err)
	}
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return invalid(fmt.Errorf("new: %s already exists; choose another name or -o FILE", out))
		}
		return invalid(fmt.Errorf("new: %w", err))
	}
	if _, err := f.Write(src); err != nil {
		f.Close()
		return fmt.Errorf("new: write %s: %w", out, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("new: write %s: %w", out, err)
	}
	return nil
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

func slug(s string) string {
	s = strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if s == "" {
		return "runbook"
	}
	return s
}

func didYouMean(word string, candidates []string) string {
	if s := runbook.Closest(word, candidates); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return ""
}

func scenarioNames() []string {
	var names []string
	for _, s := range runbook.Scenarios() {
		names = append(names, s.Name)
	}
	return names
}
