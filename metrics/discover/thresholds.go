package discover

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Thresholds are a panel's proposed steady state and guardrail, with the
// numbers they came from, so that a person can judge them.
type Thresholds struct {
	Steady string // e.g. "< 120ms"
	Guard  string // e.g. "> 240ms for 30s"
	Why    string // one sentence for a comment in the runbook
}

// Rules of thumb for thresholds from data, stated in every runbook they
// write. A P95 may wander by half its value on a quiet day; an abort
// should come only when it has clearly left that band.
const (
	latencySteadyFactor = 1.5
	latencyGuardFactor  = 3
	errorSteadyFactor   = 3
	errorSteadyFloor    = 0.01
	errorGuardFactor    = 10
	errorGuardFloor     = 0.05
	guardFor            = "30s"
)

// base is what thresholds start from: the recent high, else the value now.
func base(c Candidate) (v float64, from string, ok bool) {
	switch {
	case !math.IsNaN(c.Recent):
		return c.Recent, "its 95th percentile over the last 15 minutes", true
	case !math.IsNaN(c.Now):
		return c.Now, "its value now", true
	}
	return 0, "", false
}

// LatencyThresholds derives P95 thresholds from c's recent values.
func LatencyThresholds(c Candidate) Thresholds {
	v, from, ok := base(c)
	if !ok || v <= 0 {
		return Thresholds{Steady: "< 500ms", Guard: "> 2s for " + guardFor,
			Why: "the query had no value in the last 15 minutes, so these are guesses: set them from what the service does on a normal day"}
	}
	return Thresholds{
		Steady: "< " + Seconds(v*latencySteadyFactor),
		Guard:  "> " + Seconds(v*latencyGuardFactor) + " for " + guardFor,
		Why: fmt.Sprintf("P95 was %s at %s (%s); steady state is %gx that, the guardrail %gx",
			Seconds(v), c.Where(), from, latencySteadyFactor, float64(latencyGuardFactor)),
	}
}

// ErrorThresholds derives error-ratio thresholds from c's recent values.
func ErrorThresholds(c Candidate) Thresholds {
	v, from, ok := base(c)
	if !ok {
		v, from = 0, "no value in the last 15 minutes (no traffic?)"
	}
	return Thresholds{
		Steady: "< " + Percent(max(errorSteadyFloor, v*errorSteadyFactor)),
		Guard:  "> " + Percent(max(errorGuardFloor, v*errorGuardFactor)) + " for " + guardFor,
		Why: fmt.Sprintf("errors were %s at %s (%s); steady state is max(%s, %dx that), the guardrail max(%s, %dx)",
			Percent(v), c.Where(), from, Percent(errorSteadyFloor), errorSteadyFactor, Percent(errorGuardFloor), errorGuardFactor),
	}
}

// Seconds writes a latency for the threshold grammar, rounded up to two
// significant digits: 0.1103 is "120ms", 1.52 is "1.6s".
func Seconds(s float64) string {
	if s < 1 {
		return sig(max(s*1000, 1)) + "ms"
	}
	return sig(s) + "s"
}

// Percent writes a 0..1 ratio as a percentage rounded up to two
// significant digits: 0.0234 is "2.4%".
func Percent(r float64) string {
	if r <= 0 {
		return "0%"
	}
	return sig(r*100) + "%"
}

// sig rounds x > 0 up to two significant digits and writes it without an
// exponent or float noise.
func sig(x float64) string {
	if x <= 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return "0"
	}
	e := int(math.Floor(math.Log10(x))) - 1
	n := int64(math.Ceil(x/math.Pow10(e) - 1e-9))
	if n >= 100 { // 99.99 rounded up to 100
		n /= 10
		e++
	}
	digits := strconv.FormatInt(n, 10)
	if e >= 0 {
		return digits + strings.Repeat("0", e)
	}
	if -e >= len(digits) {
		digits = strings.Repeat("0", -e-len(digits)+1) + digits
	}
	point := len(digits) + e
	out := strings.TrimRight(digits[:point]+"."+digits[point:], "0")
	return strings.TrimSuffix(out, ".")
}
