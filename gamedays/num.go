package gamedays

import (
	"fmt"
	"math"
	"strconv"
)

// Num is a measurement that may be missing. JSON has no NaN or Inf, and a
// missing value must never read back as zero, so NaN is written as null and
// infinities as "+Inf"/"-Inf".
type Num float64

// MarshalJSON implements json.Marshaler.
func (n Num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	switch {
	case math.IsNaN(f):
		return []byte("null"), nil
	case math.IsInf(f, 1):
		return []byte(`"+Inf"`), nil
	case math.IsInf(f, -1):
		return []byte(`"-Inf"`), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (n *Num) UnmarshalJSON(b []byte) error {
	switch s := string(b); s {
	case "null":
		*n = Num(math.NaN())
	case `"+Inf"`:
		*n = Num(math.Inf(1))
	case `"-Inf"`:
		*n = Num(math.Inf(-1))
	default:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("not a number: %s", s)
		}
		*n = Num(f)
	}
	return nil
}
