package report

import (
	"bytes"
	"encoding/xml"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// An eight-hour series at 1s has one-sample spikes and dips; downsampled to
// pixel columns, every one must still be there, and the count must fit the
// columns.
func TestDownsampleKeepsPeaks(t *testing.T) {
	const n = 8 * 3600
	pts := make([]xy, n)
	for i := range pts {
		pts[i] = xy{float64(i), 0.1 + 0.01*math.Sin(float64(i)/30)}
	}
	spikes := map[int]float64{1234: 9.5, 17777: 4.25, n - 1: 7}
	dips := map[int]float64{5000: -3, 22222: -1.5}
	for i, v := range spikes {
		pts[i].y = v
	}
	for i, v := range dips {
		pts[i].y = v
	}
	segs := downsample(pts, 0, n, columns, 2.5)
	if len(segs) != 1 {
		t.Fatalf("%d segments for a series without gaps, want 1", len(segs))
	}
	out := segs[0]
	if len(out) > 2*columns+2 || len(out) < columns {
		t.Errorf("%d points for %d columns", len(out), columns)
	}
	found := map[float64]bool{}
	for i, p := range out {
		found[p.y] = true
		if i > 0 && p.x <= out[i-1].x {
			t.Fatalf("points out of time order at %d: %v after %v", i, p, out[i-1])
		}
	}
	for _, want := range []map[int]float64{spikes, dips} {
		for i, v := range want {
			if !found[v] {
				t.Errorf("the extreme %g at t=%d was lost", v, i)
			}
		}
	}
}

// A stretch without samples is a break in the line, never a bridge.
func TestDownsampleBreaksAtGaps(t *testing.T) {
	var pts []xy
	for i := 0; i < 100; i++ {
		pts = append(pts, xy{float64(i), 1})
	}
	for i := 200; i < 300; i++ {
		pts = append(pts, xy{float64(i), 2})
	}
	segs := downsample(pts, 0, 300, 50, 2.5)
	if len(segs) != 2 {
		t.Fatalf("%d segments, want 2 around the gap", len(segs))
	}
	if last, first := segs[0][len(segs[0])-1].x, segs[1][0].x; last >= 100 || first < 200 {
		t.Errorf("segments end at %g and start at %g, want the gap 100..200 between them", last, first)
	}
}

// The chart is SVG that an XML parser reads, draws the data in the series
// colour inside its own box, and writes the words a reader needs: title,
// phases, limits, the abort, the axes.
func TestChartSVG(t *testing.T) {
	r := loadFixture(t, "aborted")
	svg, err := r.chart(0)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	var dataPaths int
	dec := xml.NewDecoder(bytes.NewReader(svg))
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, svg)
		}
		el, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		attr := map[string]string{}
		for _, a := range el.Attr {
			attr[a.Name.Local] = a.Value
		}
		switch el.Name.Local {
		case "text":
			var s string
			if err := dec.DecodeElement(&s, &el); err != nil {
				t.Fatal(err)
			}
			texts = append(texts, s)
		case "path":
			if attr["stroke"] == colSeries[0] {
				dataPaths++
			}
			for _, f := range strings.FieldsFunc(attr["d"], func(r rune) bool { return r == 'M' || r == 'L' || r == ',' }) {
				v, err := strconv.ParseFloat(f, 64)
				if err != nil || v < 0 || v > chartWidth {
					t.Errorf("path coordinate %q outside the chart", f)
				}
			}
		}
	}
	if dataPaths < 2 {
		t.Errorf("%d data paths, want the two stretches of P95 around the gap", dataPaths)
	}
	joined := strings.Join(texts, "|")
	for _, want := range []string{"P95 latency", "baseline", "run", "guardrail > 1s for 10s", "expect < baseline * 2",
		"ABORT", "attack: slow network", "T+0:00", "T+2:00", "1s", "500ms", "time since the run started"} {
		if !slices.Contains(texts, want) {
			t.Errorf("no text %q in the chart: %s", want, joined)
		}
	}
	if bytes.Contains(svg, []byte("font-face")) || !bytes.Contains(svg, []byte(`font-family="`+chartFont+`"`)) {
		t.Errorf("the chart should name its font family and embed none")
	}
}

func TestNum(t *testing.T) {
	for v, want := range map[float64]string{0: "0", -0.001: "0", 1.5: "1.5", 12.345: "12.35", 700: "700", -3.1: "-3.1"} {
		if got := num(v); got != want {
			t.Errorf("num(%g) = %q, want %q", v, got, want)
		}
	}
}
