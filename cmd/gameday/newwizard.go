package main

import (
	"fmt"
	"os"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/runbook/draft"
	"github.com/gameday/gameday/targets"
	"github.com/gameday/gameday/ui/wizard"
)

// Steps of gameday new's dialogue, in order; one without options is left out.
const (
	stepScenario = "scenario"
	stepLatency  = "latency panel"
	stepErrors   = "error panel"
	stepHosts    = "hosts"
	stepBlast    = "blast radius"
)

// blastChoices are the blast radius options offered; the zero value keeps
// the scenario's.
var blastChoices = []draft.Blast{{}, {Count: 1}, {Percent: 50}, {All: true}}

// newDialogue builds the steps from what was found, starting at sel.
func newDialogue(fd *found, sel selection) (steps []wizard.Step, scenarios []runbook.Scenario) {
	for _, s := range runbook.Scenarios() {
		if rb, err := runbook.Parse(s.Name, s.Source, targets.Default()); err == nil && len(rb.Targets) > 0 && rb.Targets[0].Family() == fd.family {
			scenarios = append(scenarios, s)
		}
	}
	st := wizard.Step{Title: stepScenario, Section: "attacks"}
	for i, s := range scenarios {
		st.Options = append(st.Options, wizard.Option{Label: s.Name, Detail: s.Summary})
		if s.Name == sel.scenario.Name {
			st.Pick = i
		}
	}
	steps = append(steps, st)
	if fd.prom != nil {
		lat := wizard.Step{Title: stepLatency, Section: "metrics"}
		for i, c := range fd.prom.Latency {
			lat.Options = append(lat.Options, wizard.Option{Label: c.Metric + " " + c.Where(), Detail: fmt.Sprintf("now %s, %d series", value(c), c.Series)})
			if sel.latency != nil && c.Query == sel.latency.Query {
				lat.Pick = i
			}
		}
		steps = append(steps, lat)
		errs := wizard.Step{Title: stepErrors, Section: "metrics"}
		errs.Options = append(errs.Options, wizard.Option{Label: "none", Detail: "no error-rate panel"})
		for i, c := range fd.prom.Errors {
			errs.Options = append(errs.Options, wizard.Option{Label: c.Metric + " " + c.Where(), Detail: fmt.Sprintf("now %s, %d series", value(c), c.Series)})
			if sel.errs != nil && c.Query == sel.errs.Query {
				errs.Pick = i + 1
			}
		}
		steps = append(steps, errs)
	}
	if len(fd.hosts) > 0 {
		h := wizard.Step{Title: stepHosts, Section: "targets", Multi: true}
		for _, k := range fd.hosts {
			h.Options = append(h.Options, wizard.Option{Label: k.Alias, Detail: k.User + "@" + k.Addr})
			h.Chosen = append(h.Chosen, true)
		}
		steps = append(steps, h)
	}
	b := wizard.Step{Title: stepBlast, Section: "blast_radius"}
	for i, c := range blastChoices {
		if c == sel.blast {
			b.Pick = i
		}
		label := c.String()
		if label == "" {
			label = "the scenario's"
		}
		b.Options = append(b.Options, wizard.Option{Label: label})
	}
	steps = append(steps, b)
	return steps, scenarios
}

// selectionOf reads the dialogue's steps back into a selection.
func selectionOf(fd *found, steps []wizard.Step, scenarios []runbook.Scenario) selection {
	var sel selection
	for _, s := range steps {
		switch s.Title {
		case stepScenario:
			sel.scenario = scenarios[s.Pick]
		case stepLatency:
			c := fd.prom.Latency[s.Pick]
			sel.latency = &c
		case stepErrors:
			if s.Pick > 0 {
				c := fd.prom.Errors[s.Pick-1]
				sel.errs = &c
			}
		case stepHosts:
			for i, on := range s.Chosen {
				if on {
					sel.hosts = append(sel.hosts, fd.hosts[i].Alias)
				}
			}
		case stepBlast:
			sel.blast = blastChoices[s.Pick]
		}
	}
	return sel
}

// dialogue is the preview the wizard shows: the YAML of one section as the
// current choices write it, or all of it for the last step.
func dialogue(name string, fd *found, scenarios []runbook.Scenario, o *newOpts) wizard.Preview {
	return func(steps []wizard.Step, section string) (string, error) {
		d, err := draft.Compose(choices(name, fd, selectionOf(fd, steps, scenarios), o))
		if err != nil {
			return "", err
		}
		if section == "" {
			return string(d.Bytes()), nil
		}
		return d.Section(section), nil
	}
}

// choose runs the dialogue on the terminal; ok is false when the person left.
func choose(fd *found, sel selection, name string, o *newOpts) (selection, bool, error) {
	steps, scenarios := newDialogue(fd, sel)
	if len(scenarios) == 0 {
		return sel, false, fmt.Errorf("new: no scenario fits %s targets", fd.family)
	}
	m := wizard.New(o.out, steps, dialogue(name, fd, scenarios, o))
	final, err := tea.NewProgram(m, tea.WithInput(os.Stdin), tea.WithOutput(os.Stdout)).Run()
	if err != nil {
		return sel, false, fmt.Errorf("new: dialogue: %w", err)
	}
	done, ok := final.(wizard.Model).Result()
	if !ok {
		return sel, false, nil
	}
	return selectionOf(fd, done, scenarios), true, nil
}
