package report

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/runbook"
)

// A team that runs the same runbook every night wants to see whether it
// gets better or worse: the trend page shows, per runbook, the verdict of
// every run and, per panel, the value each expectation measured under
// attack, run after run, against its limit. A regression is a line going
// the wrong way.

// run is one run directory under a runs directory, read or not.
type run struct {
	name string // the directory's name: the run id
	r    *Report
	err  error
}

// loadRuns reads every run directory under runsDir (those holding a
// journal), oldest first; unreadable ones last, by name.
func loadRuns(runsDir string) ([]run, error) {
	names, err := gamedays.RunDirs(runsDir)
	if err != nil {
		return nil, fmt.Errorf("summary: %w", err)
	}
	var runs []run
	for _, name := range names {
		r, err := Load(filepath.Join(runsDir, name))
		runs = append(runs, run{name: name, r: r, err: err})
	}
	sort.SliceStable(runs, func(i, j int) bool {
		a, b := runs[i], runs[j]
		if (a.r == nil) != (b.r == nil) {
			return b.r == nil
		}
		if a.r == nil {
			return a.name < b.name
		}
		return a.r.Start.Before(b.r.Start)
	})
	return runs, nil
}

// trendPoint is one run's measurement of one expectation.
type trendPoint struct {
	run   int // index among the runbook's runs
	value float64
	limit float64
	held  bool
}

// trendSeries is one expectation (panel and threshold) over the runs.
type trendSeries struct {
	threshold string
	pts       []trendPoint
}

type trendPanel struct {
	name, title string
	unit        runbook.Unit
	series      []*trendSeries
}

// trendBook is one runbook's runs, oldest first.
type trendBook struct {
	title  string
	runs   []run
	panels []*trendPanel
}

// trendBooks groups the readable runs by runbook title, in the order each
// runbook first ran.
func trendBooks(runs []run) []*trendBook {
	var books []*trendBook
	byTitle := map[string]*trendBook{}
	for _, rn := range runs {
		if rn.r == nil {
			continue
		}
		b, ok := byTitle[rn.r.Title]
		if !ok {
			b = &trendBook{title: rn.r.Title}
			byTitle[rn.r.Title] = b
			books = append(books, b)
		}
		b.runs = append(b.runs, rn)
	}
	for _, b := range books {
		panels := map[string]*trendPanel{}
		for i, rn := range b.runs {
			for _, c := range rn.r.Hypothesis.Expectations {
				p, ok := panels[c.Panel]
				if !ok {
					p = &trendPanel{name: c.Panel, title: c.Panel, unit: rn.r.unit(c.Panel)}
					for _, rp := range rn.r.Panels {
						if rp.Name == c.Panel {
							p.title = rp.Title
						}
					}
					panels[c.Panel] = p
					b.panels = append(b.panels, p)
				}
				var s *trendSeries
				for _, have := range p.series {
					if have.threshold == c.Threshold {
						s = have
					}
				}
				if s == nil {
					s = &trendSeries{threshold: c.Threshold}
					p.series = append(p.series, s)
				}
				// Only a judged measurement is a point: an aborted or
				// blocked run measured nothing under attack.
				if c.Held == nil || c.NoData || !finite(float64(c.Value)) {
					continue
				}
				s.pts = append(s.pts, trendPoint{run: i, value: float64(c.Value), limit: float64(c.Limit), held: *c.Held})
			}
		}
	}
	return books
}

