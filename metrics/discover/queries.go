package discover

import "fmt"

// RateWindow is the range of every rate() discovery writes: a minute holds
// several scrapes at common intervals (15s, 30s) and still moves within
// seconds of a fault.
const RateWindow = "1m"

// LatencyQuery is the P95 latency of c's histogram in c's group.
func LatencyQuery(c Candidate) string {
	if c.Native {
		return fmt.Sprintf("histogram_quantile(0.95, sum(rate(%s{%s}[%s])))", c.Metric, c.Where(), RateWindow)
	}
	return fmt.Sprintf("histogram_quantile(0.95, sum by (le) (rate(%s_bucket{%s}[%s])))", c.Metric, c.Where(), RateWindow)
}

// ErrorQuery is the share of c's requests answered with a 5xx. The
// numerator falls back to 0: with no 5xx yet there is no 5xx series, and
// without the fallback the whole ratio would return nothing, so a healthy
// service would look as if it could not be seen.
func ErrorQuery(c Candidate) string {
	return fmt.Sprintf(`(sum(rate(%s{%s,%s=~"5.."}[%s])) or vector(0)) / sum(rate(%s{%s}[%s]))`,
		c.Metric, c.Where(), c.StatusLabel, RateWindow, c.Metric, c.Where(), RateWindow)
}

// RecentQuery is the 95th percentile of q's values over the last Window,
// sampled every 15s: what q typically reaches at its high, not its spikes.
func RecentQuery(q string) string {
	return fmt.Sprintf("quantile_over_time(0.95, (%s)[%s:15s])", q, "15m")
}
