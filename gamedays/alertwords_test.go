package gamedays

import (
	"testing"
	"time"

	"github.com/gameday/gameday/runbook"
)

// A miss names when the panel the rule watches crossed the rule's
// threshold, so the team sees the gap between cause and alert.
func TestMonitoringGapWords(t *testing.T) {
	from := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	x := runbook.ExpectedAlert{Name: "HighErrorRate", FiresWithin: 2 * time.Minute}
	base := AlertResult{From: from, Watched: "the error rate", Past: "above its threshold (0.05)"}
	for _, c := range []struct {
		name string
		r    func(AlertResult) AlertResult
		want string
	}{
		{"crossed, never fired", func(r AlertResult) AlertResult { r.Crossed = from.Add(35 * time.Second); return r },
			"monitoring gap: HighErrorRate did not fire within 2m; the error rate was above its threshold (0.05) from T+0:35"},
		{"fired late", func(r AlertResult) AlertResult {
			r.Crossed, r.Firing = from.Add(95*time.Second), from.Add(150*time.Second)
			return r
		}, "monitoring gap: HighErrorRate did not fire within 2m; it fired after 2m30s; the error rate was above its threshold (0.05) from T+1:35"},
		{"never crossed", func(r AlertResult) AlertResult { return r },
			"monitoring gap: HighErrorRate did not fire within 2m; the error rate was never above its threshold (0.05)"},
		{"no panel is the rule's", func(r AlertResult) AlertResult { r.Watched = ""; return r },
			"monitoring gap: HighErrorRate did not fire within 2m"},
	} {
		held, text := judgeExpected(x, c.r(base))
		if held || text != c.want {
			t.Errorf("%s: held %v\n got %s\nwant %s", c.name, held, text, c.want)
		}
	}
}
