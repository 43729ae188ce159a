package ui

import (
	"context"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/runbook"
)

// remaining asks Config.Remaining once for every console of the game day:
// the facilitator's and each participant's price the blast alike.
func (c *Console) remaining() (float64, error) {
	c.remOnce.Do(func() {
		c.remLeft = 1
		if c.cfg.Remaining == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		left, err := c.cfg.Remaining(ctx)
		if err != nil {
			c.remErr = err
			return
		}
		c.remLeft = left
	})
	return c.remLeft, c.remErr
}

// releaseHint sends the next hint not yet released.
func (m *model) releaseHint() {
	if !m.mayWrite(gamedays.NoteHint) {
		return
	}
	rb := m.cfg.Runbook
	if rb == nil || len(rb.Drill.Hints) == 0 {
		m.flash = "this runbook has no hints"
		return
	}
	for _, h := range rb.Drill.Hints {
		if slices.Contains(m.run.Drill.Released, h.Text) {
			continue
		}
		if m.send(gamedays.Intent{Type: gamedays.IntentNote, Kind: gamedays.NoteHint, Text: h.Text, Author: m.author, Source: "key"}) {
			m.flash = "hint released: " + h.Text
		}
		return
	}
	m.flash = "every hint has been released"
}

// rolesLine is the header's third line when people share the game day:
// who holds which role, and who is connected now.
func (m *model) rolesLine() string {
	st, s := m.styles, m.run
	var parts []string
	if rb := m.cfg.Runbook; rb != nil {
		r := rb.Roles
		if r.Facilitator != nil {
			parts = append(parts, "facilitator "+r.Facilitator.Name)
		}
		if r.Scribe != nil {
			parts = append(parts, "scribe "+r.Scribe.Name)
		}
		if names := personNames(r.Responders); names != "" {
			parts = append(parts, "responders "+names)
		}
		if names := personNames(r.Observers); names != "" {
			parts = append(parts, "observers "+names)
		}
		if len(r.SafetyOfficers) > 0 {
			parts = append(parts, "safety "+strings.Join(r.SafetyOfficers, ", "))
		}
	}
	var online []string
	for name, n := range s.online {
		if n > 0 {
			online = append(online, name)
		}
	}
	sort.Strings(online)
	left := strings.Join(parts, " · ")
	if g := m.guest; g != nil {
		left = st.Accent.Render("you: "+g.who.Name+" ("+g.who.Role+")") + "  " + left
	}
	right := "online: " + st.OK.Render(strings.Join(online, ", "))
	if len(online) == 0 {
		right = "online: " + st.Muted.Render("nobody has joined")
	}
	// How to join stays in view for the facilitator; the host key, too
	// long for this line, is in the key help (?).
	if j := m.cfg.Join; j != "" && m.guest == nil {
		if withJoin := st.Accent.Render("join: "+j) + "  " + right; ansi.StringWidth(withJoin)+2 <= m.width {
			right = withJoin
		}
	}
	// Who is online matters most in the room; the roles give way.
	right = ansi.Truncate(right, m.width, "…")
	left = ansi.Truncate(left, max(0, m.width-ansi.StringWidth(right)-2), "…")
	return spread(left, right, m.width)
}

func personNames(ps []runbook.Person) string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

// showsRoles: the header gives a line to the roles.
func (m *model) showsRoles() bool {
	if m.cfg.Shared || m.guest != nil {
		return true
	}
	rb := m.cfg.Runbook
	return rb != nil && len(rb.Roles.Members()) > 0
}
