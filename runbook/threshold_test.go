package runbook

import (
	"errors"
	"math"
	"testing"
	"time"
)

// parseCases is shared with FuzzParseThreshold as its seed corpus. A case
// with msg set expects that error at col; otherwise it expects want.
var parseCases = []struct {
	in   string
	want Threshold
	col  int
	msg  string
}{
	// valid
	{in: "< 300ms", want: Threshold{Op: OpLT, Value: 0.3, Unit: UnitSeconds}},
	{in: "<300ms", want: Threshold{Op: OpLT, Value: 0.3, Unit: UnitSeconds}},
	{in: "  <  300 ms  ", want: Threshold{Op: OpLT, Value: 0.3, Unit: UnitSeconds}},
	{in: "<= 2s", want: Threshold{Op: OpLE, Value: 2, Unit: UnitSeconds}},
	{in: "< 5m", want: Threshold{Op: OpLT, Value: 300, Unit: UnitSeconds}},
	{in: "< 2h", want: Threshold{Op: OpLT, Value: 7200, Unit: UnitSeconds}},
	{in: "< 500us", want: Threshold{Op: OpLT, Value: 0.0005, Unit: UnitSeconds}},
	{in: "< 250µs", want: Threshold{Op: OpLT, Value: 0.00025, Unit: UnitSeconds}},
	{in: "> 10% for 15s", want: Threshold{Op: OpGT, Value: 0.1, Unit: UnitRatio, For: 15 * time.Second}},
	{in: ">10%for 15s", want: Threshold{Op: OpGT, Value: 0.1, Unit: UnitRatio, For: 15 * time.Second}},
	{in: "< 1%", want: Threshold{Op: OpLT, Value: 0.01, Unit: UnitRatio}},
	{in: "< 0.5%", want: Threshold{Op: OpLT, Value: 0.005, Unit: UnitRatio}},
	{in: "< 0.01", want: Threshold{Op: OpLT, Value: 0.01}},
	{in: "< .5", want: Threshold{Op: OpLT, Value: 0.5}},
	{in: ">= 42", want: Threshold{Op: OpGE, Value: 42}},
	{in: "<= -1", want: Threshold{Op: OpLE, Value: -1}},
	{in: "> 0 for 2m", want: Threshold{Op: OpGT, Value: 0, For: 2 * time.Minute}},
	{in: "> 180 for 30s", want: Threshold{Op: OpGT, Value: 180, For: 30 * time.Second}},
	{in: "> 10 for 15s", want: Threshold{Op: OpGT, Value: 10, For: 15 * time.Second}},
	{in: "> 2s for 30s", want: Threshold{Op: OpGT, Value: 2, Unit: UnitSeconds, For: 30 * time.Second}},
	{in: "> 3s for 1m30s", want: Threshold{Op: OpGT, Value: 3, Unit: UnitSeconds, For: 90 * time.Second}},
	{in: "> 5GiB", want: Threshold{Op: OpGT, Value: 5 << 30, Unit: UnitBytes}},
	{in: "> 5 GB", want: Threshold{Op: OpGT, Value: 5e9, Unit: UnitBytes}},
	{in: "< 256MiB for 20s", want: Threshold{Op: OpLT, Value: 256 << 20, Unit: UnitBytes, For: 20 * time.Second}},
	{in: "< 512B", want: Threshold{Op: OpLT, Value: 512, Unit: UnitBytes}},
	{in: "< 1.5KB", want: Threshold{Op: OpLT, Value: 1500, Unit: UnitBytes}},
	{in: "< 2KiB", want: Threshold{Op: OpLT, Value: 2048, Unit: UnitBytes}},
	{in: "< 1MB", want: Threshold{Op: OpLT, Value: 1e6, Unit: UnitBytes}},
	{in: "< baseline * 1.5", want: Threshold{Op: OpLT, Relation: BaselineFactor, Value: 1.5}},
	{in: "<baseline*2", want: Threshold{Op: OpLT, Relation: BaselineFactor, Value: 2}},
	{in: "> baseline * 2 for 20s", want: Threshold{Op: OpGT, Relation: BaselineFactor, Value: 2, For: 20 * time.Second}},
	{in: "> baseline * 0.9", want: Threshold{Op: OpGT, Relation: BaselineFactor, Value: 0.9}},
	{in: "< baseline + 100ms", want: Threshold{Op: OpLT, Relation: BaselineOffset, Value: 0.1, Unit: UnitSeconds}},
	{in: "< baseline+100ms for 20s", want: Threshold{Op: OpLT, Relation: BaselineOffset, Value: 0.1, Unit: UnitSeconds, For: 20 * time.Second}},
	{in: "> baseline - 0.5%", want: Threshold{Op: OpGT, Relation: BaselineOffset, Value: -0.005, Unit: UnitRatio}},
	{in: "< baseline + 5", want: Threshold{Op: OpLT, Relation: BaselineOffset, Value: 5}},

	// invalid
	{in: "", col: 1, msg: `empty threshold: expected an operator and a value such as "< 300ms"`},
	{in: "   ", col: 1, msg: `empty threshold: expected an operator and a value such as "< 300ms"`},
	{in: "<< 3", col: 2, msg: `expected a number or "baseline" after "<", found "<"`},
	{in: "<=", col: 3, msg: `expected a number or "baseline" after "<=", found end of text`},
	{in: "> 10 parsecs", col: 6, msg: `unknown unit "parsecs": expected ms, s, m, h, %, or a byte unit such as MiB`},
	{in: "< 5 sec", col: 5, msg: `unknown unit "sec": expected ms, s, m, h, %, or a byte unit such as MiB (did you mean "s"?)`},
	{in: "< 5MS", col: 4, msg: `unknown unit "MS": expected ms, s, m, h, %, or a byte unit such as MiB (did you mean "ms"?)`},
	{in: "< 1e3", col: 4, msg: `unknown unit "e": expected ms, s, m, h, %, or a byte unit such as MiB (write the number out: exponents are not supported)`},
	{in: "> 2s for -5s", col: 10, msg: `"for" needs a positive duration such as 15s, found "-5s"`},
	{in: "> 2s for 0s", col: 10, msg: `"for" needs a positive duration such as 15s, found "0s"`},
	{in: "> 2s for soon", col: 10, msg: `"for" needs a positive duration such as 15s, found "soon"`},
	{in: "> 2s for 15", col: 10, msg: `"for" needs a duration with a unit such as 15s, found "15"`},
	{in: "> 2s for", col: 9, msg: `"for" needs a positive duration such as 15s, found end of text`},
	{in: "> 2s for 1m 30s", col: 13, msg: `unexpected "30s" after the "for" duration; expected the end of the threshold (write a duration without spaces, e.g. 1m30s)`},
	{in: "< baseline * abc", col: 14, msg: `expected a number after "baseline *", found "abc"; e.g. baseline * 1.5`},
	{in: "< baseline * -1", col: 14, msg: `the factor after "baseline *" must be a positive number, found "-1"; e.g. baseline * 1.5`},
	{in: "< baseline * 0", col: 14, msg: `the factor after "baseline *" must be a positive number, found "0"; e.g. baseline * 1.5`},
	{in: "< baseline * 1.5s", col: 17, msg: `the factor after "baseline *" takes no unit, found "s"; e.g. baseline * 1.5, or baseline + 100ms for an offset`},
	{in: "< baseline", col: 11, msg: `expected "*", "+" or "-" after "baseline", found end of text; e.g. baseline * 1.5 or baseline + 100ms`},
	{in: "< baseline / 2", col: 12, msg: `expected "*", "+" or "-" after "baseline", found "/"; e.g. baseline * 1.5 or baseline + 100ms`},
	{in: "< baseline + -5ms", col: 14, msg: `expected a number after "baseline +", found "-5ms"; e.g. baseline + 100ms`},
	{in: "300ms", col: 1, msg: `expected an operator <, <=, > or >=, found "300ms"; write e.g. "< 300ms"`},
	{in: "=< 3", col: 1, msg: `expected an operator <, <=, > or >=, found "=<" (did you mean "<="?)`},
	{in: "≥ 3", col: 1, msg: `expected an operator <, <=, > or >=, found "≥" (did you mean ">="?)`},
	{in: "< 300ms xyz", col: 9, msg: `unexpected "xyz" after the value; expected "for" and a duration, or the end of the threshold`},
	{in: "> 2s forever", col: 6, msg: `unexpected "forever" after the value; expected "for" and a duration, or the end of the threshold`},
	{in: "< 1.", col: 4, msg: `unexpected "." after the value; expected "for" and a duration, or the end of the threshold`},
	{in: "< NaN", col: 3, msg: `expected a finite number after "<", found "NaN"`},
	{in: "> +Inf", col: 3, msg: `expected a finite number after ">", found "+Inf"`},
	{in: "< -infinity", col: 3, msg: `expected a finite number after "<", found "-infinity"`},
	{in: "< - 5", col: 3, msg: `expected a number or "baseline" after "<", found "-"`},
	{in: "< µ 5", col: 3, msg: `expected a number or "baseline" after "<", found "µ"`}, // columns count characters, not bytes
	{in: "<= 1µs x", col: 8, msg: `unexpected "x" after the value; expected "for" and a duration, or the end of the threshold`},
	{in: "< 1" + string(make([]byte, 310)) + "h", col: 4, msg: `unexpected "\x00" after the value; expected "for" and a duration, or the end of the threshold`},
	{in: "< 1" + zeros(308) + "h", col: 3, msg: `"1` + zeros(23) + `…" is too large`},
	{in: "< 1" + zeros(309), col: 3, msg: `"1` + zeros(23) + `…" is too large`},
}

