package main

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/gameday/gameday/runbook"
)

// answer is a Prometheus that answers every instant query with v.
type answer struct {
	v   model.Value
	err error
	q   string
}

func (a *answer) Query(_ context.Context, q string, _ time.Time, _ ...v1.Option) (model.Value, v1.Warnings, v1.Infos, error) {
	a.q = q
	return a.v, nil, nil, a.err
}

func (a *answer) QueryRange(context.Context, string, v1.Range, ...v1.Option) (model.Value, v1.Warnings, v1.Infos, error) {
	return nil, nil, nil, errors.New("not here")
}

func TestRemainingBudgetQuery(t *testing.T) {
	slo := &runbook.SLO{Objective: 0.999, Window: 720 * time.Hour, RemainingQuery: `slo:budget_remaining{service="checkout"}`}
	if f := remainingFor(&session{rb: &runbook.Runbook{SLO: &runbook.SLO{Objective: 0.999}}, query: &answer{}}); f != nil {
		t.Fatal("without remaining_query there is nothing to ask")
	}
	tests := []struct {
		v       model.Value
		err     error
		want    float64
		wantErr string
	}{
		{model.Vector{{Value: 0.42}}, nil, 0.42, ""},
		{&model.Scalar{Value: 0.7}, nil, 0.7, ""},
		{model.Vector{}, nil, 1, "slo.remaining_query: expected one series, got 0"},
		{model.Matrix{}, nil, 1, "slo.remaining_query: expected a number, got a matrix"},
		{nil, errors.New("connection refused"), 1, "slo.remaining_query: connection refused"},
	}
	for _, tc := range tests {
		a := &answer{v: tc.v, err: tc.err}
		got, err := remainingFor(&session{rb: &runbook.Runbook{SLO: slo}, query: a})(context.Background())
		if got != tc.want || (err == nil) != (tc.wantErr == "") || (err != nil && err.Error() != tc.wantErr) {
			t.Errorf("%v: %v, %v; want %v, %q", tc.v, got, err, tc.want, tc.wantErr)
		}
		if a.q != slo.RemainingQuery {
			t.Errorf("asked %q", a.q)
		}
	}
}

// A runbook that does not allow drills is refused as one, before anything
// starts.
func TestDrillRefusesARunbookThatIsNotADrill(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join("..", "..", "runbook", "testdata", "valid.yaml")
	cmd := newDrillCmd()
	err := runDrill(cmd, []string{path}, &drillFlags{serve: serveFlags{HostKey: filepath.Join(dir, "hk")}})
	if err == nil || !strings.Contains(err.Error(), "set drill: {allowed: true}") {
		t.Fatalf("got %v", err)
	}
	if err := runDrill(cmd, []string{path}, &drillFlags{random: true}); err == nil || !strings.Contains(err.Error(), "nothing to pick") {
		t.Fatalf("--random with FILE: %v", err)
	}
}

func TestSpinIsRepeatable(t *testing.T) {
	names := []string{"a", "b", "c", "d", "e"}
	seen := map[string]bool{}
	for seed := range uint64(50) {
		if spin(names, seed) != spin(names, seed) {
			t.Fatalf("seed %d picked two scenarios", seed)
		}
		seen[spin(names, seed)] = true
	}
	if len(seen) != len(names) {
		t.Errorf("fifty spins landed on %d of %d scenarios", len(seen), len(names))
	}
}

// Nobody can join a runbook without keys: serve says so before it makes a
// run directory.
func TestServeWithoutKeysMakesNoRun(t *testing.T) {
	dir := t.TempDir()
	runs := filepath.Join(dir, "runs")
	f := &runFlags{RunsDir: runs}
	cmd := newServeCmd()
	s, err := prepare(cmd, filepath.Join("..", "..", "runbook", "testdata", "valid.yaml"), f)
	if err != nil {
		t.Fatal(err)
	}
	defer s.w.close()
	err = serveSession(cmd, s, &serveFlags{Listen: "127.0.0.1:0", HostKey: filepath.Join(dir, "hk")}, strings.NewReader(""), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "no participant has a key") {
		t.Fatalf("got %v", err)
	}
	if entries, _ := os.ReadDir(runs); len(entries) != 0 {
		t.Fatalf("a run directory was made: %v", entries)
	}
}
