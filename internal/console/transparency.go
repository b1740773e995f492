package console

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/console/plot"
	"github.com/safeguard-oss/safeguard/internal/request"
	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/transparency"
)

// figureRow is a figure as the page shows it.
type figureRow struct {
	Name, Value, Denominator string
}

// transparencyView is the transparency page's data.
type transparencyView struct {
	Report     transparency.Report
	Print      bool
	From, To   string // the period as the form's date fields show it
	Category   string
	Categories []review.Category
	Query      string // from, to and category, for the print and download links
	All        []figureRow
	Service    []figureRow
	// Table is the per-category figures: a row per figure, a cell per
	// group of Groups (all first).
	Groups []string
	Table  [][]string
	Names  []string
	// The plots, drawn here as SVG.
	TimeToAction, Weekly, Backlog template.HTML
}

// transparencyPage shows GET /v1/transparency's figures with their
// denominators, and the plots; print is the printable page.
func (c *Console) transparencyPage(print bool) func(http.ResponseWriter, *http.Request, *session) {
	return func(w http.ResponseWriter, r *http.Request, s *session) {
		q := transparencyQuery(r)
		var rep transparency.Report
		if err := c.call(r.Context(), s, "GET", "/v1/transparency?"+q, nil, &rep); err != nil {
			c.failAPI(w, r, s, err)
			return
		}
		v := transparencyView{Report: rep, Print: print, Category: rep.Category, Categories: review.Categories, Query: q,
			From: rep.Period.From.UTC().Format(time.DateOnly), To: rep.Period.To.UTC().Format(time.DateOnly)}
		if all, ok := rep.Group("all"); ok {
			v.All = rows(all.Figures)
		} else if len(rep.Groups) > 0 {
			v.All = rows(rep.Groups[0].Figures)
		}
		v.Service = rows(rep.Service)
		for _, g := range rep.Groups {
			v.Groups = append(v.Groups, g.Category)
		}
		if len(rep.Groups) > 0 {
			for i, f := range rep.Groups[0].Figures {
				v.Names = append(v.Names, f.Name)
				cells := make([]string, len(rep.Groups))
				for j, g := range rep.Groups {
					cells[j] = value(g.Figures[i])
				}
				v.Table = append(v.Table, cells)
			}
		}
		pl := rep.Plots
		v.TimeToAction = template.HTML(plot.Chart{Title: "Time to action: decided reports by wait", Labels: transparency.BucketLabels,
			Series: []plot.Series{{Name: "decided reports", Values: floats(pl.TimeToAction)}}, Cumulative: true}.SVG())
		v.Backlog = template.HTML(plot.Chart{Title: "Backlog: undecided reports by age", Labels: transparency.BucketLabels,
			Series: []plot.Series{{Name: "undecided reports", Values: floats(pl.Backlog)}}}.SVG())
		weekly := plot.Chart{Title: "Reports received per week, by source"}
		for _, wk := range pl.Weeks {
			weekly.Labels = append(weekly.Labels, wk.Start.UTC().Format("01-02"))
		}
		for i, ch := range transparency.Channels {
			sr := plot.Series{Name: strings.ReplaceAll(string(ch), "_", " ")}
			for _, wk := range pl.Weeks {
				sr.Values = append(sr.Values, float64(wk.Counts[i]))
			}
			weekly.Series = append(weekly.Series, sr)
		}
		v.Weekly = template.HTML(weekly.SVG())
		c.render(w, http.StatusOK, "transparency", c.newPage(r, s, "Transparency", v))
	}
}

// transparencyDownload passes one of the API's CSV exports through.
func (c *Console) transparencyDownload(path string) func(http.ResponseWriter, *http.Request, *session) {
	return func(w http.ResponseWriter, r *http.Request, s *session) {
		rec, err := c.callRaw(r.Context(), s, "GET", path+"?"+transparencyQuery(r), nil)
		if err != nil {
			c.failAPI(w, r, s, err)
			return
		}
		for _, h := range []string{"Content-Type", "Content-Disposition"} {
			w.Header().Set(h, rec.Header().Get(h))
		}
		w.Write(rec.Body.Bytes())
	}
}

// transparencyParams are the period form's fields, which the pages pass
// to the API's routes, whose parser checks them.
var transparencyParams = request.TextParams("from", "to", "category")

// transparencyQuery is the API's query of the period the form gave.
func transparencyQuery(r *http.Request) string {
	q, out := request.Parsed(r), url.Values{}
	for _, p := range transparencyParams {
		if v := q.Text(p.Name); v != "" {
			out.Set(p.Name, v)
		}
	}
	return out.Encode()
}

func canTransparency(k auth.Key) bool { return k.Check(auth.TransparencyRead) == nil }

func rows(fs []transparency.Figure) []figureRow {
	out := make([]figureRow, len(fs))
	for i, f := range fs {
		out[i] = figureRow{Name: f.Name, Value: value(f), Denominator: f.Denominator}
	}
	return out
}

// value writes a figure as a person reads it: "61 of 100", "12.5%
// (of 8)", "3h 05m".
func value(f transparency.Figure) string {
	switch f.Unit {
	case "seconds":
		if f.Of != nil && *f.Of == 0 {
			return "–"
		}
		return humanDuration(time.Duration(f.Value * float64(time.Second)))
	case "share":
		if f.Of != nil {
			return fmt.Sprintf("%s of %d", formatPct(f.Value), *f.Of)
		}
		return formatPct(f.Value)
	}
	n := strconv.FormatFloat(f.Value, 'f', -1, 64)
	if f.Of != nil {
		return fmt.Sprintf("%s of %d", n, *f.Of)
	}
	return n
}

func floats(xs []int) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = float64(x)
	}
	return out
}
