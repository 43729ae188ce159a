package gamedays

import (
	"strings"
	"testing"
)

// Failures that differ only in the member's name and address are one
// reason; another reason stays apart; the most common comes first.
func TestGroupFailures(t *testing.T) {
	var fs []MemberFailure
	for _, h := range []string{"a", "b", "c"} {
		fs = append(fs, MemberFailureOf("host "+h+": connect to 10.0.0."+string(rune('1'+len(fs)))+":22: connection refused"))
	}
	fs = append(fs, MemberFailureOf("host d: sudo needs a password for deploy; allow it NOPASSWD"))
	fs = append(fs, MemberFailure{Msg: "resolve target web: no such host"})
	rs := GroupFailures(fs)
	if len(rs) != 3 || rs[0].Text != "connect to ADDR: connection refused" || strings.Join(rs[0].Members, ",") != "a,b,c" {
		t.Fatalf("groups: %+v", rs)
	}
	if got := Summary(rs); got != "connect to ADDR: connection refused (3); sudo needs a password for deploy (1); resolve target web: no such host" {
		t.Errorf("summary: %q", got)
	}
	if d := Details(rs); len(d) != 3 || d[0] != "3: a, b, c: connect to ADDR: connection refused" || d[2] != "resolve target web: no such host" {
		t.Errorf("details: %q", d)
	}
}
