package review

import (
	"cmp"
	"slices"
	"time"
)

// Row is the time to action of the reports of one category from one
// source.
type Row struct {
	Category Category `json:"category"`
	Source   Source   `json:"source"`
	Received int      `json:"received"`
	Decided  int      `json:"decided"`  // decided at least once (Actioned or NoAction, or since appealed)
	Actioned int      `json:"actioned"` // decided, and the content acted on
	// Share is Actioned / Received.
	Share float64 `json:"share_actioned"`
	// Median and P90 of the time from a report to the first decision on
	// it, over the decided reports, by the nearest-rank method (the
	// smallest time at least half, or 90%, of them are within); zero when
	// none is decided.
	Median time.Duration `json:"median"`
	P90    time.Duration `json:"p90"`
}

// TimeToAction sums up reports per category and source, in the order of
// Categories and Sources, leaving out pairs with no reports. A report
// counts as actioned by its status now: one whose confirmation an appeal
// overturned is decided but not actioned.
func TimeToAction(rs []Report) []Row {
	type key struct {
		c Category
		s Source
	}
	rows := map[key]*Row{}
	waits := map[key][]time.Duration{}
	for _, r := range rs {
		k := key{r.Category, r.Source}
		row := rows[k]
		if row == nil {
			row = &Row{Category: r.Category, Source: r.Source}
			rows[k] = row
		}
		row.Received++
		if r.Status == Actioned {
			row.Actioned++
		}
		if !r.DecidedAt.IsZero() {
			row.Decided++
			waits[k] = append(waits[k], r.DecidedAt.Sub(r.ReceivedAt))
		}
	}
	out := make([]Row, 0, len(rows))
	for k, row := range rows {
		row.Share = float64(row.Actioned) / float64(row.Received)
		if w := waits[k]; len(w) > 0 {
			slices.Sort(w)
			row.Median, row.P90 = Percentile(w, 50), Percentile(w, 90)
		}
		out = append(out, *row)
	}
	slices.SortFunc(out, func(a, b Row) int {
		return cmp.Or(
			cmp.Compare(slices.Index(Categories, a.Category), slices.Index(Categories, b.Category)),
			cmp.Compare(slices.Index(Sources, a.Source), slices.Index(Sources, b.Source)))
	})
	return out
}

// Percentile is the nearest-rank p-th percentile of sorted, non-empty w:
// the smallest time at least p% of them are within. Every time-to-action
// figure (here and in internal/transparency) uses it.
func Percentile(w []time.Duration, p int) time.Duration {
	i := (p*len(w) + 99) / 100 // ceil(p/100 × n), 1-based
	return w[max(i, 1)-1]
}
