package runbook

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Unit is what a panel's numbers measure. Threshold values are held in the
// unit's base: seconds for latency, a 0..1 ratio for error rates.
type Unit string

// Units a panel can declare.
const (
	UnitNone    Unit = ""        // a plain number (requests/s, orders/min)
	UnitSeconds Unit = "seconds" // thresholds accept us, ms, s, m, h
	UnitRatio   Unit = "ratio"   // thresholds accept % or a plain 0..1 ratio
	UnitBytes   Unit = "bytes"   // thresholds accept B, KiB, MiB, GiB, TiB, KB, MB, GB, TB
)

// Op compares a measured value with a limit.
type Op string

// Comparison operators of the threshold grammar.
const (
	OpLT Op = "<"
	OpLE Op = "<="
	OpGT Op = ">"
	OpGE Op = ">="
)

// Relation says how a threshold's limit depends on the baseline.
type Relation int

// Relations of a threshold to the baseline.
const (
	Absolute       Relation = iota // < 300ms
	BaselineFactor                 // < baseline * 1.5
	BaselineOffset                 // < baseline + 100ms
)

// Threshold is one parsed condition, e.g. "> 10% for 15s". It reads as the
// condition that must hold (steady state, expectation) or, for guardrails,
// the condition that trips.
type Threshold struct {
	Text     string
	Op       Op
	Relation Relation
	Value    float64 // the limit for Absolute, the factor or offset otherwise, in base units
	Unit     Unit    // the unit the written value implies; UnitNone for plain numbers
	For      time.Duration
}

// ThresholdError is a threshold syntax error at a 1-based column of the text.
type ThresholdError struct {
	Col int
	Msg string
}

func (e *ThresholdError) Error() string { return fmt.Sprintf("column %d: %s", e.Col, e.Msg) }

// unitSpec is one unit a threshold value may be written in. A written number
// x becomes x*mul/div in base units: dividing by an exact integer keeps
// "300ms" equal to the literal 0.3, which multiplying by 0.001 would not.
type unitSpec struct {
	name     string
	unit     Unit
	mul, div float64
	// whole: String writes a value in this unit only when it is a whole
	// number of it, so 90s stays 90s rather than 1.5m, and 5GB means 5e9.
	whole bool
}

// unitSpecs is ordered largest first within each Unit: String takes the first
// that fits, and a decimal byte unit comes before the binary one of similar
// size so that a value written as 5GB prints as 5GB.
var unitSpecs = []unitSpec{
	{"h", UnitSeconds, 3600, 1, true},
	{"m", UnitSeconds, 60, 1, true},
	{"s", UnitSeconds, 1, 1, false},
	{"ms", UnitSeconds, 1, 1e3, false},
	{"us", UnitSeconds, 1, 1e6, false},
	{"%", UnitRatio, 1, 100, false},
	{"TB", UnitBytes, 1e12, 1, true},
	{"TiB", UnitBytes, 1 << 40, 1, false},
	{"GB", UnitBytes, 1e9, 1, true},
	{"GiB", UnitBytes, 1 << 30, 1, false},
	{"MB", UnitBytes, 1e6, 1, true},
	{"MiB", UnitBytes, 1 << 20, 1, false},
	{"KB", UnitBytes, 1e3, 1, true},
	{"KiB", UnitBytes, 1 << 10, 1, false},
	{"B", UnitBytes, 1, 1, false},
}

func lookupUnit(name string) (unitSpec, bool) {
	if name == "µs" || name == "μs" { // micro sign and Greek mu look alike
		name = "us"
	}
	for _, s := range unitSpecs {
		if s.name == name {
			return s, true
		}
	}
	return unitSpec{}, false
}

// unitHint suggests the unit someone most likely meant.
func unitHint(name string) string {
	switch strings.ToLower(name) {
	case "sec", "secs", "second", "seconds":
		return "s"
	case "min", "mins", "minute", "minutes":
		return "m"
	case "hr", "hrs", "hour", "hours":
		return "h"
	case "msec", "msecs", "millis", "milliseconds":
		return "ms"
	case "pct", "percent":
		return "%"
	}
	// Case slips only for longer names: "M" might mean mega, not minutes.
	if utf8.RuneCountInString(name) > 1 {
		for _, s := range unitSpecs {
			if strings.EqualFold(s.name, name) {
				return s.name
			}
		}
	}
	return ""
}

