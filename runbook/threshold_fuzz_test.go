package runbook

import (
	"errors"
	"math"
	"testing"
	"unicode/utf8"
)

// FuzzParseThreshold: the parser never panics; every failure is a
// *ThresholdError pointing inside the text (or just past it); and every
// success prints, via String, as text that parses back to the same threshold.
func FuzzParseThreshold(f *testing.F) {
	for _, tc := range parseCases {
		f.Add(tc.in)
	}
	// The edges of float64, where scaling by a unit rounds or overflows.
	huge := "17976931348623157" + zeros(292)
	for _, unit := range []string{"", "%", "us", "h", "B", "TB", "TiB"} {
		f.Add("< 0." + zeros(320) + "5" + unit)
		f.Add("> " + huge + unit)
		f.Add("< baseline - " + huge + unit + " for 1ns")
	}
	f.Add("< 49935920412842096" + zeros(288) + "h") // just under the largest float64 in seconds
	f.Add("< 16349676120973" + zeros(282) + "TiB")
	f.Add("<." + zeros(304) + "1TiB") // once printed with too few digits
	f.Add("<42444424B")               // once printed differently each time
	f.Fuzz(func(t *testing.T, text string) {
		th, err := ParseThreshold(text)
		if err != nil {
			var te *ThresholdError
			if !errors.As(err, &te) {
				t.Fatalf("ParseThreshold(%q) error %T %v, want *ThresholdError", text, err, err)
			}
			if te.Col < 1 || te.Col > utf8.RuneCountInString(text)+1 || te.Msg == "" {
				t.Fatalf("ParseThreshold(%q) = column %d, %q: outside the text or empty", text, te.Col, te.Msg)
			}
			return
		}
		if math.IsNaN(th.Value) || math.IsInf(th.Value, 0) {
			t.Fatalf("ParseThreshold(%q) value %v, want finite", text, th.Value)
		}
		canon := th.String()
		back, err := ParseThreshold(canon)
		if err != nil {
			t.Fatalf("ParseThreshold(%q).String() = %q, which does not parse: %v", text, canon, err)
		}
		if back.Op != th.Op || back.Relation != th.Relation || back.Unit != th.Unit || back.For != th.For || !sameValue(back.Value, th.Value) {
			t.Fatalf("round trip of %q through %q:\n got %+v\nwant %+v", text, canon, back, th)
		}
		if again := back.String(); again != canon {
			t.Fatalf("String is not stable: %q, then %q", canon, again)
		}
		for _, u := range []Unit{UnitNone, UnitSeconds, UnitRatio, UnitBytes} {
			_ = th.Describe(u, 0.25) // must not panic
			_ = th.Compatible(u)
		}
	})
}

// sameValue is equality within 1e-9 relative, subnormals included.
func sameValue(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
}
