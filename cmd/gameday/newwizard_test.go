package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"

	"github.com/gameday/gameday/metrics/discover"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/runbook/draft"
	"github.com/gameday/gameday/targets"
	"github.com/gameday/gameday/targets/ssh"
	"github.com/gameday/gameday/ui/wizard"
)

// foundForDialogue is what discovery could return for a two-job system.
func foundForDialogue() *found {
	mk := func(kind discover.Kind, job, metric string, now float64) discover.Candidate {
		c := discover.Candidate{Kind: kind, GroupLabel: "job", Group: job, Metric: metric, StatusLabel: "code", Series: 3, Now: now, Recent: now}
		if kind == discover.Latency {
			c.Query = discover.LatencyQuery(c)
		} else {
			c.Query = discover.ErrorQuery(c)
		}
		return c
	}
	return &found{
		family: "ssh",
		prom: &discover.Found{URL: "http://127.0.0.1:9090", Names: 40,
			Latency: []discover.Candidate{mk(discover.Latency, "checkout", "http_request_duration_seconds", 0.08), mk(discover.Latency, "payments", "rpc_duration_seconds", 0.2)},
			Errors:  []discover.Candidate{mk(discover.Errors, "checkout", "http_requests_total", 0), mk(discover.Errors, "payments", "rpc_requests_total", 0.002)},
		},
		hosts: []ssh.KnownHost{{Alias: "h1", Addr: "127.0.0.1:2201", User: "root"}, {Alias: "h2", Addr: "127.0.0.1:2202", User: "deploy"}},
	}
}

// The dialogue, driven key by key: every step shows the YAML its choice
// writes, and what was chosen is what the runbook gets.
func TestNewDialogue(t *testing.T) {
	lipgloss.SetColorProfile(termenv.Ascii)
	lipgloss.SetHasDarkBackground(true)
	fd := foundForDialogue()
	sc, _ := runbook.LookupScenario("cpu-hog")
	o := &newOpts{out: "shop.yaml", hosts: []string{"h*"}}
	sel, err := best(fd, sc, o)
	if err != nil {
		t.Fatal(err)
	}
	steps, scenarios := newDialogue(fd, sel)
	tm := teatest.NewTestModel(t, wizard.New("shop.yaml", steps, dialogue("shop", fd, scenarios, o)), teatest.WithInitialTermSize(200, 50))
	out := tm.Output()
	see := func(what ...string) {
		t.Helper()
		var last []byte
		teatest.WaitFor(t, out, func(b []byte) bool {
			last = append(last, b...)
			for _, w := range what {
				if !bytes.Contains(last, []byte(w)) {
					return false
				}
			}
			return true
		}, teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(5*time.Millisecond))
	}
	key := func(k tea.KeyType) { tm.Send(tea.KeyMsg{Type: k}) }
	runes := func(s string) { tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}) }

	see("1/6 scenario", "(•) cpu-hog", "kind: cpu")
	key(tea.KeyEnter)
	see("2/6 latency panel", `job="checkout"`, "now 80ms, 3 series", "sum by (le)")
	key(tea.KeyDown)
	see(`rpc_duration_seconds_bucket{job="payments"}`)
	key(tea.KeyEnter)
	see("3/6 error panel", "none")
	key(tea.KeyDown)
	key(tea.KeyDown)
	see(`rpc_requests_total{job="payments",code=~"5.."}[1m])) or vector(0)`)
	key(tea.KeyEnter)
	see("4/6 hosts", "[x] h1", "hosts: [h1, h2]")
	key(tea.KeyDown)
	runes(" ") // h2, which logs in as deploy, off: root needs no sudo
	see("[ ] h2", "hosts: [h1]", "sudo: false")
	key(tea.KeyEnter)
	see("5/6 blast radius", "the scenario's")
	key(tea.KeyDown)
	see("{count: 1}")
	key(tea.KeyEnter)
	see("6/6 write it?", "name: shop")
	key(tea.KeyEnter)
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))

	final, ok := tm.FinalModel(t).(wizard.Model).Result()
	if !ok {
		t.Fatal("the dialogue was not confirmed")
	}
	got := selectionOf(fd, final, scenarios)
	if got.scenario.Name != "cpu-hog" || got.latency.Group != "payments" || got.errs == nil || got.errs.Group != "payments" ||
		strings.Join(got.hosts, ",") != "h1" || got.blast != (draft.Blast{Count: 1}) {
		t.Fatalf("selection: %+v", got)
	}
	d, err := draft.Compose(choices("shop", fd, got, o))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := runbook.Parse("shop.yaml", d.Bytes(), targets.Default()); err != nil {
		t.Fatalf("%v\n%s", err, d.Bytes())
	}
	for _, want := range []string{`rpc_duration_seconds_bucket{job="payments"}`, "hosts: [h1]", "sudo: false", "payments: {count: 1}", "target: payments"} {
		if !bytes.Contains(d.Bytes(), []byte(want)) {
			t.Errorf("runbook lacks %q", want)
		}
	}
}

// Leaving writes nothing.
func TestNewDialogueQuit(t *testing.T) {
	lipgloss.SetColorProfile(termenv.Ascii)
	fd := foundForDialogue()
	sc, _ := runbook.LookupScenario("cpu-hog")
	o := &newOpts{out: "shop.yaml"}
	sel, _ := best(fd, sc, o)
	steps, scenarios := newDialogue(fd, sel)
	tm := teatest.NewTestModel(t, wizard.New("shop.yaml", steps, dialogue("shop", fd, scenarios, o)), teatest.WithInitialTermSize(40, 10))
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte("scenario")) },
		teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(5*time.Millisecond))
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")})
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	if _, ok := tm.FinalModel(t).(wizard.Model).Result(); ok {
		t.Fatal("quit counted as confirmed")
	}
}
