package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	sandbox "github.com/gameday/gameday/lab"
)

// labFlags are the options of gameday lab and gameday lab up.
type labFlags struct {
	hosts    int
	rps      float64
	seed     int64
	dir      string
	scenario string
	scale    float64
	run      runFlags
}

func (f *labFlags) options() sandbox.Options {
	return sandbox.Options{Hosts: f.hosts, RPS: f.rps, Seed: f.seed, Dir: f.dir}
}

func newLabCmd() *cobra.Command {
	f := &labFlags{}
	cmd := &cobra.Command{
		Use:   "lab",
		Short: "Practise on a sandbox fleet: start the lab and run one of its scenarios",
		Long: `gameday lab starts a sandbox on this machine -- a checkout service fleet
behind a load balancer with steady load, an SSH server per host, a
Prometheus-compatible API and an AWS-compatible endpoint, all on loopback --
and runs one of the lab's scenarios against it through the same SSH, AWS and
Prometheus code paths a real game day uses. Stopping it leaves nothing behind.

gameday lab up starts the lab alone and prints its endpoints, for real tools.

Scenarios (--scenario):
` + labScenarioList() + `
` + exitCodesHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runLab(cmd, f)
		},
	}
	addLabFlags(cmd, f)
	fs := cmd.Flags()
	fs.StringVar(&f.scenario, "scenario", "latency-one-host", "lab scenario to run")
	fs.Float64Var(&f.scale, "time-scale", 1, "multiply the scenario's durations by this (0.1 runs it ten times faster)")
	fs.BoolVar(&f.run.Autopilot, "autopilot", false, "run with no console: advance on its own, one line per event on stderr")
	fs.BoolVar(&f.run.JSON, "json", false, "write every event as a JSON line on stdout")
	fs.StringVar(&f.run.RunsDir, "runs-dir", "", "where run directories (journal, report) are made (default ./gameday-runs)")
	addConfirmEachFlag(cmd, &f.run)
	addMetricsListenFlag(cmd, &f.run)
	cmd.AddCommand(newLabUpCmd())
	return cmd
}

func addLabFlags(cmd *cobra.Command, f *labFlags) {
	fs := cmd.Flags()
	fs.IntVar(&f.hosts, "hosts", 3, "checkout hosts to run")
	fs.Float64Var(&f.rps, "rps", 50, "requests per second the load generator sends")
	fs.Int64Var(&f.seed, "seed", 1, "seed of the latency draws and request arrivals")
	fs.StringVar(&f.dir, "dir", "", "directory for ssh_config, known_hosts and the lab key (default a temporary directory removed on exit)")
}

func newLabUpCmd() *cobra.Command {
	f := &labFlags{}
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Start the lab, print its endpoints and wait for Ctrl-C",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmdContext(cmd), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
			defer stop()
			start := time.Now()
			l, err := sandbox.Start(ctx, f.options())
			if err != nil {
				return invalid(err)
			}
			defer l.Close()
			printLab(cmd.OutOrStdout(), l, time.Since(start))
			<-ctx.Done()
			fmt.Fprintln(cmd.ErrOrStderr(), "gameday lab: stopping")
			return nil
		},
	}
	addLabFlags(cmd, f)
	return cmd
}

func cmdContext(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}

