package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/gameday/gameday/gamedays"
)

// asker shows a recovery's plan and asks on the terminal whether to go on,
// as the console asks to confirm a blast radius.
type asker struct {
	r        *bufio.Reader
	out      io.Writer
	yes      bool // --yes: go on without asking
	terminal bool
	// why says why the last plan was declined without an answer, for the
	// error message; "" when someone answered.
	why string
}

func newAsker(in io.Reader, out io.Writer, yes bool) *asker {
	f, ok := in.(*os.File)
	return &asker{r: bufio.NewReader(in), out: out, yes: yes, terminal: ok && term.IsTerminal(int(f.Fd()))}
}

// confirm is gamedays.RecoverOptions.Confirm.
func (a *asker) confirm(p gamedays.RecoveryPlan) bool {
	a.why = ""
	showPlan(a.out, p)
	if a.yes {
		return true
	}
	if !a.terminal {
		a.why = "stdin is not a terminal to ask on; pass --yes to roll back without asking"
		return false
	}
	fmt.Fprint(a.out, "Roll back now? [y/N] ")
	line, err := a.r.ReadString('\n')
	if err != nil && line == "" {
		a.why = "no answer"
		return false
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	return false
}

// showPlan says what a recovery will run, on which member.
func showPlan(w io.Writer, p gamedays.RecoveryPlan) {
	if len(p.Problems) > 0 {
		fmt.Fprintf(w, "WARNING: trusted with --trust-journal: %s\n", untrustedLines(p.Journal, p.Problems))
	}
	fmt.Fprintf(w, "%s: recover will roll back %d injection(s):\n", p.Journal, len(p.Steps))
	for _, s := range p.Steps {
		inj := s.Injection
		fmt.Fprintf(w, "  %s (%s) on %s:\n", inj.Attack, inj.Kind, memberWhere(inj.Member))
		if len(s.Calls) == 0 {
			fmt.Fprintln(w, "    nothing to run: the kind has no rollback")
		}
		for _, c := range s.Calls {
			fmt.Fprintf(w, "    %s\n", c)
		}
	}
}

// maxProblems bounds how many of a journal's problems are listed: the first
// is where it went wrong, and a journal from before sealing has one a line.
const maxProblems = 5

// untrustedLines words why a journal is not authenticated, line by line.
func untrustedLines(path string, problems []gamedays.Problem) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s is not authenticated:", path)
	for i, p := range problems {
		if i == maxProblems {
			fmt.Fprintf(&b, "\n  ... and %d more", len(problems)-i)
			break
		}
		fmt.Fprintf(&b, "\n  %s:%d: %s", path, p.Line, p.Msg)
	}
	return b.String()
}
