package ui

import (
	"fmt"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/ui/keys"
)

// memberScroll is where the reader of a member table (blast radius,
// attacks) has scrolled to, and whether it shows only the members with a
// problem. A fleet of a thousand does not fit a screen: problems come
// first, the rest scrolls, and the filter hides what is fine.
type memberScroll struct {
	offset   int
	problems bool // show only members with a problem
	page     int  // rows shown last frame, for page up and down
}

// scrolls is a screen whose member table takes the scroll and filter keys.
type scrolls interface{ scroller() *memberScroll }

// update applies a scroll or filter key.
func (s *memberScroll) update(r keys.Result) {
	step := max(1, s.page-1)
	switch r.Action {
	case keys.ScrollUp:
		s.offset--
	case keys.ScrollDown:
		s.offset++
	case keys.PageUp:
		s.offset -= step
	case keys.PageDown:
		s.offset += step
	case keys.FilterMembers:
		s.problems, s.offset = !s.problems, 0
	}
	s.offset = max(0, s.offset)
}

// window is the rows from, to of n that fit in limit lines, the offset
// kept in range. When they do not all fit, or the filter is on, the last
// line is the footer's.
func (s *memberScroll) window(n, limit int) (from, to int) {
	if n > limit || s.problems {
		limit--
	}
	s.page = limit
	s.offset = min(s.offset, max(0, n-limit))
	return s.offset, min(n, s.offset+limit)
}

// footer says which rows are shown and how to see the others; "" when all
// are shown and no filter is on.
func (s *memberScroll) footer(from, to, shown, total int) string {
	if !s.problems && to-from == total {
		return ""
	}
	what := fmt.Sprintf("rows %d–%d of %d", from+1, to, shown)
	if shown == 0 {
		what = "no rows"
	}
	if s.problems {
		return fmt.Sprintf("%s: members with a problem only (%d in all); / shows every member", what, total)
	}
	return what + "; ↑/↓ and pgup/pgdn scroll, / shows members with a problem only"
}

// injectionsOf is a member's injections: read for the rows on screen only.
func (s *runState) injectionsOf(member string) []*attackRow {
	var out []*attackRow
	for _, r := range s.Injections {
		if r.Key.Member == member {
			out = append(out, r)
		}
	}
	return out
}

// failedPreflights is the members one of whose preflights failed.
func failedPreflights(s *runState) map[string]bool {
	out := map[string]bool{}
	for _, r := range s.Injections {
		if r.Preflight != nil && !r.Preflight.OK {
			out[r.Key.Member] = true
		}
	}
	return out
}

// preflightCounts counts a target's preflights: passed, failed, waiting.
func preflightCounts(s *runState, target string) (ok, failed, waiting int) {
	for _, r := range s.Injections {
		if r.Key.Target != target {
			continue
		}
		p := r.Preflight
		switch {
		case r.Key.Stage > 1:
			continue // a later stage is preflighted with the first
		case p == nil:
			waiting++
		case p.OK:
			ok++
		default:
			failed++
		}
	}
	return ok, failed, waiting
}

// attackProblem says whether an attack row needs the reader's eye.
func attackProblem(r *attackRow) bool {
	switch r.Status {
	case gamedays.StatusInjectFailed, gamedays.StatusRollbackFailed, gamedays.StatusEnded:
		return true
	}
	return r.LinkLost
}