// printLab lists every endpoint, as commands a user can paste.
func printLab(w io.Writer, l *sandbox.Lab, took time.Duration) {
	fmt.Fprintf(w, "gameday lab is up (%d hosts, ready in %s); Ctrl-C stops it.\n\n", len(l.Hosts), took.Round(time.Millisecond))
	fmt.Fprintf(w, "Prometheus     %s\n", l.PrometheusURL)
	fmt.Fprintf(w, "Load balancer  %s/checkout\n", l.LoadBalancerURL)
	fmt.Fprintf(w, "ssh_config     %s\n", l.SSHConfigPath)
	fmt.Fprintf(w, "known_hosts    %s\n", l.KnownHostsPath)
	fmt.Fprintf(w, "identity       %s\n\n", l.IdentityPath)
	fmt.Fprintf(w, "%-12s %-17s %-21s %-12s %s\n", "HOST", "SSH", "INSTANCE", "AZ", "SERVICE")
	for _, h := range l.Hosts {
		fmt.Fprintf(w, "%-12s %-17s %-21s %-12s %s\n", h.Name, h.SSHAddr, h.InstanceID, h.AZ, h.ServiceURL)
	}
	fmt.Fprintf(w, "\nTry:\n  ssh -F %s %s help\n", l.SSHConfigPath, l.Hosts[0].Name)
	fmt.Fprintf(w, "  curl -s '%s/api/v1/query' --data-urlencode 'query=sum by (code) (rate(http_requests_total{job=\"checkout-lb\"}[30s]))'\n", l.PrometheusURL)
	if l.AWS.Endpoint != "" {
		fmt.Fprintf(w, "\nAWS endpoint (the hosts are its EC2 instances; docs/lab-aws.md):\n")
		fmt.Fprintf(w, "  export AWS_ENDPOINT_URL=%s AWS_REGION=%s\n", l.AWS.Endpoint, l.AWS.Region)
		fmt.Fprintf(w, "  export AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s\n", l.AWS.AccessKeyID, l.AWS.SecretAccessKey)
		fmt.Fprintf(w, "  security group %s, Lambda function %s, RDS cluster %s,\n", sandbox.SecurityGroupID, sandbox.FunctionName, sandbox.DBClusterID)
		fmt.Fprintf(w, "  Auto Scaling group %s, ECS cluster/service %s/%s, DynamoDB table %s,\n", sandbox.AutoScalingGroup, sandbox.ECSCluster, sandbox.ECSService, sandbox.TableName)
		fmt.Fprintf(w, "  FIS experiment template %s\n", sandbox.FISTemplateID)
	}
}

// runLab starts the lab, writes the scenario's runbook for it and runs it.
func runLab(cmd *cobra.Command, f *labFlags) error {
	ctx := cmdContext(cmd)
	if f.scale <= 0 || f.scale > 10 {
		return invalid(fmt.Errorf("--time-scale %g: expected a number above 0, at most 10", f.scale))
	}
	if _, ok := sandbox.LookupScenario(f.scenario); !ok {
		return invalid(fmt.Errorf("--scenario %q: no such lab scenario; expected one of %s", f.scenario, strings.Join(sandbox.ScenarioNames(), ", ")))
	}
	l, err := sandbox.Start(ctx, f.options())
	if err != nil {
		return invalid(err)
	}
	defer l.Close()
	return runLabScenario(cmd, l, f.scenario, f.scale, f.run)
}

// runLabScenario writes the scenario's runbook for l into the lab's
// directory and runs it through runFile, wired to the lab's Prometheus and
// SSH files and to no key but the lab's.
func runLabScenario(cmd *cobra.Command, l *sandbox.Lab, scenario string, scale float64, rf runFlags) error {
	path, err := labScenarioFile(cmd, l, scenario, scale, &rf)
	if err != nil {
		return err
	}
	return runFile(cmd, path, &rf)
}

// labScenarioFile writes the scenario's runbook for l, waits for the lab's
// metrics, and wires rf to the lab alone.
func labScenarioFile(cmd *cobra.Command, l *sandbox.Lab, scenario string, scale float64, rf *runFlags) (string, error) {
	src, err := l.Runbook(scenario, scale)
	if err != nil {
		return "", invalid(err)
	}
	path := filepath.Join(l.Dir, scenario+".yaml")
	if err := os.WriteFile(path, src, 0o644); err != nil {
		return "", invalid(err)
	}
	warm, cancel := context.WithTimeout(cmdContext(cmd), 30*time.Second)
	defer cancel()
	if err := l.WaitForMetrics(warm); err != nil {
		return "", invalid(err)
	}
	rf.Prometheus = l.PrometheusURL
	rf.SSHConfig = l.SSHConfigPath
	rf.KnownHosts = l.KnownHostsPath
	rf.Identities = []string{l.IdentityPath}
	rf.SSHAgent = "-"
	// The AWS family reads its region, endpoint and keys through Getenv:
	// the lab's, and nothing of the user's environment, so a lab run can
	// never reach a real account.
	env := map[string]string{
		"AWS_REGION":            l.AWS.Region,
		"AWS_ENDPOINT_URL":      l.AWS.Endpoint,
		"AWS_ACCESS_KEY_ID":     l.AWS.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY": l.AWS.SecretAccessKey,
	}
	rf.Getenv = func(k string) string { return env[k] }
	// Every member is the lab's own: its EC2 instances are hosts on
	// loopback behind a loopback endpoint, which the run's guard cannot see
	// from an instance id.
	rf.Yes = true
	return path, nil
}

func labScenarioList() string {
	var b strings.Builder
	for _, s := range sandbox.Scenarios() {
		fmt.Fprintf(&b, "  %-18s %s (%s)\n", s.Name, strings.TrimSuffix(s.Summary, "."), s.Outcome)
	}
	return b.String()
}