func zeros(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = '0'
	}
	return string(b)
}

func TestParseThreshold(t *testing.T) {
	for _, tc := range parseCases {
		got, err := ParseThreshold(tc.in)
		if tc.msg != "" {
			var te *ThresholdError
			if !errors.As(err, &te) {
				t.Errorf("ParseThreshold(%q) = %+v, %v; want *ThresholdError", tc.in, got, err)
				continue
			}
			if te.Col != tc.col || te.Msg != tc.msg {
				t.Errorf("ParseThreshold(%q) error:\n got col %d: %s\nwant col %d: %s", tc.in, te.Col, te.Msg, tc.col, tc.msg)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseThreshold(%q): %v", tc.in, err)
			continue
		}
		want := tc.want
		want.Text = tc.in
		if got != want {
			t.Errorf("ParseThreshold(%q)\n got %+v\nwant %+v", tc.in, got, want)
		}
	}
}

func TestThresholdErrorString(t *testing.T) {
	_, err := ParseThreshold("<< 3")
	if got, want := err.Error(), `column 2: expected a number or "baseline" after "<", found "<"`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestThresholdString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"<300ms", "< 300ms"},
		{"< 0.3s", "< 300ms"},
		{"< 1.5s", "< 1.5s"},
		{"< 90s", "< 90s"},
		{"< 300s", "< 5m"},
		{"< 5400s", "< 90m"},
		{"< 7200s", "< 2h"},
		{"< 250µs", "< 250us"},
		{"< 0.07", "< 0.07"},
		{"< 7%", "< 7%"},
		{"> 5 GiB", "> 5GiB"},
		{"> 5000MB", "> 5GB"},
		{"> 1024B", "> 1KiB"},
		{"> 1.5GiB", "> 1.5GiB"},
		{"> 42444424B", "> 42444424B"},
		{"< 1234.5678ms", "< 1.2345678s"},
		{"< 0.1234567ms", "< 0.0001234567s"},
		{"< 12.3456789%", "< 12.3456789%"},
		{"<= -1", "<= -1"},
		{"<baseline*1.5 for 90s", "< baseline * 1.5 for 1m30s"},
		{"< baseline-0.5%", "< baseline - 0.5%"},
		{"> 2s for 1h0m0s", "> 2s for 1h"},
	} {
		th, err := ParseThreshold(tc.in)
		if err != nil {
			t.Errorf("ParseThreshold(%q): %v", tc.in, err)
			continue
		}
		if got := th.String(); got != tc.want {
			t.Errorf("ParseThreshold(%q).String() = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func mustParse(t *testing.T, text string) Threshold {
	t.Helper()
	th, err := ParseThreshold(text)
	if err != nil {
		t.Fatalf("ParseThreshold(%q): %v", text, err)
	}
	return th
}

func TestLimitAndMet(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	for _, tc := range []struct {
		th          string
		v, baseline float64
		limit       float64
		met         bool
	}{
		{"< 300ms", 0.299, nan, 0.3, true},
		{"< 300ms", 0.3, nan, 0.3, false},
		{"<= 300ms", 0.3, nan, 0.3, true},
		{"> 10%", 0.1, 0, 0.1, false},
		{"> 10%", 0.11, 0, 0.1, true},
		{">= 42", 42, 0, 42, true},
		{"< baseline * 1.5", 0.44, 0.3, 0.45, true},
		{"< baseline * 1.5", 0.46, 0.3, 0.45, false},
		{"< baseline + 100ms", 0.39, 0.3, 0.4, true},
		{"> baseline - 50%", 0.6, 1, 0.5, true},
		// Missing data is never met, whichever way the comparison points.
		{"< 300ms", nan, 0, 0.3, false},
		{"> 300ms", nan, 0, 0.3, false},
		{"< 300ms", inf, 0, 0.3, false},
		{"> 300ms", inf, 0, 0.3, false},
		{"< 300ms", -inf, 0, 0.3, false},
		{"< baseline * 1.5", 0.1, nan, nan, false},
		{"> baseline + 1", 5, nan, nan, false},
		{"< baseline * 2", 1e300, inf, inf, true},
	} {
		th := mustParse(t, tc.th)
		if got := th.Limit(tc.baseline); !(got == tc.limit || math.IsNaN(got) && math.IsNaN(tc.limit)) && math.Abs(got-tc.limit) > 1e-12 {
			t.Errorf("%q.Limit(%v) = %v, want %v", tc.th, tc.baseline, got, tc.limit)
		}
		if got := th.Met(tc.v, tc.baseline); got != tc.met {
			t.Errorf("%q.Met(%v, baseline %v) = %v, want %v", tc.th, tc.v, tc.baseline, got, tc.met)
		}
	}
	if (Threshold{}).Met(1, 0) {
		t.Error("a zero Threshold has no operator and must not be met")
	}
}

func TestRelative(t *testing.T) {
	for in, want := range map[string]bool{"< 300ms": false, "< baseline * 1.5": true, "< baseline + 1": true, "> baseline - 1%": true} {
		if got := mustParse(t, in).Relative(); got != want {
			t.Errorf("%q.Relative() = %v, want %v", in, got, want)
		}
	}
}

func TestCompatible(t *testing.T) {
	for _, tc := range []struct {
		th   string
		u    Unit
		want string // "" for compatible
	}{
		{"< 300ms", UnitSeconds, ""},
		{"< 0.3", UnitSeconds, ""},
		{"< 0.3", UnitRatio, ""},
		{"< 0.3", UnitNone, ""},
		{"< 1%", UnitRatio, ""},
		{"> 5GiB", UnitBytes, ""},
		{"< baseline * 1.5", UnitRatio, ""},
		{"< baseline * 1.5", UnitNone, ""},
		{"< baseline + 100ms", UnitSeconds, ""},
		{"< 300ms", UnitRatio, `"300ms" is a duration, but this panel measures a ratio: write a percentage such as 1% or a plain ratio such as 0.01`},
		{"<300 ms for 2m", UnitRatio, `"300 ms" is a duration, but this panel measures a ratio: write a percentage such as 1% or a plain ratio such as 0.01`},
		{"< 1%", UnitSeconds, `"1%" is a percentage, but this panel measures seconds: write ms, s, m or h, or a plain number of seconds`},
		{"> 5GiB", UnitNone, `"5GiB" is a size in bytes, but this panel has no unit: write a plain number, or declare the panel's unit`},
		{"< 2s", UnitBytes, `"2s" is a duration, but this panel measures bytes: write B, KB, MB, GB, KiB, MiB or GiB, or a plain number of bytes`},
		{"> baseline - 100ms", UnitRatio, `"100ms" is a duration, but this panel measures a ratio: write a percentage such as 1% or a plain ratio such as 0.01`},
		{"< -5ms", UnitBytes, `"5ms" is a duration, but this panel measures bytes: write B, KB, MB, GB, KiB, MiB or GiB, or a plain number of bytes`},
	} {
		err := mustParse(t, tc.th).Compatible(tc.u)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("%q.Compatible(%q):\n got %q\nwant %q", tc.th, tc.u, got, tc.want)
		}
	}
	// A Threshold built in code has no Text to quote: the canonical form stands in.
	th := Threshold{Op: OpLT, Value: 0.3, Unit: UnitSeconds}
	if err := th.Compatible(UnitRatio); err == nil || err.Error()[:8] != `"300ms" ` {
		t.Errorf("Compatible without Text = %v, want it to quote \"300ms\"", err)
	}
}

func TestFormatValue(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		u    Unit
		want string
	}{
		{math.NaN(), UnitSeconds, "no data"},
		{math.Inf(1), UnitRatio, "+Inf"},
		{math.Inf(-1), UnitNone, "-Inf"},
		{0, UnitSeconds, "0s"},
		{0.00000042, UnitSeconds, "420ns"},
		{0.00085, UnitSeconds, "850µs"},
		{0.312, UnitSeconds, "312ms"},
		{0.0312, UnitSeconds, "31.2ms"},
		{0.9996, UnitSeconds, "1s"},
		{1.25, UnitSeconds, "1.25s"},
		{59.97, UnitSeconds, "1m"},
		{125, UnitSeconds, "2m5s"},
		{3600, UnitSeconds, "1h"},
		{5400, UnitSeconds, "1h30m"},
		{-0.5, UnitSeconds, "-500ms"},
		{0, UnitRatio, "0%"},
		{0.025, UnitRatio, "2.5%"},
		{0.0004, UnitRatio, "0.04%"},
		{0.07, UnitRatio, "7%"},
		{0.12345, UnitRatio, "12.35%"},
		{0.9995, UnitRatio, "99.95%"},
		{1, UnitRatio, "100%"},
		{512, UnitBytes, "512 B"},
		{1536, UnitBytes, "1.5 KiB"},
		{1.5 * (1 << 30), UnitBytes, "1.5 GiB"},
		{5e9, UnitBytes, "4.66 GiB"},
		{12.34, UnitNone, "12.3"},
		{1234.6, UnitNone, "1235"},
		{0.000123, UnitNone, "0.000123"},
		{42, UnitNone, "42"},
		{1e20, UnitNone, "1e+20"},
	} {
		if got := FormatValue(tc.v, tc.u); got != tc.want {
			t.Errorf("FormatValue(%v, %q) = %q, want %q", tc.v, tc.u, got, tc.want)
		}
	}
}

