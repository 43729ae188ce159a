package runbook

import (
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
	"golang.org/x/crypto/ssh"
)

// Person is one participant. Key, when set, is the SSH public key they join
// `gameday serve` with.
type Person struct {
	Name string
	Key  string // authorized_keys format
	Pos  Pos
}

// Role names, as the console and the report show them.
const (
	RoleFacilitator = "facilitator"
	RoleScribe      = "scribe"
	RoleObserver    = "observer"
	RoleResponder   = "responder"
)

// Roles is who is in the room and what each may do.
type Roles struct {
	Facilitator *Person
	Scribe      *Person
	Observers   []Person
	Responders  []Person
	// SafetyOfficers name participants who may abort besides the facilitator.
	SafetyOfficers []string
}

// Member is one participant with the role they hold.
type Member struct {
	Person
	Role string
}

// Members lists everyone in role order: facilitator, scribe, observers, responders.
func (r Roles) Members() []Member {
	var out []Member
	if r.Facilitator != nil {
		out = append(out, Member{*r.Facilitator, RoleFacilitator})
	}
	if r.Scribe != nil {
		out = append(out, Member{*r.Scribe, RoleScribe})
	}
	for _, p := range r.Observers {
		out = append(out, Member{p, RoleObserver})
	}
	for _, p := range r.Responders {
		out = append(out, Member{p, RoleResponder})
	}
	return out
}

// CanAbort says whether the named participant may abort.
func (r Roles) CanAbort(name string) bool {
	if r.Facilitator != nil && r.Facilitator.Name == name {
		return true
	}
	for _, s := range r.SafetyOfficers {
		if s == name {
			return true
		}
	}
	return false
}

// SLO is the service level objective the blast radius is priced against.
type SLO struct {
	Objective float64       // good share, such as 0.999
	Window    time.Duration // such as 30 days
	// RemainingQuery is PromQL returning the share of the window's error
	// budget still left (0..1); without it the whole budget is assumed left.
	RemainingQuery string
	// WarnAbove is the share of the remaining budget above which the planned
	// blast is flagged; default 0.25.
	WarnAbove float64
	Pos       Pos
}

// BudgetMinutes is the window's whole error budget in minutes of full outage.
func (s SLO) BudgetMinutes() float64 {
	return (1 - s.Objective) * s.Window.Minutes()
}

// Drill configures on-call training runs (`gameday drill`).
type Drill struct {
	Allowed bool
	Hints   []Hint
}

// Hint is released to responders after a delay from the inject, or by key.
type Hint struct {
	After time.Duration // 0: released only by the facilitator
	Text  string
	Pos   Pos
}

func personField(name, doc string) *field {
	return obj(name, doc,
		req(leaf("name", "string", "how the console and the report name them")),
		leaf("key", "string", "SSH public key (authorized_keys line) they join `gameday serve` with"),
	)
}

func rolesSchema() *field {
	people := func(name, doc string) *field {
		return &field{Name: name, Type: "list", Doc: doc, Elem: personField("", "")}
	}
	return obj("roles", "who is in the room; keys let them join `gameday serve`",
		personField("facilitator", "runs the game day: advances phases, confirms the blast radius, may abort"),
		personField("scribe", "takes notes in the timeline"),
		people("observers", "watch only"),
		people("responders", "work the incident in a drill; see metrics and timeline, not the fault"),
		&field{Name: "safety_officers", Type: "list", Doc: "names of participants who may abort besides the facilitator", Elem: leaf("", "string", "")},
	)
}

func sloSchema() *field {
	return obj("slo", "service level objective, to price the blast radius in error budget",
		req(leaf("objective", "percent", "share of good requests, such as 99.9%")),
		req(leaf("window", "duration", "SLO window, such as 720h (30 days)")),
		leaf("remaining_query", "string", "PromQL for the share of the budget left (0..1); default: all of it"),
		leaf("warn_above", "percent", "warn when the planned blast costs more than this share of the remaining budget (default 25%)"),
	)
}

func drillSchema() *field {
	return obj("drill", "on-call training with `gameday drill`",
		leaf("allowed", "bool", "this runbook may be run as a drill"),
		&field{Name: "hints", Type: "list", Doc: "hints for responders", Elem: obj("", "",
			leaf("after", "duration", "released this long after the inject; omit to release by key only"),
			req(leaf("text", "string", "what responders are told")),
		)},
	)
}

func (l *loader) person(n *yaml.Node, spec *field, what string) Person {
	p := Person{Pos: pos(n)}
	l.object(n, spec, what, func(key string, _, v *yaml.Node) {
		switch key {
		case "name":
			p.Name = strings.TrimSpace(l.nonEmpty(v, what+".name"))
		case "key":
			p.Key = strings.TrimSpace(l.str(v, what+".key"))
			if p.Key != "" {
				if _, _, _, _, err := ssh.ParseAuthorizedKey([]byte(p.Key)); err != nil {
					l.errorf(v, "%s.key: expected an SSH public key such as \"ssh-ed25519 AAAA... name\" (a line of authorized_keys): %v", what, err)
				}
			}
		}
	})
	return p
}