// Trends writes the trend page of every run under runsDir: one
// self-contained HTML file, like the report, with an SVG chart per panel.
func Trends(w io.Writer, runsDir string) error {
	runs, err := loadRuns(runsDir)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	title := "Game day trends"
	fmt.Fprintf(bw, htmlHead, esc(title))
	fmt.Fprintf(bw, "<h1>%s</h1>\n<p>Every run under <code>%s</code>, oldest first. Each chart is one panel: the value each expectation measured under attack, run after run, against its limit (dashed). Red points are runs where the expectation broke.</p>\n", esc(title), esc(runsDir))
	books := trendBooks(runs)
	if len(books) == 0 {
		fmt.Fprintf(bw, "<p>No runs under %s.</p>\n", esc(runsDir))
	}
	for i, b := range books {
		fmt.Fprintf(bw, "<section id=\"runbook-%d\">\n<h2>%s</h2>\n", i+1, esc(b.title))
		bw.WriteString("<table class=\"history\">\n<thead><tr><th>#</th><th>Date</th><th>Run</th><th>Verdict</th><th>Duration</th><th>Report</th></tr></thead>\n<tbody>\n")
		for n, rn := range b.runs {
			v := rn.r.Status.Outcome
			fmt.Fprintf(bw, "<tr><td>%d</td><td>%s</td><td>%s</td><td class=\"v-%s\">%s</td><td>%s</td><td><a href=\"%s\">report</a></td></tr>\n",
				n+1, esc(rn.r.Start.Format("2006-01-02 15:04")), esc(rn.name), esc(v), esc(v),
				esc(runbook.FormatDuration(durationOf(rn.r.Duration))), esc(rn.name+"/report.html"))
		}
		bw.WriteString("</tbody>\n</table>\n")
		for _, p := range b.panels {
			fmt.Fprintf(bw, "<figure class=\"chart trend\" data-panel=\"%s\" data-points=\"%d\">\n", esc(p.name), p.points())
			bw.Write(inlineSVG(trendChart(b, p), p.title+" under attack, run after run"))
			bw.WriteString("</figure>\n")
		}
		bw.WriteString("</section>\n")
	}
	var bad []string
	for _, rn := range runs {
		if rn.err != nil {
			bad = append(bad, rn.name+": "+rn.err.Error())
		}
	}
	if len(bad) > 0 {
		bw.WriteString("<section id=\"unreadable\">\n<h2>Unreadable runs</h2>\n<ul>")
		for _, s := range bad {
			fmt.Fprintf(bw, "<li>%s</li>", esc(s))
		}
		bw.WriteString("</ul>\n</section>\n")
	}
	bw.WriteString(trendCSS + "</body>\n</html>\n")
	return bw.Flush()
}

func (p *trendPanel) points() int {
	n := 0
	for _, s := range p.series {
		n += len(s.pts)
	}
	return n
}

// Verdict colours of the history table, as the report's verdict box has them.
const trendCSS = `<style>
.history td.v-held { color: #1a7f37; font-weight: bold; }
.history td.v-refuted { color: #9a6700; font-weight: bold; }
.history td.v-aborted, .history td.v-blocked, .history td.v-incomplete { color: #b42318; font-weight: bold; }
</style>
`

// Trend chart colours: the line between runs is light so the points,
// coloured by their result, stand out.
const (
	colTrendLine  = "#9db3d9"
	colTrendHeld  = "#1f4e9c"
	colTrendBroke = "#c01010"
)

