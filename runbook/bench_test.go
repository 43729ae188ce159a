package runbook_test

import (
	"bytes"
	"fmt"
	"os"
	"testing"

	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

// bigRunbook writes a valid runbook of about n lines: many panels, targets
// with many hosts in block style, and many attacks.
func bigRunbook(n int) []byte {
	var b bytes.Buffer
	b.WriteString("version: 1\nname: large fleet\nmetrics:\n  url: http://127.0.0.1:9090\n  panels:\n")
	for i := 0; i < 20; i++ {
		fmt.Fprintf(&b, "    p%d:\n      query: 'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{job=\"svc%d\"}[1m])))'\n      unit: seconds\n", i, i)
	}
	b.WriteString("baseline:\n  duration: 2m\n  steady_state:\n    p0: \"< 300ms\"\nhypothesis:\n  statement: the fleet shrugs it off\n  expect:\n    p0: \"< baseline * 1.5\"\nguardrails:\n  p0: \"> 2s for 30s\"\n  metrics_blind: 60s\ntargets:\n")
	targetsN := 0
	for b.Len() < 0 || bytes.Count(b.Bytes(), []byte("\n")) < n*7/10 {
		fmt.Fprintf(&b, "  t%d:\n    ssh:\n      user: gameday\n      sudo: true\n      hosts:\n", targetsN)
		for h := 0; h < 20; h++ {
			fmt.Fprintf(&b, "        - host-%d-%d.internal\n", targetsN, h)
		}
		targetsN++
	}
	b.WriteString("blast_radius:\n")
	for i := 0; i < targetsN; i++ {
		fmt.Fprintf(&b, "  t%d: {percent: 10, seed: %d}\n", i, i)
	}
	b.WriteString("attacks:\n")
	for i := 0; bytes.Count(b.Bytes(), []byte("\n")) < n; i++ {
		fmt.Fprintf(&b, "  - name: latency %d\n    target: t%d\n    kind: network-latency\n    params:\n      interface: eth0\n      delay: 200ms\n    duration: 5m\n", i, i%targetsN)
	}
	return b.Bytes()
}

func TestBigRunbookIsValid(t *testing.T) {
	src := bigRunbook(5000)
	if lines := bytes.Count(src, []byte("\n")); lines < 5000 {
		t.Fatalf("generated %d lines, want at least 5000", lines)
	}
	rb, err := runbook.Parse("big.yaml", src, targets.Default())
	if err != nil {
		t.Fatalf("generated runbook invalid:\n%v", err)
	}
	if len(rb.Targets) < 100 || len(rb.Attacks) < 100 {
		t.Errorf("got %d targets, %d attacks; the benchmark should exercise many of each", len(rb.Targets), len(rb.Attacks))
	}
}

// BenchmarkValidate5000Lines is the cost of `gameday validate` on a 5,000-line
// runbook, less process start: read, parse and validate against the catalogue.
func BenchmarkValidate5000Lines(b *testing.B) {
	path := b.TempDir() + "/big.yaml"
	if err := os.WriteFile(path, bigRunbook(5000), 0o644); err != nil {
		b.Fatal(err)
	}
	cat := targets.Default()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := runbook.Load(path, cat); err != nil {
			b.Fatal(err)
		}
	}
}