func (l *loader) people(n *yaml.Node, spec *field, what string) []Person {
	items := l.list(n, what, "a list of people (- name: ...)")
	out := make([]Person, 0, len(items))
	for i, item := range items {
		out = append(out, l.person(item, spec.Elem, fmt.Sprintf("%s[%d]", what, i)))
	}
	return out
}

func (l *loader) roles(n *yaml.Node, spec *field) {
	r := &l.rb.Roles
	var officers *yaml.Node
	before := len(l.errs)
	l.object(n, spec, "roles", func(key string, _, v *yaml.Node) {
		w := "roles." + key
		switch key {
		case "facilitator":
			p := l.person(v, spec.child(key), w)
			r.Facilitator = &p
		case "scribe":
			p := l.person(v, spec.child(key), w)
			r.Scribe = &p
		case "observers":
			r.Observers = l.people(v, spec.child(key), w)
		case "responders":
			r.Responders = l.people(v, spec.child(key), w)
		case "safety_officers":
			r.SafetyOfficers = l.strList(v, w)
			officers = v
		}
	})
	seenName := map[string]Pos{}
	seenKey := map[string]string{}
	for _, m := range r.Members() {
		if m.Name == "" {
			continue
		}
		if at, dup := seenName[m.Name]; dup {
			l.errorAt(m.Pos, "roles: %q is named twice (also at line %d); give each participant one role", m.Name, at.Line)
		}
		seenName[m.Name] = m.Pos
		if m.Key == "" {
			continue
		}
		fp := fingerprint(m.Key)
		if other, dup := seenKey[fp]; dup {
			l.errorAt(m.Pos, "roles: %s and %s have the same key; each participant needs their own, so that what they may do is theirs", other, m.Name)
		}
		seenKey[fp] = m.Name
	}
	// A participant already reported as broken would show up again as an
	// unknown safety officer; one mistake, one message.
	if officers != nil && len(l.errs) == before {
		items := resolve(officers).Content
		for i, name := range r.SafetyOfficers {
			if _, ok := seenName[name]; !ok && i < len(items) {
				names := make([]string, 0, len(seenName))
				for _, m := range r.Members() {
					names = append(names, m.Name)
				}
				l.errorf(items[i], "roles.safety_officers: %q is not a participant; expected one of: %s", name, strings.Join(names, ", "))
			}
		}
	}
}

func fingerprint(key string) string {
	pk, _, _, _, err := ssh.ParseAuthorizedKey([]byte(key))
	if err != nil {
		return key
	}
	return ssh.FingerprintSHA256(pk)
}

func (l *loader) slo(n *yaml.Node, spec *field) {
	s := SLO{Pos: pos(n), WarnAbove: 0.25}
	l.object(n, spec, "slo", func(key string, _, v *yaml.Node) {
		w := "slo." + key
		switch key {
		case "objective":
			before := len(l.errs)
			s.Objective = l.share(v, w)
			if s.Objective >= 1 && len(l.errs) == before {
				l.errorf(v, "%s: an objective of 100%% leaves no error budget to spend; expected below 100%%, such as 99.9%%", w)
			}
		case "window":
			s.Window = l.duration(v, w, false)
		case "remaining_query":
			s.RemainingQuery = l.nonEmpty(v, w)
		case "warn_above":
			s.WarnAbove = l.share(v, w)
		}
	})
	l.rb.SLO = &s
}

// share reads a percentage ("99.9%") or a fraction (0.999) as a fraction.
func (l *loader) share(n *yaml.Node, what string) float64 {
	s, ok := l.scalar(n, what, "a percentage such as 99.9%")
	if !ok {
		return 0
	}
	if strings.HasSuffix(s, "%") {
		return l.number(n, what, 0, 100) / 100
	}
	v := l.number(n, what, 0, 1)
	return v
}

func (l *loader) drill(n *yaml.Node, spec *field) {
	d := &l.rb.Drill
	l.object(n, spec, "drill", func(key string, _, v *yaml.Node) {
		switch key {
		case "allowed":
			d.Allowed = l.boolean(v, "drill.allowed")
		case "hints":
			for i, item := range l.list(v, "drill.hints", "a list of hints (- text: ...)") {
				w := fmt.Sprintf("drill.hints[%d]", i)
				h := Hint{Pos: pos(item)}
				l.object(item, spec.child("hints").Elem, w, func(key string, _, v *yaml.Node) {
					if key == "after" {
						h.After = l.duration(v, w+".after", false)
					} else {
						h.Text = l.nonEmpty(v, w+".text")
					}
				})
				d.Hints = append(d.Hints, h)
			}
		}
	})
}
