package fleet

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

// Exit statuses of lab commands, as a shell would give them.
const (
	ExitOK      = 0
	ExitUsage   = 2   // bad params or syntax
	ExitUnknown = 127 // no such command
)

// Exec runs one lab command line, as the SSH host receives it:
//
//	help | status | reset
//	NAME '--param=value' ... '--duration=D'
//	NAME --rollback
//	NAME --status
//
// Words may be single-quoted, and a backslash outside quotes escapes the
// next character, which is exactly what a POSIX shell would accept from the
// SSH executor. Anything that needs a shell (pipes, variables, redirection)
// is refused: the host is not one.
func (in *Instance) Exec(line string) (stdout, stderr string, code int) {
	words, err := splitWords(line)
	if err != nil {
		return "", fmt.Sprintf("%s: %v\n", in.name, err), ExitUsage
	}
	if len(words) == 0 {
		return "", fmt.Sprintf("%s: no command given; try help\n", in.name), ExitUsage
	}
	name, args := words[0], words[1:]
	switch name {
	case "help":
		return in.help(), "", ExitOK
	case "status":
		return in.status(), "", ExitOK
	case "reset":
		names, err := in.Reset()
		if err != nil {
			return "", err.Error() + "\n", 1
		}
		if len(names) == 0 {
			return in.name + ": no active faults\n", "", ExitOK
		}
		return fmt.Sprintf("%s: rolled back %s\n", in.name, strings.Join(names, ", ")), "", ExitOK
	}
	kind, ok := in.cfg.Catalogue.Spec("lab-" + name)
	if !ok || kind.LabCommand() == "" {
		msg := fmt.Sprintf("%s: unknown command %q; this lab host runs %s (try help)", in.name, name, strings.Join(commandNames(in.cfg.Catalogue), ", "))
		if s := runbook.Closest(name, commandNames(in.cfg.Catalogue)); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
		return "", msg + "\n", ExitUnknown
	}
	if slices.Contains(args, "--status") {
		if len(args) != 1 {
			return "", fmt.Sprintf("%s: %s --status takes nothing else, found %s\n", in.name, name, strings.Join(args, " ")), ExitUsage
		}
		return in.faultStatus(name), "", ExitOK
	}
	if slices.Contains(args, "--rollback") {
		if len(args) != 1 {
			return "", fmt.Sprintf("%s: %s --rollback takes nothing else, found %s\n", in.name, name, strings.Join(args, " ")), ExitUsage
		}
		was, err := in.Rollback(name)
		if err != nil {
			return "", err.Error() + "\n", 1
		}
		if !was {
			// Whoever rolls back wants to know when a person, not the
			// fault's own expiry, took it away: its window was cut short.
			if at, ok := in.ResetAt(name); ok {
				return fmt.Sprintf("%s: no %s fault active; nothing to roll back: %s at %s UTC\n", in.name, name, targets.LabResetByHand, at.UTC().Format("15:04:05")), "", ExitOK
			}
			return fmt.Sprintf("%s: no %s fault active; nothing to roll back\n", in.name, name), "", ExitOK
		}
		return fmt.Sprintf("%s: %s rolled back\n", in.name, name), "", ExitOK
	}
	params, d, problems := parseArgs(kind, args)
	var v targets.Values
	if len(problems) == 0 {
		var probs []runbook.ParamProblem
		v, probs = kind.Parse(params)
		for _, p := range probs {
			problems = append(problems, p.Msg)
		}
	}
	if len(problems) > 0 {
		return "", fmt.Sprintf("%s: %s: %s\n", in.name, name, strings.Join(problems, "; ")), ExitUsage
	}
	f, err := in.Apply(name, v, d)
	if err != nil {
		return "", err.Error() + "\n", 1
	}
	return fmt.Sprintf("%s: %s for %s (expires %s)\n", in.name, describe(name, f.Params), runbook.FormatDuration(d), f.Until.UTC().Format(time.RFC3339)), "", ExitOK
}

// parseArgs reads --key=value words and the --duration every fault needs.
func parseArgs(kind *targets.Kind, args []string) (map[string]string, time.Duration, []string) {
	params := map[string]string{}
	var d time.Duration
	var problems []string
	seen := map[string]bool{}
	for _, a := range args {
		kv, ok := strings.CutPrefix(a, "--")
		key, val, hasEq := strings.Cut(kv, "=")
		if !ok || !hasEq || key == "" {
			problems = append(problems, fmt.Sprintf("expected --param=value, found %q", a))
			continue
		}
		if seen[key] {
			problems = append(problems, fmt.Sprintf("--%s given twice", key))
			continue
		}
		seen[key] = true
		if key != "duration" {
			params[key] = val
			continue
		}
		var err error
		d, err = time.ParseDuration(val)
		switch {
		case err != nil || d <= 0:
			problems = append(problems, fmt.Sprintf("--duration: expected a duration such as 5m, found %q", val))
		case d > kind.MaxDuration:
			problems = append(problems, fmt.Sprintf("--duration: at most %s, found %s", runbook.FormatDuration(kind.MaxDuration), val))
		}
	}
	if !seen["duration"] {
		problems = append(problems, "missing --duration: every lab fault expires on its own, so it needs one")
	}
	return params, d, problems
}

