package transparency

import (
	_ "embed"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/safeguard-oss/safeguard/internal/review"
)

// WriteCSV writes r as CSV (RFC 4180): one row per figure, with its group
// ("all", a category, or "service"), value, unit, denominator count and
// denominator in words.
func WriteCSV(w io.Writer, r Report) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"group", "figure", "value", "unit", "of", "denominator", "from", "to", "as_of"})
	row := func(g string, f Figure) {
		of := ""
		if f.Of != nil {
			of = strconv.Itoa(*f.Of)
		}
		cw.Write([]string{g, f.Name, num(f.Value), f.Unit, of, f.Denominator,
			r.Period.From.UTC().Format(time.RFC3339), r.Period.To.UTC().Format(time.RFC3339), r.AsOf.UTC().Format(time.RFC3339)})
	}
	for _, g := range r.Groups {
		for _, f := range g.Figures {
			row(g.Category, f)
		}
	}
	for _, f := range r.Service {
		row("service", f)
	}
	cw.Flush()
	return cw.Error()
}

// num writes counts as integers and other values with as few digits as
// read back the same.
func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// OutsideSafeguard is the value of a DSA template field Safeguard does
// not know (who the provider is, orders to act, out-of-court disputes,
// suspensions, staff).
const OutsideSafeguard = "outside Safeguard"

// DSAField is one field of the DSA transparency-report template as
// Safeguard fills it (dsa_fields.csv, derived from the annex of
// Commission Implementing Regulation (EU) 2024/2835: see
// docs/transparency.md for the sources).
type DSAField struct {
	Section, Field string
	PerType        bool   // one row per type of illegal content
	Figure         string // "notices:<figure>", "own:<figure>", "all:<figure>", a service figure; empty: outside Safeguard
}

//go:embed dsa_fields.csv
var dsaFieldsCSV string

// DSAFields is the template's field set, in its order.
var DSAFields = func() []DSAField {
	recs, err := csv.NewReader(strings.NewReader(dsaFieldsCSV)).ReadAll()
	if err != nil {
		panic("transparency: dsa_fields.csv: " + err.Error())
	}
	out := make([]DSAField, 0, len(recs)-1)
	for _, r := range recs[1:] {
		out = append(out, DSAField{Section: r[0], Field: r[1], PerType: r[2] == "yes", Figure: r[3]})
	}
	return out
}()

// DSAType is the template's type of illegal content for a category
// (the "protection of minors" types of the DSA's statement-of-reasons
// categories).
func DSAType(c review.Category) string {
	switch c {
	case review.KnownCSAM, review.SuspectedCSAM, review.SelfGenerated:
		return "protection_of_minors:child_sexual_abuse_material"
	case review.Sextortion, review.Grooming:
		return "protection_of_minors:grooming_sexual_enticement_of_minors"
	case review.SexualisedChild:
		return "protection_of_minors:other"
	}
	return "other"
}

// DSAHeader is the DSA export's column set.
var DSAHeader = []string{"section", "field", "type_of_illegal_content", "safeguard_category", "value"}

// WriteDSA writes the report in the DSA template's fields, one row per
// field (per category for the fields kept per type of content), every
// field Safeguard does not know marked OutsideSafeguard. in and p must be
// those r was computed from: the template splits notices (reports from
// users and trusted flaggers) from own-initiative moderation (Safeguard's
// own detection), so their figures are computed here over each part.
func WriteDSA(w io.Writer, r Report, in Input, cfg Config) error {
	cats := review.Categories
	if cfg.Category != "" {
		cats = []review.Category{cfg.Category}
	}
	split := map[review.Category]map[string]Group{}
	missed, found := laterFound(in.Cases, cfg.join())
	for _, c := range cats {
		var notices, own []*review.Report
		for i := range in.Reports {
			x := &in.Reports[i]
			if x.Category != c || !r.Period.has(x.ReceivedAt) || !cfg.keeps(x) {
				continue
			}
			if ChannelOf(*x).Proactive() {
				own = append(own, x)
			} else {
				notices = append(notices, x)
			}
		}
		all, _ := r.Group(string(c))
		split[c] = map[string]Group{
			"notices": group("notices", notices, nil, in, cfg, missed, found),
			"own":     group("own", own, nil, in, cfg, missed, found),
			"all":     all,
		}
	}
	cw := csv.NewWriter(w)
	cw.Write(DSAHeader)
	for _, f := range DSAFields {
		if !f.PerType {
			cw.Write([]string{f.Section, f.Field, "", "", serviceValue(r, f.Figure)})
			continue
		}
		for _, c := range cats {
			cw.Write([]string{f.Section, f.Field, DSAType(c), string(c), typeValue(split[c], f.Figure)})
		}
	}
	cw.Flush()
	return cw.Error()
}

func serviceValue(r Report, name string) string {
	switch name {
	case "":
		return OutsideSafeguard
	case "period.from":
		return r.Period.From.UTC().Format(time.RFC3339)
	case "period.to":
		return r.Period.To.UTC().Format(time.RFC3339)
	}
	for _, f := range r.Service {
		if f.Name == name {
			return num(f.Value)
		}
	}
	panic(fmt.Sprintf("transparency: DSA field names unknown figure %q", name))
}

func typeValue(gs map[string]Group, ref string) string {
	if ref == "" {
		return OutsideSafeguard
	}
	part, name, _ := strings.Cut(ref, ":")
	g := gs[part]
	get := func(n string) float64 {
		f, ok := g.Get(n)
		if !ok && g.Category != "" {
			panic(fmt.Sprintf("transparency: DSA field names unknown figure %q", ref))
		}
		return f.Value
	}
	switch name {
	case "appeals.upheld":
		return num(get("appeals.decided") - get("appeals.overturned"))
	case "proactive_error_rate":
		f, _ := g.Get("proactive_precision")
		if f.Of == nil || *f.Of == 0 {
			return "0"
		}
		return num(1 - f.Value)
	}
	return num(get(name))
}
