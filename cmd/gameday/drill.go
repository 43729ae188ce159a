package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/spf13/cobra"

	sandbox "github.com/gameday/gameday/lab"
)

// drillFlags are the options of gameday drill.
type drillFlags struct {
	lab    labFlags
	serve  serveFlags
	random bool
	// in/out replace this terminal for the facilitator's console (tests).
	in  io.Reader
	out io.Writer
}

func newDrillCmd() *cobra.Command {
	f := &drillFlags{}
	cmd := &cobra.Command{
		Use:   "drill [FILE]",
		Short: "On-call training: responders find a fault the facilitator injected",
		Long: `gameday drill runs a game day as a drill. Without FILE it starts the lab
and runs one of its scenarios (--scenario), or spins the wheel over them all
(--random; --seed makes the spin repeatable). With FILE it runs that
runbook, which must set drill: {allowed: true}.

Responders join over SSH (their keys in the runbook's roles, or in
--authorized-keys) and see a responder view: the metrics and the timeline,
but not which fault was injected or where. They press d when they have
detected the problem and m when they have mitigated it, each with a line of
what they saw or did; time to detect and time to mitigate are measured from
the first inject and recorded in the journal and the report. The
facilitator releases hints with h, and hints with an after: are released on
their own that long after the inject. If nobody mitigates, the attack ends
by rollback at its duration, as every attack does.

` + exitCodesHelp,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDrill(cmd, args, f)
		},
	}
	addLabFlags(cmd, &f.lab)
	fs := cmd.Flags()
	fs.StringVar(&f.lab.scenario, "scenario", "", "lab scenario to drill (default: latency-one-host, or --random)")
	fs.BoolVar(&f.random, "random", false, "spin the wheel: drill a lab scenario picked at random (--seed repeats a spin)")
	fs.Float64Var(&f.lab.scale, "time-scale", 1, "multiply the scenario's durations by this")
	fs.StringVar(&f.lab.run.Prometheus, "prometheus", "", "Prometheus-compatible base URL, with FILE (overrides the environment and the runbook)")
	addTargetFlags(cmd, &f.lab.run)
	addServeFlags(cmd, &f.serve)
	addListenFlags(cmd, &f.lab.run)
	return cmd
}

func runDrill(cmd *cobra.Command, args []string, f *drillFlags) error {
	f.serve.Drill = true
	if len(args) == 1 {
		if f.lab.scenario != "" || f.random {
			return invalid(fmt.Errorf("--scenario and --random pick a lab scenario; with %s there is nothing to pick", args[0]))
		}
		return serveFile(cmd, args[0], &f.lab.run, &f.serve)
	}
	if f.lab.scenario != "" && f.random {
		return invalid(fmt.Errorf("--scenario %s and --random: pick one, or let the wheel pick", f.lab.scenario))
	}
	if f.lab.scale <= 0 || f.lab.scale > 10 {
		return invalid(fmt.Errorf("--time-scale %g: expected a number above 0, at most 10", f.lab.scale))
	}
	name := f.lab.scenario
	switch {
	case f.random:
		seed := uint64(time.Now().UnixNano())
		if cmd.Flags().Changed("seed") {
			seed = uint64(f.lab.seed)
		}
		name = spin(sandbox.ScenarioNames(), seed)
	case name == "":
		name = "latency-one-host"
	}
	if _, ok := sandbox.LookupScenario(name); !ok {
		return invalid(fmt.Errorf("--scenario %q: no such lab scenario; expected one of %s", name, strings.Join(sandbox.ScenarioNames(), ", ")))
	}
	l, err := sandbox.Start(cmdContext(cmd), f.lab.options())
	if err != nil {
		return invalid(err)
	}
	defer l.Close()
	rf := f.lab.run
	path, err := labScenarioFile(cmd, l, name, f.lab.scale, &rf)
	if err != nil {
		return err
	}
	return withSession(cmd, path, &rf, func(s *session) error {
		if !s.rb.Drill.Allowed {
			return invalid(fmt.Errorf("lab scenario %s is not a drill (drill.allowed is not set)", name))
		}
		if f.in == nil {
			if err := needTerminal(s); err != nil {
				return err
			}
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "gameday drill: %s\n", name)
		return serveSession(cmd, s, &f.serve, f.in, f.out)
	})
}

// spin is the wheel of misfortune: the same seed picks the same scenario.
func spin(names []string, seed uint64) string {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return names[r.IntN(len(names))]
}
