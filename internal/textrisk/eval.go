package textrisk

import (
	"fmt"
	"math"
	"math/rand/v2"
)

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
	rs := make([]Result, len(examples))
	for i, e := range examples {
		rs[i] = s.Score(e.Message)
	}
	return evaluate(examples, rs)
}

// evaluate counts results against the examples they score.
func evaluate(examples []Example, rs []Result) Evaluation {
	ev := Evaluation{BySurface: map[Surface]Counts{}, ByLabel: map[string]Counts{}}
	for i, e := range examples {
		r := rs[i]
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

// CrossValidation is what k-fold cross-validation measured: every example
// scored by a model that never saw it, flagged at thresholds chosen
// without it.
type CrossValidation struct {
	Folds int
	// Rules is the rules alone (at Threshold), for
	// comparison; Model the out-of-fold model at Threshold on every
	// surface; Tuned the out-of-fold model at per-surface thresholds
	// chosen, for each fold, on the other folds' out-of-fold scores.
	Rules, Model, Tuned Evaluation
	// ByFold is Tuned for each fold's examples alone.
	ByFold []Evaluation
	// Thresholds are the per-surface thresholds chosen on all the
	// out-of-fold scores: the ones to use with a model trained on all
	// the examples.
	Thresholds Thresholds
	// Curve is the out-of-fold model at each threshold of the grid, the
	// precision bought with recall, from which Thresholds are chosen.
	Curve []CurvePoint
}

// CrossValidate splits examples into k folds (shuffled by o.Seed), trains
// a model on each k-1 of them and scores the one left out, then chooses a
// threshold per surface (ChooseThreshold) and counts. It is the honest
// figure for what can be measured before a blind set: no example is
// scored by a model, or flagged at a threshold, chosen with it.
func (s *Scorer) CrossValidate(examples []Example, k int, o TrainOptions) (CrossValidation, error) {
	if k < 2 || k > len(examples) {
		return CrossValidation{}, fmt.Errorf("textrisk: cross-validate: %d folds for %d examples: want 2 to the number of examples", k, len(examples))
	}
	order := make([]int, len(examples))
	for i := range order {
		order[i] = i
	}
	rand.New(rand.NewPCG(o.Seed, 0xf01d)).Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	fold := make([]int, len(examples))
	for pos, i := range order {
		fold[i] = pos % k
	}
	return s.CrossValidateGroups(examples, fold, o)
}

// CrossValidateGroups is CrossValidate with the folds given: example i is
// in fold[i] (0 to k-1). Folding by file (one author's set a fold)
// measures what a blind set by another hand will see: phrasing shared
// within a file does not leak into its scores.
func (s *Scorer) CrossValidateGroups(examples []Example, fold []int, o TrainOptions) (CrossValidation, error) {
	k := 0
	for _, f := range fold {
		if f < 0 {
			return CrossValidation{}, fmt.Errorf("textrisk: cross-validate: fold %d: want 0 or more", f)
		}
		k = max(k, f+1)
	}
	if len(fold) != len(examples) || k < 2 {
		return CrossValidation{}, fmt.Errorf("textrisk: cross-validate: %d folds over %d of %d examples: want 2 or more folds covering every example", k, len(fold), len(examples))
	}
	oof := make([]Result, len(examples))
	for f := 0; f < k; f++ {
		var train []Example
		for i, e := range examples {
			if fold[i] != f {
				train = append(train, e)
			}
		}
		md, err := s.Train(train, o)
		if err != nil {
			return CrossValidation{}, fmt.Errorf("textrisk: cross-validate: fold %d: %w", f+1, err)
		}
		// Out-of-fold scores at Threshold on every surface.
		fs := &Scorer{langs: s.langs, emoji: s.emoji, model: md}
		for i, e := range examples {
			if fold[i] == f {
				oof[i] = fs.Score(e.Message)
			}
		}
	}
	rules := &Scorer{langs: s.langs, emoji: s.emoji}
	cv := CrossValidation{Folds: k, Rules: rules.Evaluate(examples), Model: evaluate(examples, oof)}
	cv.Thresholds = chooseThresholds(examples, oof, nil)
	cv.Curve = curve(examples, oof)
	tuned := make([]Result, len(oof))
	for f := 0; f < k; f++ {
		t := chooseThresholds(examples, oof, func(i int) bool { return fold[i] != f })
		for i := range oof {
			if fold[i] == f {
				tuned[i] = oof[i]
				tuned[i].Flagged = oof[i].Score >= t.Of(examples[i].Surface)
			}
		}
	}
	cv.Tuned = evaluate(examples, tuned)
	for f := 0; f < k; f++ {
		var ex []Example
		var rs []Result
		for i := range examples {
			if fold[i] == f {
				ex, rs = append(ex, examples[i]), append(rs, tuned[i])
			}
		}
		cv.ByFold = append(cv.ByFold, evaluate(ex, rs))
	}
	return cv, nil
}

// chooseThresholds picks, per surface, ChooseThreshold over the scored
// examples that use admits (all when use is nil).
func chooseThresholds(examples []Example, rs []Result, use func(int) bool) Thresholds {
	t := Thresholds{}
	for _, sf := range Surfaces {
		var scores []float64
		var truth []bool
		for i, e := range examples {
			s := e.Surface
			if s == "" {
				s = DM
			}
			if s == sf && (use == nil || use(i)) {
				scores = append(scores, rs[i].Score)
				truth = append(truth, e.Positive)
			}
		}
		t[sf] = ChooseThreshold(scores, truth)
	}
	return t
}

// TargetPrecision is the precision ChooseThreshold keeps while it buys
// recall: the target is 0.90 on text nobody tuned on. Thresholds
// chosen at 0.92 out of fold gave 0.911 on the next sets' first run
// (tune7a, tune7b; docs/text.md, round 3): the out-of-fold figure is
// about a point optimistic, since the rules were written from those
// files' errors, so 0.93 keeps new text near 0.92. It did not: at 0.93
// the next first runs gave 0.906 (holdout7), 0.892 and 0.877 (tune9a,
// tune9b; round 9), three to five points under, while their recall
// (0.87-0.90) stood well above the 0.80 target. 0.95 spends that margin.
// At 0.95 the twelfth holdout's first run (new voices, after round 12)
// gave 0.909 over all and 0.895 on direct messages, at recall 0.950: blind
// precision still falls short of out-of-fold by up to six points, so 0.96
// spends more of the recall (docs/text.md, "The twelfth holdout").
const TargetPrecision = 0.96

// thresholdGrid are the thresholds ChooseThreshold and the curve try:
// 0.30 to 0.90 in steps of 0.02.
func thresholdGrid() []float64 {
	g := make([]float64, 0, 31)
	for step := 0; step <= 30; step++ {
		g = append(g, math.Round((0.30+0.02*float64(step))*100)/100)
	}
	return g
}

// ChooseThreshold returns the threshold of the grid with the highest
// recall whose precision is at least TargetPrecision on the scores given
// (of equal recall, the most precise, then the lowest); when none reaches
// it, the one with
// the highest F-score weighting precision twice as much as recall (F0.5).
// Fewer than 20 scores, or no positive among them, say too little:
// Threshold.
func ChooseThreshold(scores []float64, truth []bool) float64 {
	pos := 0
	for _, p := range truth {
		if p {
			pos++
		}
	}
	if len(scores) < 20 || pos == 0 {
		return Threshold
	}
	best, bestF := Threshold, -1.0
	target, bestR, bestP := -1.0, -1.0, -1.0
	for _, th := range thresholdGrid() {
		var c Counts
		for i, sc := range scores {
			c.add(truth[i], sc >= th-1e-9)
		}
		p, r := c.Precision(), c.Recall()
		if c.TP > 0 && p >= TargetPrecision && (r > bestR+1e-12 || r > bestR-1e-12 && p > bestP+1e-12) {
			target, bestR, bestP = th, r, p
		}
		f := 0.0
		if p+r > 0 {
			f = 1.25 * p * r / (0.25*p + r)
		}
		if f > bestF+1e-12 {
			best, bestF = th, f
		}
	}
	if target > 0 {
		return target
	}
	return best
}

// A CurvePoint is the out-of-fold counts at one threshold, the same on
// every surface.
type CurvePoint struct {
	Threshold float64
	All       Counts
	BySurface map[Surface]Counts
}

// curve counts the scored examples at every threshold of the grid.
func curve(examples []Example, rs []Result) []CurvePoint {
	var pts []CurvePoint
	for _, th := range thresholdGrid() {
		pt := CurvePoint{Threshold: th, BySurface: map[Surface]Counts{}}
		for i, e := range examples {
			sf := e.Surface
			if sf == "" {
				sf = DM
			}
			flagged := rs[i].Score >= th-1e-9
			pt.All.add(e.Positive, flagged)
			c := pt.BySurface[sf]
			c.add(e.Positive, flagged)
			pt.BySurface[sf] = c
		}
		pts = append(pts, pt)
	}
	return pts
}
