package report

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"strings"
)

// HTML writes the report as one self-contained page: charts are inline SVG,
// styles are inline, and nothing is fetched, so the file opens offline and
// prints as it shows. The page has no script.
func (r *Report) HTML(w io.Writer) error {
	bw := bufio.NewWriter(w)
	title, meta, sections := r.document()
	fmt.Fprintf(bw, htmlHead, esc(title))
	fmt.Fprintf(bw, "<h1>%s</h1>\n", esc(title))
	for _, b := range meta {
		if err := r.htmlBlock(bw, b); err != nil {
			return err
		}
	}
	for _, s := range sections {
		fmt.Fprintf(bw, "<section id=\"%s\">\n<h2>%s</h2>\n", esc(s.id), esc(s.title))
		for _, b := range s.blocks {
			if err := r.htmlBlock(bw, b); err != nil {
				return err
			}
		}
		bw.WriteString("</section>\n")
	}
	bw.WriteString("</body>\n</html>\n")
	return bw.Flush()
}

func esc(s string) string { return html.EscapeString(s) }

// inline escapes s and sets `code` spans, as the Markdown form shows them.
func inline(s string) string {
	parts := strings.Split(s, "`")
	if len(parts)%2 == 0 { // an unpaired backtick is just a character
		return esc(s)
	}
	var b strings.Builder
	for i, p := range parts {
		if i%2 == 1 {
			b.WriteString("<code>" + esc(p) + "</code>")
		} else {
			b.WriteString(esc(p))
		}
	}
	return b.String()
}

// cellHTML escapes a table cell and keeps each word that a browser could
// break inside (network-latency, 0:00/1:00) on one line: a table reads by
// its words, and "network-/latency" or "checkou/t" reads as two.
func cellHTML(s string) string {
	words := strings.Split(s, " ")
	for i, w := range words {
		if strings.ContainsAny(w, "-/?&%:.,;=_") {
			words[i] = `<span class="w">` + esc(w) + `</span>`
		} else {
			words[i] = esc(w)
		}
	}
	return strings.Join(words, " ")
}

func (r *Report) htmlBlock(w *bufio.Writer, b block) error {
	switch b.kind {
	case bPara:
		if b.class != "" {
			fmt.Fprintf(w, "<p class=\"verdict %s\">", esc(b.class))
		} else {
			w.WriteString("<p>")
		}
		if b.strong != "" {
			fmt.Fprintf(w, "<strong>%s</strong> ", esc(b.strong))
		}
		fmt.Fprintf(w, "%s</p>\n", inline(b.text))
	case bNotice:
		fmt.Fprintf(w, "<div class=\"notice\" role=\"alert\"><strong>%s</strong> %s</div>\n", esc(b.strong), inline(b.text))
	case bTable:
		// A wide table scrolls in its own box rather than break words.
		w.WriteString("<div class=\"table\"><table>\n<thead><tr>")
		for _, h := range b.head {
			fmt.Fprintf(w, "<th>%s</th>", esc(h))
		}
		w.WriteString("</tr></thead>\n<tbody>\n")
		for _, row := range b.rows {
			w.WriteString("<tr>")
			for _, c := range row {
				fmt.Fprintf(w, "<td>%s</td>", cellHTML(c))
			}
			w.WriteString("</tr>\n")
		}
		w.WriteString("</tbody>\n</table></div>\n")
	case bList, bChecklist:
		if b.kind == bChecklist {
			w.WriteString("<ul class=\"check\">")
		} else {
			w.WriteString("<ul>")
		}
		for _, it := range b.items {
			fmt.Fprintf(w, "<li>%s</li>", esc(it))
		}
		w.WriteString("</ul>\n")
	case bCode:
		fmt.Fprintf(w, "<pre>%s</pre>\n", esc(b.text))
	case bChart:
		cp := r.charts.panels[b.chart]
		svg, err := r.chart(b.chart)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "<figure class=\"chart\" data-panel=\"%s\">\n", esc(cp.name))
		w.Write(inlineSVG(svg, cp.title+" over the run"))
		w.WriteString("</figure>\n")
	}
	return nil
}

const htmlHead = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>%s</title>
<style>
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", "Liberation Sans", "DejaVu Sans", sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1.5rem; color: #1b1f24; line-height: 1.45; }
h1 { font-size: 1.7rem; margin-bottom: .6rem; }
h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #d0d7de; padding-bottom: .2rem; }
p { margin: .4rem 0; }
.notice { border: 2px solid #b42318; background: #fef3f2; color: #7a271a; padding: .6rem .9rem; margin: .6rem 0; border-radius: 4px; }
.verdict { font-size: 1.1rem; padding: .5rem .8rem; border-left: 6px solid #57606a; background: #f6f8fa; }
.verdict.held { border-color: #1a7f37; }
.verdict.refuted { border-color: #bf8700; }
.verdict.aborted, .verdict.blocked, .verdict.no-verdict { border-color: #b42318; }
table { border-collapse: collapse; margin: .6rem 0; font-size: .88rem; width: 100%%; }
th, td { border: 1px solid #d0d7de; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td { overflow-wrap: break-word; }
div.table { overflow-x: auto; }
span.w { white-space: nowrap; }
pre { background: #f6f8fa; border: 1px solid #d0d7de; padding: .6rem; overflow-x: auto; font-size: .8rem; white-space: pre-wrap; }
figure { margin: .8rem 0; }
figure svg { width: 100%%; height: auto; display: block; }
ul.check { list-style: none; padding-left: 1rem; }
ul.check li::before { content: "\2610\00a0"; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  h2 { break-after: avoid; }
  figure, tr, .notice, .verdict { break-inside: avoid; }
  .notice, .verdict, th { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
</style>
</head>
<body>
`
