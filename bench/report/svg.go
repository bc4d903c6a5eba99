package report

import (
	"fmt"
	"html"
	"strings"
)

// Colours of the known servers; others take the spare ones in turn.
var (
	colours = map[string]string{
		"hatago":           "#d62728",
		"nethttp":          "#1f77b4",
		"fasthttp":         "#2ca02c",
		"fasthttp-prefork": "#98df8a",
		"fiber":            "#17becf",
		"gin":              "#9467bd",
	}
	spare = []string{"#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"}
)

// colour returns the colour of server, the i-th of the report's servers.
func colour(server string, i int) string {
	if c, ok := colours[server]; ok {
		return c
	}
	return spare[i%len(spare)]
}

// The chart's geometry, in pixels.
const (
	marginLeft  = 70
	marginRight = 20
	plotTop     = 110 // room above for the title, the legend and bar labels
	plotHeight  = 300
	barGap      = 2
	groupGap    = 22
	minWidth    = 640
)

// SVG draws the report as a grouped bar chart: one group per row, one bar
// per server in its colour, each bar's height its requests per second as a
// share of the fastest server in that row (the tests differ by three orders
// of magnitude, so one absolute axis would hide most of them), labelled
// with its absolute requests per second. Hovering a bar shows its figures.
func (r *Report) SVG() string {
	n := max(1, len(r.Servers))
	barW := 14
	if n > 6 {
		barW = 10
	}
	groupW := n*(barW+barGap) - barGap + groupGap
	width := max(minWidth, marginLeft+len(r.Rows)*groupW+marginRight)
	plotBottom := plotTop + plotHeight
	height := plotBottom + 80

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n",
		width, height, width, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", width, height)
	fmt.Fprintf(&b, `<text x="%d" y="22" font-size="15" font-weight="bold">%s</text>`+"\n", marginLeft, esc(r.Title()))

	// Legend.
	x := marginLeft
	for i, s := range r.Servers {
		fmt.Fprintf(&b, `<rect x="%d" y="36" width="12" height="12" fill="%s"/><text x="%d" y="46">%s</text>`+"\n",
			x, colour(s, i), x+16, esc(s))
		x += 16 + 7*len(s) + 18
	}

	// Axes, grid and their labels.
	for pct := 0; pct <= 100; pct += 25 {
		y := plotBottom - pct*plotHeight/100
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#dddddd"/>`+"\n", marginLeft, y, width-marginRight, y)
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%d%%</text>`+"\n", marginLeft-6, y+4, pct)
	}
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333333"/>`+"\n", marginLeft, plotTop, marginLeft, plotBottom)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333333"/>`+"\n", marginLeft, plotBottom, width-marginRight, plotBottom)
	cy := plotTop + plotHeight/2
	fmt.Fprintf(&b, `<text x="18" y="%d" text-anchor="middle" transform="rotate(-90 18 %d)">requests/s, %% of the fastest server in the test</text>`+"\n", cy, cy)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">test, and wrk's connections; the figure on each bar is its good responses/s (* with errors)</text>`+"\n",
		marginLeft+(width-marginLeft-marginRight)/2, height-12)

	// Bars.
	for g, row := range r.Rows {
		gx := marginLeft + groupGap/2 + g*groupW
		best := 0.0
		for _, c := range row.Cells {
			if c.ok() {
				best = max(best, c.RPS)
			}
		}
		for i, s := range r.Servers {
			c, has := row.Cells[s]
			if !has || !c.ok() || best == 0 {
				continue
			}
			bx := gx + i*(barW+barGap)
			h := max(1, int(c.RPS/best*plotHeight+0.5))
			y := plotBottom - h
			tip := fmt.Sprintf("%s, %s at %d connections: %s requests/s, p50 %s, p99 %s",
				s, row.Label, row.Conns, Thousands(c.RPS), Latency(c.P50), Latency(c.P99))
			if c.Errors > 0 {
				tip += fmt.Sprintf(", %d errors (%s)", c.Errors, c.ErrorText)
			}
			fmt.Fprintf(&b, `<rect class="bar" x="%d" y="%d" width="%d" height="%d" fill="%s"><title>%s</title></rect>`+"\n",
				bx, y, barW, h, colour(s, i), esc(tip))
			label := Short(c.RPS)
			if c.Errors > 0 {
				label += "*"
			}
			lx, ly := bx+barW/2+4, y-3
			fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="9" transform="rotate(-90 %d %d)">%s</text>`+"\n",
				lx, ly, lx, ly, esc(label))
		}
		mid := gx + (groupW-groupGap)/2
		test, param := shortLabel(row.Label)
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">%s</text>`+"\n", mid, plotBottom+16, esc(test))
		if param != "" {
			fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">%s</text>`+"\n", mid, plotBottom+30, esc(param))
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" fill="#555555">c=%d</text>`+"\n", mid, plotBottom+44, row.Conns)
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// shortLabel splits a request label into a short test name and its
// parameter: "cached-queries?count=100" gives "cached", "N=100".
func shortLabel(label string) (test, param string) {
	test, query, _ := strings.Cut(label, "?")
	test = strings.TrimPrefix(test, "/")
	if test == "cached-queries" {
		test = "cached"
	}
	if _, v, ok := strings.Cut(query, "="); ok {
		param = "N=" + v
	}
	return test, param
}

func esc(s string) string { return html.EscapeString(s) }
