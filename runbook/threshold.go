package runbook

import (
	"fmt"
	"time"
)

// Unit is what a panel's numbers measure. Threshold values are held in the
// unit's base: seconds for latency, a 0..1 ratio for error rates.
type Unit string

// Units a panel can declare.
const (
	UnitNone    Unit = ""        // a plain number (requests/s, orders/min)
	UnitSeconds Unit = "seconds" // thresholds accept ms, s, m
	UnitRatio   Unit = "ratio"   // thresholds accept % or a plain 0..1 ratio
	UnitBytes   Unit = "bytes"   // thresholds accept B, KiB, MiB, GiB, KB, MB, GB
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
