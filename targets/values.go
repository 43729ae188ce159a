package targets

import (
	"maps"
	"slices"
	"time"
)

// Values are an attack's params after parsing, defaults applied. The
// accessors return the zero value for a param that is absent or of another
// type, so callers check Has for optional params without a default.
type Values struct {
	kind string
	m    map[string]value
}

// Kind is the name of the kind the values were parsed for.
func (v Values) Kind() string { return v.kind }

// Has reports whether the param was given or has a default.
func (v Values) Has(name string) bool {
	_, ok := v.m[name]
	return ok
}

// Names lists the params present, sorted.
func (v Values) Names() []string { return slices.Sorted(maps.Keys(v.m)) }

// String is the canonical text of a param: "5m", "80%", "512MiB", "KILL",
// "10.0.0.5/32", "nginx.service".
func (v Values) String(name string) string { return v.m[name].canon }

// Duration is a duration or offset param.
func (v Values) Duration(name string) time.Duration { return v.m[name].d }

// Int is an int, port or http-status param given as a number.
func (v Values) Int(name string) int64 { return v.m[name].n }

// Float is a float param, or a percent or share param as 0-100.
func (v Values) Float(name string) float64 { return v.m[name].f }

// Bytes is a bytes param given as a size; 0 when it was a percentage.
func (v Values) Bytes(name string) int64 {
	if x := v.m[name]; x.typ == TypeBytes && !x.pct {
		return x.n
	}
	return 0
}

// Percent is a percent or share param, or a bytes or int param given as a
// percentage, as 0-100; ok is false otherwise.
func (v Values) Percent(name string) (pct float64, ok bool) {
	x := v.m[name]
	if x.pct || x.typ == TypePercent || x.typ == TypeShare {
		return x.f, true
	}
	return 0, false
}

// Ratio is Percent as a fraction of 1, the form SDKs and fault libraries want.
func (v Values) Ratio(name string) float64 {
	p, _ := v.Percent(name)
	return round9(p / 100)
}

// Bool is a bool param.
func (v Values) Bool(name string) bool { return v.m[name].b }

// Strings is a list param's items, canonical and in the order given.
func (v Values) Strings(name string) []string { return slices.Clone(v.m[name].list) }

// Canonical maps every present param to its canonical text, for journals:
// it records what ran, defaults included, in one spelling.
func (v Values) Canonical() map[string]string {
	out := make(map[string]string, len(v.m))
	for k, x := range v.m {
		out[k] = x.canon
	}
	return out
}
