package runbook_test

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

const (
	keyDee = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIABnRTJFAoVYBtiDLSaNX43wUGXgtVWIeJzgpJ6HP01G dee"
	keyEve = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINy3sKdvydiS3mkZs8FeunWAmElRGMObOKZlIf3jfc8o eve"
)

const roomSection = `roles:
  facilitator: {name: Ana}
  scribe: {name: Ben}
  observers:
    - {name: Dee, key: "` + keyDee + `"}
  responders:
    - {name: Eve, key: "` + keyEve + `"}
  safety_officers: [Ben]
slo:
  objective: 99.9%
  window: 720h
  warn_above: 10%
drill:
  allowed: true
  hints:
    - {after: 2m, text: Compare the instances}
    - text: Look at the load balancer
`

func withRoom(t *testing.T, old, new string) []byte {
	t.Helper()
	base, err := os.ReadFile("testdata/valid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	room := roomSection
	if old != "" {
		if !strings.Contains(room, old) {
			t.Fatalf("room section has no %q", old)
		}
		room = strings.Replace(room, old, new, 1)
	}
	return append(base, room...)
}

func TestRolesSLODrill(t *testing.T) {
	rb, err := runbook.Parse("room.yaml", withRoom(t, "", ""), targets.Default())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range rb.Roles.Members() {
		got = append(got, m.Role+":"+m.Name)
	}
	if strings.Join(got, " ") != "facilitator:Ana scribe:Ben observer:Dee responder:Eve" {
		t.Errorf("members = %v", got)
	}
	if rb.Roles.Observers[0].Key != keyDee {
		t.Errorf("observer key = %q", rb.Roles.Observers[0].Key)
	}
	for name, want := range map[string]bool{"Ana": true, "Ben": true, "Dee": false, "Eve": false, "": false} {
		if rb.Roles.CanAbort(name) != want {
			t.Errorf("CanAbort(%q) = %v, want %v", name, !want, want)
		}
	}
	s := rb.SLO
	if s == nil || s.Objective < 0.99899 || s.Objective > 0.99901 || s.Window != 720*time.Hour || s.WarnAbove != 0.1 {
		t.Fatalf("slo = %+v", s)
	}
	if m := s.BudgetMinutes(); m < 43.19 || m > 43.21 {
		t.Errorf("budget = %v minutes, want 43.2 (0.1%% of 30 days)", m)
	}
	d := rb.Drill
	if !d.Allowed || len(d.Hints) != 2 || d.Hints[0].After != 2*time.Minute || d.Hints[1].After != 0 || d.Hints[1].Text != "Look at the load balancer" {
		t.Errorf("drill = %+v", d)
	}
}

func TestRunbookWithoutRoomHasNoSLO(t *testing.T) {
	rb, err := runbook.Load("testdata/valid.yaml", targets.Default())
	if err != nil {
		t.Fatal(err)
	}
	if rb.SLO != nil || len(rb.Roles.Members()) != 0 || rb.Drill.Allowed {
		t.Errorf("defaults: slo %+v roles %+v drill %+v", rb.SLO, rb.Roles, rb.Drill)
	}
}

func TestBrokenRoom(t *testing.T) {
	tests := []struct {
		name, old, new, want string
	}{
		{"bad key", keyDee, "ssh-ed25519 nonsense", `observers[0].key: expected an SSH public key such as "ssh-ed25519 AAAA... name"`},
		{"same key twice", keyEve, keyDee, "roles: Dee and Eve have the same key"},
		{"name twice", "{name: Eve,", "{name: Ben,", `roles: "Ben" is named twice (also at line`},
		{"unknown safety officer", "safety_officers: [Ben]", "safety_officers: [Zed]", `roles.safety_officers: "Zed" is not a participant; expected one of: Ana, Ben, Dee, Eve`},
		{"person without name", "scribe: {name: Ben}", "scribe: {key: \"" + keyEve + "\"}", `roles.scribe: missing required field "name"`},
		{"objective 100%", "objective: 99.9%", "objective: 100%", "slo.objective: an objective of 100% leaves no error budget"},
		{"objective not a share", "objective: 99.9%", "objective: 5", "slo.objective: expected a number above 0 and at most 1, found 5"},
		{"window missing", "  window: 720h\n", "", `slo: missing required field "window"`},
		{"hint without text", "- text: Look at the load balancer", "- after: 5m", `drill.hints[1]: missing required field "text"`},
		{"misspelt role", "scribe:", "scrib:", `roles: unknown field "scrib" (did you mean "scribe"?)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runbook.Parse("room.yaml", withRoom(t, tc.old, tc.new), targets.Default())
			var list runbook.ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("err = %v, want an ErrorList", err)
			}
			if len(list) != 1 || !strings.Contains(list[0].Error(), tc.want) || list[0].Line == 0 {
				t.Fatalf("got %v\nwant one error with a line, containing %q", err, tc.want)
			}
		})
	}
}
