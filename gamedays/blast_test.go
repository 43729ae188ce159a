package gamedays

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

func members(n int) []targets.Member {
	out := make([]targets.Member, n)
	for i := range out {
		out[i] = targets.Member{Target: "web", ID: fmt.Sprintf("web-%d", i+1)}
	}
	return out
}

func TestSelect(t *testing.T) {
	tests := []struct {
		name    string
		n       int
		br      runbook.BlastRadius
		want    int
		wantErr string
	}{
		{"count", 3, runbook.BlastRadius{Count: 1}, 1, ""},
		{"count all", 3, runbook.BlastRadius{Count: 3}, 3, ""},
		{"count too many", 3, runbook.BlastRadius{Count: 4}, 0, "count 4 exceeds the 3 member(s)"},
		{"percent rounds up", 3, runbook.BlastRadius{Percent: 34}, 2, ""},
		{"percent small", 200, runbook.BlastRadius{Percent: 10}, 20, ""},
		{"percent tiny still one", 5, runbook.BlastRadius{Percent: 1}, 1, ""},
		{"all", 7, runbook.BlastRadius{All: true}, 7, ""},
		{"all capped", 7, runbook.BlastRadius{All: true, Max: 2}, 2, ""},
		{"percent capped", 100, runbook.BlastRadius{Percent: 50, Max: 10}, 10, ""},
		{"no members", 0, runbook.BlastRadius{All: true}, 0, "resolved to no members"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Select(members(tt.n), tt.br, 42)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.want {
				t.Fatalf("selected %d, want %d", len(got), tt.want)
			}
			seen := map[string]bool{}
			for _, m := range got {
				if seen[m.ID] {
					t.Errorf("%s selected twice", m.ID)
				}
				seen[m.ID] = true
			}
		})
	}
}

func TestSelectIsRepeatableAndSeedMatters(t *testing.T) {
	ms := members(50)
	br := runbook.BlastRadius{Count: 5}
	a, _ := Select(ms, br, 7)
	b, _ := Select(ms, br, 7)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("same seed, different selection: %v vs %v", a, b)
	}
	differs := false
	for seed := int64(8); seed < 20 && !differs; seed++ {
		c, _ := Select(ms, br, seed)
		differs = !reflect.DeepEqual(a, c)
	}
	if !differs {
		t.Error("twelve other seeds all chose the same members; the seed is not used")
	}
	// Selection keeps resolved order, so the blast radius reads naturally.
	for i := 1; i < len(a); i++ {
		if a[i-1].ID >= a[i].ID && len(a[i-1].ID) == len(a[i].ID) {
			t.Errorf("not in resolved order: %v", a)
		}
	}
}
