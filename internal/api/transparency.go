package api

import (
	"fmt"
	"net/http"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/request"
	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/transparency"
)

// transparencyParams are the transparency routes' query parameters: a
// period, read by transparency.ParsePeriod, and a category.
var transparencyParams = append(request.TextParams("from", "to"), request.EnumParam("category", review.Categories...))

// transparencyFor reads a request's period (transparency.ParsePeriod)
// and category, and computes its report.
func (a *API) transparencyFor(r *http.Request) (transparency.Report, transparency.Input, transparency.Config, error) {
	var cfg transparency.Config
	if a.cfg.Transparency == nil {
		return transparency.Report{}, transparency.Input{}, cfg, errorf(http.StatusServiceUnavailable, CodeUnavailable, "transparency figures are not available on this server: its store keeps no reports")
	}
	now := a.now().UTC()
	q := request.Parsed(r)
	p, err := transparency.ParsePeriod(q.Text("from"), q.Text("to"), now)
	if err != nil {
		return transparency.Report{}, transparency.Input{}, cfg, err
	}
	cfg.Category = review.Category(q.Text("category"))
	if a.cfg.Review != nil {
		cfg.Target = a.cfg.Review.Target
	}
	in, err := transparency.Gather(r.Context(), a.cfg.Transparency, p.From, now)
	if err != nil {
		return transparency.Report{}, transparency.Input{}, cfg, err
	}
	return transparency.Compute(in, p, cfg), in, cfg, nil
}

// transparencyJSON handles GET /v1/transparency.
func (a *API) transparencyJSON(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	rep, _, _, err := a.transparencyFor(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

// transparencyCSV handles GET /v1/transparency.csv.
func (a *API) transparencyCSV(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	rep, _, _, err := a.transparencyFor(r)
	if err != nil {
		return err
	}
	csvHeaders(w, "transparency", rep.Period)
	return transparency.WriteCSV(w, rep)
}

// transparencyDSA handles GET /v1/transparency/dsa.csv: the DSA template.
func (a *API) transparencyDSA(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	rep, in, cfg, err := a.transparencyFor(r)
	if err != nil {
		return err
	}
	csvHeaders(w, "transparency-dsa", rep.Period)
	return transparency.WriteDSA(w, rep, in, cfg)
}

func csvHeaders(w http.ResponseWriter, name string, p transparency.Period) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s-%s.csv"`, name, p.From.Format("20060102"), p.To.Format("20060102")))
}
