package textrisk

// Counts are a confusion matrix's cells.
type Counts struct {
	TP, FP, FN, TN int
}

// Precision is TP/(TP+FP), or 1 when nothing was flagged.
func (c Counts) Precision() float64 {
	if c.TP+c.FP == 0 {
		return 1
	}
	return float64(c.TP) / float64(c.TP+c.FP)
}

// Recall is TP/(TP+FN), or 1 when there was nothing to find.
func (c Counts) Recall() float64 {
	if c.TP+c.FN == 0 {
		return 1
	}
	return float64(c.TP) / float64(c.TP+c.FN)
}

// F1 is the harmonic mean of precision and recall.
func (c Counts) F1() float64 {
	p, r := c.Precision(), c.Recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

func (c *Counts) add(truth, flagged bool) {
	switch {
	case truth && flagged:
		c.TP++
	case truth:
		c.FN++
	case flagged:
		c.FP++
	default:
		c.TN++
	}
}

// Evaluation is how a scorer did on labelled examples: flagged or not,
// overall and per surface, and per label (a label's message counts as
// found only when flagged with that label).
type Evaluation struct {
	All       Counts
	BySurface map[Surface]Counts
	ByLabel   map[string]Counts
	// Missed and FalseAlarms are the examples behind FN and FP.
	Missed, FalseAlarms []Example
}

// Evaluate scores every example and counts.
func (s *Scorer) Evaluate(examples []Example) Evaluation {
	ev := Evaluation{BySurface: map[Surface]Counts{}, ByLabel: map[string]Counts{}}
	for _, e := range examples {
		r := s.Score(e.Message)
		ev.All.add(e.Positive, r.Flagged)
		surface := e.Surface
		if surface == "" {
			surface = DM
		}
		c := ev.BySurface[surface]
		c.add(e.Positive, r.Flagged)
		ev.BySurface[surface] = c
		for _, l := range Labels {
			has := false
			for _, got := range r.Labels {
				has = has || got == l
			}
			c := ev.ByLabel[l]
			c.add(e.Label == l, r.Flagged && has)
			ev.ByLabel[l] = c
		}
		switch {
		case e.Positive && !r.Flagged:
			ev.Missed = append(ev.Missed, e)
		case !e.Positive && r.Flagged:
			ev.FalseAlarms = append(ev.FalseAlarms, e)
		}
	}
	return ev
}
