package gamedays

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// A thousand members that fail for one reason are one reason: failures
// are grouped by what they say once each member's own name and addresses
// are taken out, and said as one line per reason naming its members.

// MemberFailure is one member's failure.
type MemberFailure struct {
	Member string // the member's ID, "" when the message names none
	Msg    string
}

// Reason is what a group of members failed with.
type Reason struct {
	Text    string   // the message, the member's name and addresses replaced
	Members []string // in the order they failed
}

// addrs are IPv4 and bracketed IPv6 addresses, with their ports: what
// differs from one member's message to the next beside its name.
var addrs = regexp.MustCompile(`\[[0-9A-Fa-f:.]+\](:[0-9]+)?|\b[0-9]{1,3}(\.[0-9]{1,3}){3}(:[0-9]+)?\b`)

// MemberFailureOf reads the member out of a message that starts with "host ID: "
// (the SSH executor's) and keeps the rest.
func MemberFailureOf(msg string) MemberFailure {
	if rest, ok := strings.CutPrefix(msg, "host "); ok {
		if id, _, ok := strings.Cut(rest, ": "); ok && !strings.ContainsAny(id, " \t") {
			return MemberFailure{Member: id, Msg: msg}
		}
	}
	return MemberFailure{Msg: msg}
}

// GroupFailures groups fs by reason, the most common first.
func GroupFailures(fs []MemberFailure) []Reason {
	index := map[string]int{}
	var out []Reason
	for _, f := range fs {
		text := f.Msg
		if f.Member != "" {
			text = strings.ReplaceAll(text, "host "+f.Member+": ", "")
			text = strings.ReplaceAll(text, "host "+f.Member+" ", "host ")
		}
		text = addrs.ReplaceAllString(text, "ADDR")
		i, ok := index[text]
		if !ok {
			i = len(out)
			index[text] = i
			out = append(out, Reason{Text: text})
		}
		if f.Member != "" {
			out[i].Members = append(out[i].Members, f.Member)
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return len(out[a].Members) > len(out[b].Members) })
	return out
}

// summaryReason bounds a reason for a summary line: its first clause.
const summaryReason = 100

// Summary says the reasons in one line: "REASON (N); REASON (M)", each
// reason cut to its first clause.
func Summary(rs []Reason) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		text, _, _ := strings.Cut(r.Text, "; ")
		if len(text) > summaryReason {
			text = text[:summaryReason] + "…"
		}
		parts[i] = text
		if n := len(r.Members); n > 0 {
			parts[i] += fmt.Sprintf(" (%d)", n)
		}
	}
	return strings.Join(parts, "; ")
}

// Details is one line per reason: its members, all of them, then the
// reason in full.
func Details(rs []Reason) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		if len(r.Members) == 0 {
			out[i] = r.Text
			continue
		}
		out[i] = fmt.Sprintf("%d: %s: %s", len(r.Members), strings.Join(r.Members, ", "), r.Text)
	}
	return out
}
