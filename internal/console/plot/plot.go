// Package plot draws the console's charts as SVG, on the server: bar
// charts, stacked by series, with an optional cumulative line (a CDF).
// The SVG uses presentation attributes only, no style attribute or
// script, so it renders under the console's Content-Security-Policy, and
// it prints.
package plot

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// Series is one stack layer: a value per label.
type Series struct {
	Name   string
	Values []float64
}

// Chart is a bar chart: one bar per label, its series stacked.
type Chart struct {
	Title  string
	Labels []string
	Series []Series
	// Cumulative draws the running share of the bars' totals as a line
	// against a 0-100 % axis on the right: with time buckets as labels,
	// the cumulative distribution.
	Cumulative bool
}

// Colours, in series order: the Okabe-Ito palette, told apart with
// colour-blindness and in greyscale print.
var colours = []string{"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"}

// Size of the drawing, in user units.
const (
	width, height            = 720, 260
	left, right, top, bottom = 52, 52, 40, 44
)

// SVG draws c. Labels and names are escaped; an empty chart draws its
// axes and says so.
func (c Chart) SVG() string {
	n := len(c.Labels)
	totals := make([]float64, n)
	for _, s := range c.Series {
		for i := range min(n, len(s.Values)) {
			totals[i] += max(s.Values[i], 0)
		}
	}
	peak := 0.0
	for _, t := range totals {
		peak = max(peak, t)
	}
	ymax := nice(peak)
	plotW, plotH := float64(width-left-right), float64(height-top-bottom)
	y := func(v float64) float64 { return float64(top) + plotH*(1-v/ymax) }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="plot" viewBox="0 0 %d %d" role="img" aria-labelledby="t-%s">`, width, height, id(c.Title))
	fmt.Fprintf(&b, `<title id="t-%s">%s</title>`, id(c.Title), esc(c.Title))
	fmt.Fprintf(&b, `<text x="%d" y="16" font-size="14" font-weight="bold" fill="#222">%s</text>`, left, esc(c.Title))
	// Grid and left axis: five steps.
	for k := 0; k <= 4; k++ {
		v := ymax * float64(k) / 4
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>`, left, width-right, y(v), y(v))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" font-size="10" text-anchor="end" fill="#444">%s</text>`, left-4, y(v)+3, count(v))
	}
	if n == 0 || peak == 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12" text-anchor="middle" fill="#666">nothing in this period</text>`, width/2, height/2)
	}
	slot := plotW / float64(max(n, 1))
	barW := slot * 0.7
	for i := range n {
		x := float64(left) + slot*float64(i) + (slot-barW)/2
		base := 0.0
		for si, s := range c.Series {
			if i >= len(s.Values) || s.Values[i] <= 0 {
				continue
			}
			v := s.Values[i]
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s, %s: %s</title></rect>`,
				x, y(base+v), barW, y(base)-y(base+v), colours[si%len(colours)], esc(c.Labels[i]), esc(s.Name), count(v))
			base += v
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="10" text-anchor="middle" fill="#444">%s</text>`, x+barW/2, height-bottom+14, esc(c.Labels[i]))
	}
	if c.Cumulative && peak > 0 {
		sum := 0.0
		for _, t := range totals {
			sum += t
		}
		var pts []string
		run := 0.0
		for i, t := range totals {
			run += t
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", float64(left)+slot*(float64(i)+0.5), float64(top)+plotH*(1-run/sum)))
		}
		fmt.Fprintf(&b, `<polyline class="cdf" points="%s" fill="none" stroke="#D55E00" stroke-width="2"/>`, strings.Join(pts, " "))
		for k := 0; k <= 4; k++ {
			fmt.Fprintf(&b, `<text x="%d" y="%.1f" font-size="10" fill="#D55E00">%d %%</text>`, width-right+4, float64(top)+plotH*(1-float64(k)/4)+3, k*25)
		}
	}
	// Legend, under the title.
	lx := float64(left)
	names := make([]string, 0, len(c.Series)+1)
	for _, s := range c.Series {
		names = append(names, s.Name)
	}
	for i, name := range names {
		fmt.Fprintf(&b, `<rect x="%.1f" y="23" width="10" height="10" fill="%s"/><text x="%.1f" y="32" font-size="11" fill="#222">%s</text>`,
			lx, colours[i%len(colours)], lx+14, esc(name))
		lx += 22 + 6.5*float64(len([]rune(name)))
	}
	if c.Cumulative {
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="28" y2="28" stroke="#D55E00" stroke-width="2"/><text x="%.1f" y="32" font-size="11" fill="#222">cumulative share</text>`, lx, lx+12, lx+16)
	}
	fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#444"/>`, left, width-right, height-bottom, height-bottom)
	b.WriteString(`</svg>`)
	return b.String()
}

// nice is the smallest of 1, 2, 2.5 or 5 times a power of ten at or above
// v (at least 1), so the grid's steps are round numbers.
func nice(v float64) float64 {
	if v <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func count(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func esc(s string) string { return html.EscapeString(s) }

// id makes an XML id from a title.
func id(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if 'a' <= r && r <= 'z' || '0' <= r && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}