// trendChart draws one panel: a point per run that measured it, joined run
// to run, and each expectation's limit.
func trendChart(b *trendBook, p *trendPanel) []byte {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range p.series {
		for _, pt := range s.pts {
			lo, hi = math.Min(lo, math.Min(pt.value, pt.limit)), math.Max(hi, math.Max(pt.value, pt.limit))
		}
	}
	if math.IsInf(lo, 1) {
		lo, hi = 0, 1
	}
	lo = math.Min(lo, 0)
	if hi <= lo {
		hi = lo + 1
	}
	top := hi + (hi-lo)*0.1
	n := len(b.runs)
	// Runs sit at the middle of equal columns: run i at x = i + 0.5.
	c := &canvas{x1: float64(n), y0: lo, y1: top}
	c.printf(`<svg xmlns="http://www.w3.org/2000/svg" width="%gpt" height="%gpt" viewBox="0 0 %g %g" font-family="%s">`+"\n",
		chartWidth, chartHeight, chartWidth, chartHeight, chartFont)
	c.printf(`<rect width="%g" height="%g" fill="#ffffff"/>`+"\n", chartWidth, chartHeight)
	title := p.title + " under attack"
	var thresholds []string
	for _, s := range p.series {
		thresholds = append(thresholds, "expect "+s.threshold)
	}
	c.text(chartWidth/2, 13, "middle", "12", "#000000", title+" ("+strings.Join(thresholds, ", ")+")", ` font-weight="bold"`)
	yticks := valueTicks(lo, top, p.unit)
	for _, t := range yticks {
		if t.label != "" {
			c.line(plotLeft, c.y(t.value), plotRight, c.y(t.value), "#c8c8c8", 0.5, "")
		}
	}
	for _, s := range p.series {
		// The limit can move with the baseline: it is drawn run by run.
		var limits []xy
		for _, pt := range s.pts {
			if finite(pt.limit) {
				limits = append(limits, xy{float64(pt.run) + 0.5, pt.limit})
			}
		}
		if len(limits) == 1 {
			limits = []xy{{0, limits[0].y}, {float64(n), limits[0].y}}
		}
		if len(limits) > 0 {
			c.polyline(limits, fmt.Sprintf(`stroke="%s" stroke-width="1" stroke-dasharray="5 3"`, colExpect))
			c.text(c.x(limits[0].x)+2, c.y(limits[0].y)-3, "start", "8", colExpect, "expect "+s.threshold, "")
		}
		var line []xy
		for _, pt := range s.pts {
			line = append(line, xy{float64(pt.run) + 0.5, pt.value})
		}
		if len(line) > 1 {
			c.polyline(line, fmt.Sprintf(`class="trend-line" stroke="%s" stroke-width="1.5"`, colTrendLine))
		}
		for _, pt := range s.pts {
			col, result := colTrendHeld, "held"
			if !pt.held {
				col, result = colTrendBroke, "broke"
			}
			rn := b.runs[pt.run]
			c.printf(`<circle class="point" cx="%s" cy="%s" r="4" fill="%s" stroke="#ffffff" stroke-width="1"><title>%s: %s, %s</title></circle>`+"\n",
				num(c.x(float64(pt.run)+0.5)), num(c.y(pt.value)), col, htmlAttr(rn.name), htmlAttr(runbook.FormatValue(pt.value, p.unit)), result)
		}
	}
	// Axes: values on the left, runs along the bottom.
	c.line(plotLeft, plotBottom+3, plotRight, plotBottom+3, "#000000", 0.5, "")
	every := max(1, (n+11)/12)
	for i := 0; i < n; i += every {
		x := c.x(float64(i) + 0.5)
		c.line(x, plotBottom+3, x, plotBottom+7, "#000000", 0.5, "")
		c.text(x, plotBottom+15, "middle", "8", "#000000", fmt.Sprintf("#%d", i+1), "")
	}
	// The history table dates each run; the axis says the span.
	first, last := b.runs[0].r.Start, b.runs[n-1].r.Start
	c.text((plotLeft+plotRight)/2, chartHeight-3, "middle", "9", "#000000",
		"runs, oldest first ("+first.Format("2006-01-02 15:04")+" to "+last.Format("2006-01-02 15:04")+")", "")
	valueAxis(c, yticks)
	c.printf("</svg>\n")
	return c.buf.Bytes()
}

// polyline draws pts, in data coordinates, as one unfilled path.
func (c *canvas) polyline(pts []xy, attrs string) {
	c.printf(`<path d="`)
	for i, p := range pts {
		op := "L"
		if i == 0 {
			op = "M"
		}
		c.printf("%s%s,%s", op, num(c.x(p.x)), num(c.y(p.y)))
	}
	c.printf(`" fill="none" %s/>`+"\n", attrs)
}

func durationOf(seconds float64) time.Duration {
	return time.Duration(math.Round(seconds)) * time.Second
}