// ParseThreshold parses a threshold such as "< 300ms", "> 10% for 15s" or
// "< baseline * 1.5". Errors are *ThresholdError, whose column lets the
// runbook loader point at the offending character inside the YAML value.
func ParseThreshold(text string) (Threshold, error) {
	p := &parser{s: text}
	t, err := p.threshold()
	if err != nil {
		return Threshold{}, err
	}
	t.Text = text
	return t, nil
}

type parser struct {
	s string
	i int
	// amount is the byte span of the written number and unit, so that
	// Compatible can quote what the author wrote.
	amountStart, amountEnd int
}

func (p *parser) threshold() (Threshold, error) {
	var t Threshold
	p.skipSpace()
	if p.eof() {
		return t, p.errorf(0, `empty threshold: expected an operator and a value such as "< 300ms"`)
	}
	at := p.i
	switch {
	case p.eat("<="):
		t.Op = OpLE
	case p.eat(">="):
		t.Op = OpGE
	case p.eat("<"):
		t.Op = OpLT
	case p.eat(">"):
		t.Op = OpGT
	default:
		return t, p.errorf(at, `expected an operator <, <=, > or >=, found %s`, p.opFound(at))
	}
	p.skipSpace()
	var err error
	if p.eatWord("baseline") {
		err = p.relative(&t)
	} else {
		err = p.absolute(&t)
	}
	if err != nil {
		return t, err
	}
	p.skipSpace()
	if p.eof() {
		return t, nil
	}
	at = p.i
	if !p.eatWord("for") {
		return t, p.errorf(at, `unexpected %s after the value; expected "for" and a duration, or the end of the threshold`, p.found(at))
	}
	p.skipSpace()
	at = p.i
	tok := p.s[at:]
	if n := strings.IndexFunc(tok, unicode.IsSpace); n >= 0 {
		tok = tok[:n]
	}
	p.i += len(tok)
	d, perr := time.ParseDuration(tok)
	switch {
	case tok == "":
		return t, p.errorf(at, `"for" needs a positive duration such as 15s, found end of text`)
	case perr != nil && strings.Trim(tok, "0123456789.") == "":
		return t, p.errorf(at, `"for" needs a duration with a unit such as 15s, found %s`, quote(tok))
	case perr != nil || d <= 0:
		return t, p.errorf(at, `"for" needs a positive duration such as 15s, found %s`, quote(tok))
	}
	t.For = d
	p.skipSpace()
	if !p.eof() {
		hint := ""
		if c := p.s[p.i]; c >= '0' && c <= '9' {
			hint = " (write a duration without spaces, e.g. 1m30s)"
		}
		return t, p.errorf(p.i, `unexpected %s after the "for" duration; expected the end of the threshold%s`, p.found(p.i), hint)
	}
	return t, nil
}

// opFound names what stands where the operator should, with a hint for the
// operators people bring from other languages.
func (p *parser) opFound(at int) string {
	for _, h := range [][2]string{{"=<", "<="}, {"=>", ">="}, {"≤", "<="}, {"≥", ">="}} {
		if strings.HasPrefix(p.s[at:], h[0]) {
			return fmt.Sprintf("%q (did you mean %q?)", h[0], h[1])
		}
	}
	return p.found(at) + `; write e.g. "< 300ms"`
}

func (p *parser) absolute(t *Threshold) error {
	at := p.i
	neg := p.peek() == '-'
	if neg {
		p.i++
	}
	if p.peekNumber() == "" {
		p.i = at
		what := "a number or \"baseline\""
		switch strings.ToLower(strings.TrimLeft(p.token(at), "+-")) {
		case "nan", "inf", "infinity":
			what = "a finite number"
		}
		return p.errorf(at, `expected %s after %q, found %s`, what, t.Op, p.found(at))
	}
	v, u, err := p.amount(at)
	if err != nil {
		return err
	}
	if neg {
		v = -v
	}
	t.Relation, t.Value, t.Unit = Absolute, v, u
	return nil
}

