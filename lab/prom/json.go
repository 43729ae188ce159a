package prom

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/util/annotations"
)

// The encoder writes Prometheus's exact response shapes by hand: values are
// strings ("NaN", "+Inf", "-Inf" included), timestamps are Unix seconds with
// millisecond precision, and the float format switches to exponent notation
// at the same bounds as Prometheus's.

func writeError(w http.ResponseWriter, e *apiError) {
	b := make([]byte, 0, 128)
	b = append(b, `{"status":"error","errorType":`...)
	b = appendString(b, e.typ)
	b = append(b, `,"error":`...)
	b = appendString(b, e.err.Error())
	b = append(b, '}')
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status())
	_, _ = w.Write(b)
}

func writeData(w http.ResponseWriter, data any, warns annotations.Annotations, query string) {
	b := make([]byte, 0, 4096)
	b = append(b, `{"status":"success","data":`...)
	b, err := appendData(b, data)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	warnings, infos := warns.AsStrings(query, 10, 10)
	b = appendStrings(b, "warnings", warnings)
	b = appendStrings(b, "infos", infos)
	b = append(b, '}')
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

func appendStrings(b []byte, key string, ss []string) []byte {
	if len(ss) == 0 {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, `":`...)
	return appendStringList(b, ss)
}

func appendStringList(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

func appendData(b []byte, data any) ([]byte, error) {
	switch d := data.(type) {
	case *queryData:
		defer d.close()
		b = append(b, `{"resultType":`...)
		b = appendString(b, string(d.res.Value.Type()))
		b = append(b, `,"result":`...)
		b = appendValue(b, d.res.Value)
		return append(b, '}'), nil
	case []string:
		return appendStringList(b, d), nil
	case []labels.Labels:
		b = append(b, '[')
		for i, ls := range d {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendLabels(b, ls)
		}
		return append(b, ']'), nil
	default:
		j, err := json.Marshal(d)
		return append(b, j...), err
	}
}

// appendMetric opens the i-th series of a vector or matrix: the comma
// after the one before, then the object and its labels.
func appendMetric(b []byte, i int, metric labels.Labels) []byte {
	if i > 0 {
		b = append(b, ',')
	}
	b = append(b, `{"metric":`...)
	return appendLabels(b, metric)
}

func appendValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case promql.Vector:
		b = append(b, '[')
		for i, s := range v {
			b = appendMetric(b, i, s.Metric)
			if s.H == nil {
				b = append(b, `,"value":`...)
				b = appendPoint(b, s.T, s.F)
			} else {
				b = append(b, `,"histogram":`...)
				b = appendHPoint(b, s.T, s.H)
			}
			b = append(b, '}')
		}
		return append(b, ']')
	case promql.Matrix:
		b = append(b, '[')
		for i, s := range v {
			b = appendMetric(b, i, s.Metric)
			b = appendPoints(b, `,"values":[`, s.Floats, func(b []byte, p promql.FPoint) []byte { return appendPoint(b, p.T, p.F) })
			b = appendPoints(b, `,"histograms":[`, s.Histograms, func(b []byte, p promql.HPoint) []byte { return appendHPoint(b, p.T, p.H) })
			b = append(b, '}')
		}
		return append(b, ']')
	case promql.Scalar:
		// Prometheus encodes scalars and strings with their own MarshalJSON,
		// not its fast path: the timestamp is a float and the value never
		// switches to exponent notation.
		b = append(b, '[')
		b = appendSeconds(b, v.T)
		b = append(b, ',', '"')
		b = strconv.AppendFloat(b, v.V, 'f', -1, 64)
		return append(b, '"', ']')
	case promql.String:
		b = append(b, '[')
		b = appendSeconds(b, v.T)
		b = append(b, ',')
		b = appendString(b, v.V)
		return append(b, ']')
	}
	return append(b, "null"...)
}

// appendPoints writes a non-empty list of points under key; an empty one
// is left out, as Prometheus does.
func appendPoints[P any](b []byte, key string, ps []P, write func([]byte, P) []byte) []byte {
	if len(ps) == 0 {
		return b
	}
	b = append(b, key...)
	for i, p := range ps {
		if i > 0 {
			b = append(b, ',')
		}
		b = write(b, p)
	}
	return append(b, ']')
}

func appendPoint(b []byte, t int64, f float64) []byte {
	b = append(b, '[')
	b = appendTimestamp(b, t)
	b = append(b, ',')
	b = appendFloat(b, f)
	return append(b, ']')
}

// appendHPoint writes a native histogram as Prometheus does: count, sum and
// the non-empty buckets as [boundaries, lower, upper, count], where
// boundaries is 0 (upper inclusive), 1 (lower inclusive), 2 (neither) or 3
// (both).
func appendHPoint(b []byte, t int64, h *histogram.FloatHistogram) []byte {
	b = append(b, '[')
	b = appendTimestamp(b, t)
	b = append(b, `,{"count":`...)
	b = appendFloat(b, h.Count)
	b = append(b, `,"sum":`...)
	b = appendFloat(b, h.Sum)
	first := true
	it := h.AllBucketIterator()
	for it.Next() {
		bk := it.At()
		if bk.Count == 0 {
			continue
		}
		if first {
			b = append(b, `,"buckets":[`...)
			first = false
		} else {
			b = append(b, ',')
		}
		bounds := 2
		switch {
		case bk.LowerInclusive && bk.UpperInclusive:
			bounds = 3
		case bk.LowerInclusive:
			bounds = 1
		case bk.UpperInclusive:
			bounds = 0
		}
		b = append(b, '[')
		b = strconv.AppendInt(b, int64(bounds), 10)
		b = append(b, ',')
		b = appendFloat(b, bk.Lower)
		b = append(b, ',')
		b = appendFloat(b, bk.Upper)
		b = append(b, ',')
		b = appendFloat(b, bk.Count)
		b = append(b, ']')
	}
	if !first {
		b = append(b, ']')
	}
	return append(b, '}', ']')
}

// appendSeconds writes milliseconds as encoding/json writes the float seconds.
func appendSeconds(b []byte, t int64) []byte {
	j, _ := json.Marshal(float64(t) / 1000)
	return append(b, j...)
}

// appendTimestamp writes milliseconds as seconds without a float round trip.
func appendTimestamp(b []byte, t int64) []byte {
	if t < 0 {
		b = append(b, '-')
		t = -t
	}
	b = strconv.AppendInt(b, t/1000, 10)
	if frac := t % 1000; frac != 0 {
		b = append(b, '.')
		if frac < 100 {
			b = append(b, '0')
		}
		if frac < 10 {
			b = append(b, '0')
		}
		b = strconv.AppendInt(b, frac, 10)
	}
	return b
}

// appendFloat quotes f as Prometheus does; strconv spells the special
// values NaN, +Inf and -Inf, which is what clients parse.
func appendFloat(b []byte, f float64) []byte {
	format := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	b = append(b, '"')
	b = strconv.AppendFloat(b, f, format, -1, 64)
	return append(b, '"')
}

func appendLabels(b []byte, ls labels.Labels) []byte {
	b = append(b, '{')
	first := true
	ls.Range(func(l labels.Label) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendString(b, l.Name)
		b = append(b, ':')
		b = appendString(b, l.Value)
	})
	return append(b, '}')
}

// appendString writes s as a JSON string; plain ASCII, the common case for
// label names and values, is copied without encoding/json.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c >= utf8.RuneSelf {
			j, _ := json.Marshal(s)
			return append(b, j...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
