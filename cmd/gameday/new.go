package main

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
	"github.com/spf13/cobra"
)

func newNewCmd() *cobra.Command {
	var from, out string
	cmd := &cobra.Command{
		Use:   "new NAME",
		Short: "Start a runbook from a built-in scenario",
		Long: `Start a runbook from a built-in scenario (see gameday scenarios). The file is
NAME as a slug with .yaml, unless -o says otherwise; an existing file is never
overwritten.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := strings.TrimSpace(args[0])
			if name == "" {
				return invalid(errors.New("new: NAME must not be empty"))
			}
			sc, ok := runbook.LookupScenario(from)
			if !ok {
				return invalid(fmt.Errorf("new: no scenario %q%s; run `gameday scenarios` for the list", from, didYouMean(from, scenarioNames())))
			}
			if out == "" {
				out = slug(name) + ".yaml"
			}
			src := sc.Instantiate(name)
			if _, err := runbook.Parse(out, src, targets.Default()); err != nil {
				return fmt.Errorf("new: scenario %s does not validate (a bug): %w", from, err)
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
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s from scenario %s; edit its targets and metrics, then: gameday validate %s\n", out, from, out)
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "cpu-hog", "scenario to start from")
	cmd.Flags().StringVarP(&out, "output", "o", "", "file to write (default NAME.yaml)")
	return cmd
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