func (p *parser) relative(t *Threshold) error {
	p.skipSpace()
	at := p.i
	switch {
	case p.eat("*"):
		p.skipSpace()
		at = p.i
		if p.peekNumber() == "" {
			if c := p.peek(); c == '-' || c == '+' {
				return p.errorf(at, `the factor after "baseline *" must be a positive number, found %s; e.g. baseline * 1.5`, p.found(at))
			}
			return p.errorf(at, `expected a number after "baseline *", found %s; e.g. baseline * 1.5`, p.found(at))
		}
		v, err := p.number()
		if err != nil {
			return err
		}
		uat := p.i
		if name, _ := p.unitName(); name != "" {
			return p.errorf(uat, `the factor after "baseline *" takes no unit, found %s; e.g. baseline * 1.5, or baseline + 100ms for an offset`, quote(name))
		}
		if v == 0 {
			return p.errorf(at, `the factor after "baseline *" must be a positive number, found %s; e.g. baseline * 1.5`, quote(p.s[at:p.i]))
		}
		t.Relation, t.Value, t.Unit = BaselineFactor, v, UnitNone
		return nil
	case p.eat("+"), p.eat("-"):
		sign := p.s[at : at+1]
		p.skipSpace()
		at = p.i
		if p.peekNumber() == "" {
			return p.errorf(at, `expected a number after "baseline %s", found %s; e.g. baseline %s 100ms`, sign, p.found(at), sign)
		}
		v, u, err := p.amount(at)
		if err != nil {
			return err
		}
		if sign == "-" {
			v = -v
		}
		t.Relation, t.Value, t.Unit = BaselineOffset, v, u
		return nil
	}
	return p.errorf(at, `expected "*", "+" or "-" after "baseline", found %s; e.g. baseline * 1.5 or baseline + 100ms`, p.found(at))
}

// amount reads a number and an optional unit, returning the value in base
// units. start is where the written amount began (a sign included).
func (p *parser) amount(start int) (float64, Unit, error) {
	v, err := p.number()
	if err != nil {
		return 0, UnitNone, err
	}
	u := UnitNone
	name, at := p.unitName()
	if name != "" {
		spec, ok := lookupUnit(name)
		if !ok {
			msg := fmt.Sprintf("unknown unit %s: expected ms, s, m, h, %%, or a byte unit such as MiB", quote(name))
			if h := unitHint(name); h != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", h)
			}
			if (name == "e" || name == "E") && p.peekNumber() != "" {
				msg += " (write the number out: exponents are not supported)"
			}
			return 0, UnitNone, p.errorf(at, "%s", msg)
		}
		v, u = v*spec.mul/spec.div, spec.unit
		if math.IsInf(v, 0) {
			return 0, UnitNone, p.errorf(start, "%s is too large", quote(p.s[start:p.i]))
		}
	}
	p.amountStart, p.amountEnd = start, p.i
	return v, u, nil
}

// number reads an unsigned decimal number; callers have checked one is there.
// Exponents are not part of the grammar: nobody writes 3e2ms in a runbook.
func (p *parser) number() (float64, error) {
	at := p.i
	text := p.peekNumber()
	p.i += len(text)
	v, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, p.errorf(at, "%s is too large", quote(text))
	}
	return v, nil
}

// peekNumber returns the digits[.digits] or .digits at the cursor, or "".
func (p *parser) peekNumber() string {
	s := p.s[p.i:]
	n := digits(s)
	if n < len(s) && s[n] == '.' {
		if f := digits(s[n+1:]); f > 0 {
			n += 1 + f
		}
	}
	if n == 0 {
		return ""
	}
	return s[:n]
}