func TestDescribe(t *testing.T) {
	for _, tc := range []struct {
		th       string
		u        Unit
		baseline float64
		want     string
	}{
		{"< baseline * 1.5", UnitSeconds, 0.3, "< 450ms (baseline 300ms × 1.5)"},
		{"> baseline * 2 for 20s", UnitNone, 120, "> 240 for 20s (baseline 120 × 2)"},
		{"< baseline + 100ms", UnitSeconds, 0.3, "< 400ms (baseline 300ms + 100ms)"},
		{"> baseline - 0.5%", UnitRatio, 0.02, "> 1.5% (baseline 2% - 0.5%)"},
		{"< baseline * 1.5", UnitSeconds, math.NaN(), "< baseline × 1.5 (no baseline yet)"},
		{"> 10% for 15s", UnitRatio, math.NaN(), "> 10% for 15s"},
		{"< 0.01", UnitRatio, 0, "< 1%"},
		{"< 0.3", UnitSeconds, 0, "< 300ms"},
		{"> 5GiB", UnitBytes, 0, "> 5 GiB"},
		{">= 42", UnitNone, 0, ">= 42"},
	} {
		if got := mustParse(t, tc.th).Describe(tc.u, tc.baseline); got != tc.want {
			t.Errorf("%q.Describe(%q, %v) = %q, want %q", tc.th, tc.u, tc.baseline, got, tc.want)
		}
	}
}