// splitWords splits a command line into words the way sh would for the
// quoting the SSH executor uses, and refuses every other shell syntax.
func splitWords(line string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'':
			end := strings.IndexByte(line[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("unterminated single quote at column %d", i+1)
			}
			cur.WriteString(line[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case c == '\\':
			if i+1 == len(line) || line[i+1] == '\n' {
				return nil, fmt.Errorf("backslash at the end of the line (column %d)", i+1)
			}
			i++
			cur.WriteByte(line[i])
			inWord = true
		case c < 0x20 || c == 0x7f || strings.IndexByte("\"$`;&|<>()*?[]{}~#!", c) >= 0:
			return nil, fmt.Errorf("this host runs lab commands, not a shell: %q at column %d is not accepted unquoted", string(c), i+1)
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// commandNames are the lab fault commands the catalogue declares, sorted.
func commandNames(cat *targets.Catalogue) []string {
	var out []string
	for _, k := range cat.Kinds() {
		if c := k.LabCommand(); c != "" {
			out = append(out, c)
		}
	}
	return out
}

// describe is a fault as one line: its name and its params.
func describe(name string, p map[string]string) string {
	parts := []string{name}
	for _, k := range slices.Sorted(maps.Keys(p)) {
		parts = append(parts, k+"="+p[k])
	}
	return strings.Join(parts, " ")
}

func (in *Instance) help() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s is a gameday lab host. It runs these commands, and nothing else (it is not a shell):\n\n", in.name)
	fmt.Fprintf(&b, "  help                 this list\n")
	fmt.Fprintf(&b, "  status               the service's state and the active faults, with the time each has left\n")
	fmt.Fprintf(&b, "  reset                roll back every active fault\n")
	fmt.Fprintf(&b, "  NAME --rollback      end fault NAME now; succeeds when it is not active\n")
	fmt.Fprintf(&b, "  NAME --status        whether fault NAME is active now\n\n")
	fmt.Fprintf(&b, "Faults (each needs --duration=D and ends on its own after it):\n")
	for _, k := range in.cfg.Catalogue.Kinds() {
		c := k.LabCommand()
		if c == "" {
			continue
		}
		summary := strings.TrimPrefix(k.Summary, "Lab: ")
		fmt.Fprintf(&b, "\n  %s [--param=value ...] --duration=D\n      %s%s\n", c, strings.ToUpper(summary[:1]), summary[1:])
		for _, p := range k.Params {
			req := "default " + p.Default
			if p.Required {
				req = "required"
			}
			fmt.Fprintf(&b, "      --%s=%s (%s): %s\n", p.Name, p.Type, req, p.Help)
		}
	}
	return b.String()
}

func (in *Instance) status() string {
	var b strings.Builder
	state := "up"
	if !in.Up() {
		state = "down"
	}
	fmt.Fprintf(&b, "%s: service %s at %s, %d restarts\n", in.name, state, in.URL(), in.Restarts())
	faults := in.Faults()
	if len(faults) == 0 {
		b.WriteString("no active faults\n")
		return b.String()
	}
	now := time.Now()
	for _, f := range faults {
		fmt.Fprintf(&b, "%s: %s left", describe(f.Name, f.Params), remaining(f.Until, now))
		if !f.RestartAt.IsZero() {
			fmt.Fprintf(&b, ", restarts in %s", remaining(f.RestartAt, now))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// faultStatus says, changing nothing, whether fault name is active here:
// what a run's check that its fault is still in place reads.
func (in *Instance) faultStatus(name string) string {
	for _, f := range in.Faults() {
		if f.Name == name {
			return fmt.Sprintf("%s: %s\n", targets.LabInPlace, describe(f.Name, f.Params))
		}
	}
	if at, ok := in.ResetAt(name); ok {
		return fmt.Sprintf("%s: %s at %s UTC\n", targets.LabNotInPlace, targets.LabResetByHand, at.UTC().Format("15:04:05"))
	}
	return targets.LabNotInPlace + "\n"
}

func remaining(t, now time.Time) string {
	return runbook.FormatDuration(max(0, t.Sub(now)).Round(time.Second))
}