func digits(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// unitName reads an optional unit after a number, space allowed ("5 GiB"),
// and where it starts. The keyword "for" is not a unit, so "> 10 for 15s"
// and "> 10for 15s" both read as intended.
func (p *parser) unitName() (string, int) {
	save := p.i
	p.skipSpace()
	at := p.i
	if p.eat("%") {
		return "%", at
	}
	for !p.eof() {
		r, n := utf8.DecodeRuneInString(p.s[p.i:])
		if !unicode.IsLetter(r) {
			break
		}
		p.i += n
	}
	name := p.s[at:p.i]
	if name == "" || name == "for" {
		p.i = save
		return "", at
	}
	return name, at
}

func (p *parser) eof() bool { return p.i >= len(p.s) }

func (p *parser) peek() byte {
	if p.eof() {
		return 0
	}
	return p.s[p.i]
}

func (p *parser) eat(tok string) bool {
	if strings.HasPrefix(p.s[p.i:], tok) {
		p.i += len(tok)
		return true
	}
	return false
}

// eatWord is eat for a keyword that must not run on into more letters, so
// "baselines" and "forever" are not keywords.
func (p *parser) eatWord(w string) bool {
	rest := p.s[p.i:]
	if !strings.HasPrefix(rest, w) {
		return false
	}
	if r, _ := utf8.DecodeRuneInString(rest[len(w):]); unicode.IsLetter(r) {
		return false
	}
	p.i += len(w)
	return true
}

func (p *parser) skipSpace() {
	for !p.eof() {
		r, n := utf8.DecodeRuneInString(p.s[p.i:])
		if !unicode.IsSpace(r) {
			return
		}
		p.i += n
	}
}

// found describes the token at byte offset at for an error message.
func (p *parser) found(at int) string {
	if at >= len(p.s) {
		return "end of text"
	}
	return quote(p.token(at))
}

// token is the word or number (with its sign) at byte offset at, or the
// single character there when it starts neither.
func (p *parser) token(at int) string {
	if at >= len(p.s) {
		return ""
	}
	end := at
	if c := p.s[at]; c == '-' || c == '+' {
		end++
	}
	for end < len(p.s) {
		r, n := utf8.DecodeRuneInString(p.s[end:])
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '.' && r != '%' && r != '_' {
			break
		}
		end += n
	}
	if end == at || (end == at+1 && (p.s[at] == '-' || p.s[at] == '+')) {
		_, n := utf8.DecodeRuneInString(p.s[at:])
		end = at + n
	}
	return p.s[at:end]
}

// errorf reports at a 1-based column counted in characters, as editors and
// YAML positions count them.
func (p *parser) errorf(at int, format string, args ...any) error {
	return &ThresholdError{Col: utf8.RuneCountInString(p.s[:at]) + 1, Msg: fmt.Sprintf(format, args...)}
}

// quote quotes s for a message, shortened so a pasted paragraph stays readable.
func quote(s string) string {
	if utf8.RuneCountInString(s) > 24 {
		s = string([]rune(s)[:24]) + "…"
	}
	return strconv.Quote(s)
}

// Relative reports whether the limit depends on the baseline.
func (t Threshold) Relative() bool { return t.Relation != Absolute }

// Limit is the concrete limit a measured value is compared with, given the
// baseline (ignored for absolute thresholds).
func (t Threshold) Limit(baseline float64) float64 {
	switch t.Relation {
	case BaselineFactor:
		return baseline * t.Value
	case BaselineOffset:
		return baseline + t.Value
	}
	return t.Value
}

// Met reports whether v OP limit holds. A NaN or infinite v, or a NaN limit
// (no baseline yet), is never met: missing data is neither a pass nor a
// breach, and callers must treat it explicitly rather than read false as
// either.
func (t Threshold) Met(v, baseline float64) bool {
	limit := t.Limit(baseline)
	if math.IsNaN(v) || math.IsInf(v, 0) || math.IsNaN(limit) {
		return false
	}
	switch t.Op {
	case OpLT:
		return v < limit
	case OpLE:
		return v <= limit
	case OpGT:
		return v > limit
	case OpGE:
		return v >= limit
	}
	return false
}

// Compatible reports whether the written value fits a panel measuring u.
// Plain numbers fit any panel (they are read in its base unit), and so does
// a factor of the baseline, which carries the panel's own unit.
func (t Threshold) Compatible(u Unit) error {
	if t.Relation == BaselineFactor || t.Unit == UnitNone || t.Unit == u {
		return nil
	}
	kind, ok := map[Unit]string{UnitSeconds: "a duration", UnitRatio: "a percentage", UnitBytes: "a size in bytes"}[t.Unit]
	if !ok {
		kind = fmt.Sprintf("in %q", string(t.Unit))
	}
	var panel string
	switch u {
	case UnitSeconds:
		panel = "this panel measures seconds: write ms, s, m or h, or a plain number of seconds"
	case UnitRatio:
		panel = "this panel measures a ratio: write a percentage such as 1% or a plain ratio such as 0.01"
	case UnitBytes:
		panel = "this panel measures bytes: write B, KB, MB, GB, KiB, MiB or GiB, or a plain number of bytes"
	case UnitNone:
		panel = "this panel has no unit: write a plain number, or declare the panel's unit"
	default:
		panel = fmt.Sprintf("this panel measures %q", string(u))
	}
	return fmt.Errorf("%s is %s, but %s", quote(t.writtenAmount()), kind, panel)
}

// writtenAmount is the value as the author wrote it when Text still says
// what t holds, else the canonical form.
func (t Threshold) writtenAmount() string {
	p := &parser{s: t.Text}
	if re, err := p.threshold(); err == nil && re.Unit == t.Unit && re.Relation == t.Relation {
		return strings.TrimLeft(t.Text[p.amountStart:p.amountEnd], "-")
	}
	return formatAmount(math.Abs(t.Value), t.Unit)
}

// String is the canonical text: it parses back to an equal Threshold (the
// value to within rounding), whatever spacing or unit the author used.
func (t Threshold) String() string {
	var b strings.Builder
	b.WriteString(string(t.Op))
	b.WriteString(" ")
	switch {
	case t.Relation == BaselineFactor:
		b.WriteString("baseline * " + exactNumber(t.Value))
	case t.Relation == BaselineOffset && math.Signbit(t.Value):
		b.WriteString("baseline - " + formatAmount(-t.Value, t.Unit))
	case t.Relation == BaselineOffset:
		b.WriteString("baseline + " + formatAmount(t.Value, t.Unit))
	default:
		b.WriteString(formatAmount(t.Value, t.Unit))
	}
	if t.For > 0 {
		b.WriteString(" for " + FormatDuration(t.For))
	}
	return b.String()
}

// formatAmount writes v (base units) in the grammar: in the largest unit of
// u where it reads as people write it (300ms, 5m, 1.5GiB), else exactly in
// the base unit (42444424B, not 40.4781570435MiB).
func formatAmount(v float64, u Unit) string {
	fallback := ""
	for _, s := range unitSpecs {
		if s.unit != u {
			continue
		}
		x, ok := inUnit(v, s)
		if !ok {
			continue
		}
		scaled := s.mul != 1 || s.div != 1
		if fallback == "" || !scaled {
			fallback = x + s.name
		}
		back, _ := strconv.ParseFloat(strings.TrimPrefix(x, "-"), 64)
		if back >= 1 && (!s.whole || !strings.Contains(x, ".")) && (!scaled || sigDigits(x) <= 6) {
			return x + s.name
		}
	}
	if fallback == "" {
		return exactNumber(v)
	}
	return fallback
}

// sigDigits counts the significant digits of a plain decimal.
func sigDigits(x string) int {
	d := strings.TrimLeft(strings.NewReplacer("-", "", ".", "").Replace(x), "0")
	return len(d)
}

// inUnit writes v in unit s. A scaled value is rounded to 12 significant
// digits so that 0.07 prints as 7%, not 7.000000000000001%; rounding a value
// that already has 12 digits changes nothing, which keeps String stable. ok
// is false when the text would not parse back near v (overflow, subnormals).
func inUnit(v float64, s unitSpec) (string, bool) {
	x := v * s.div / s.mul
	texts := []string{exactNumber(x)}
	if s.mul != 1 || s.div != 1 {
		if r, err := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 12, 64), 64); err == nil {
			texts = []string{exactNumber(r), exactNumber(x)}
		}
	}
	for _, text := range texts {
		back, err := strconv.ParseFloat(strings.TrimPrefix(text, "-"), 64)
		if err == nil && near(back*s.mul/s.div, math.Abs(v)) {
			return text, true
		}
	}
	return "", false
}

// exactNumber is the shortest plain decimal (no exponent, which the grammar
// lacks) that parses back to exactly x.
func exactNumber(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// near is equality up to the 12-digit rounding of inUnit.
func near(a, b float64) bool {
	d := math.Abs(a - b)
	if math.IsInf(d, 0) || math.IsNaN(d) { // an overflowed side is never near
		return false
	}
	return d <= 1e-11*math.Max(math.Abs(a), math.Abs(b))
}

// FormatValue is v (base units of u) as a person reads it on a console or in a
// report: 850µs, 312ms, 1.25s, 2m5s, 2.5%, 1.5 GiB, 12.3. About three
// significant digits, never an exponent. NaN is "no data": Prometheus had
// nothing, which must not look like zero.
func FormatValue(v float64, u Unit) string {
	switch {
	case math.IsNaN(v):
		return "no data"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case v < 0:
		return "-" + FormatValue(-v, u)
	}
	switch u {
	case UnitSeconds:
		return formatSeconds(v)
	case UnitRatio:
		// Two decimals at least, so 99.95% availability is not shown as 100%.
		p := v * 100
		return trimZeros(strconv.FormatFloat(p, 'f', max(2, decimals(p, 3)), 64)) + "%"
	case UnitBytes:
		names := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
		i, r := 0, roundSig(v)
		for i < len(names)-1 && r >= math.Pow(1024, float64(i+1)) {
			i++
		}
		return sig(v/math.Pow(1024, float64(i))) + " " + names[i]
	}
	return sig(v)
}

func formatSeconds(v float64) string {
	r := roundSig(v) // so 0.9996s becomes 1s, not 1000ms
	switch {
	case r == 0:
		return "0s"
	case r < 1e-6:
		return sig(v*1e9) + "ns"
	case r < 1e-3:
		return sig(v*1e6) + "µs"
	case r < 1:
		return sig(v*1e3) + "ms"
	case r < 60:
		return sig(v) + "s"
	case v < 1e9: // well inside time.Duration's range
		return FormatDuration(time.Duration(math.Round(v)) * time.Second)
	}
	return sig(v/3600) + "h"
}

// sig writes x >= 0 with three significant digits, keeping every digit of
// the integer part (1234, not 1.23e+03) while those digits still mean
// something.
func sig(x float64) string {
	if x >= 1e15 {
		return strconv.FormatFloat(x, 'g', 3, 64)
	}
	return trimZeros(strconv.FormatFloat(x, 'f', decimals(x, 3), 64))
}

func roundSig(x float64) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 3, 64), 64)
	return r
}

// decimals is how many decimals give x n significant digits.
func decimals(x float64, n int) int {
	if x == 0 {
		return 0
	}
	return max(0, n-1-int(math.Floor(math.Log10(x))))
}

func trimZeros(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// Describe is the threshold with its concrete limit for a panel measuring u,
// e.g. "< 450ms (baseline 300ms × 1.5)" or "> 10% for 15s".
func (t Threshold) Describe(u Unit, baseline float64) string {
	unit := t.Unit
	if unit == UnitNone {
		unit = u // a plain number is in the panel's base unit
	}
	var b strings.Builder
	b.WriteString(string(t.Op) + " ")
	noBaseline := t.Relative() && (math.IsNaN(baseline) || math.IsInf(baseline, 0))
	var how string
	switch t.Relation {
	case BaselineFactor:
		how = " × " + exactNumber(t.Value)
	case BaselineOffset:
		if math.Signbit(t.Value) {
			how = " - " + FormatValue(-t.Value, unit)
		} else {
			how = " + " + FormatValue(t.Value, unit)
		}
	}
	if noBaseline {
		b.WriteString("baseline" + how)
	} else {
		b.WriteString(FormatValue(t.Limit(baseline), unit))
	}
	if t.For > 0 {
		b.WriteString(" for " + FormatDuration(t.For))
	}
	switch {
	case noBaseline:
		b.WriteString(" (no baseline yet)")
	case t.Relative():
		b.WriteString(" (baseline " + FormatValue(baseline, unit) + how + ")")
	}
	return b.String()
}
