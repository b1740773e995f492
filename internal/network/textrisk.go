package network

import "github.com/safeguard-oss/safeguard/internal/textrisk"

// TextRisk scores comments with the text-signal scorer, as comments under
// content that shows a child of the given age.
type TextRisk struct{ Scorer *textrisk.Scorer }

// Sexualised implements CommentScorer.
func (t TextRisk) Sexualised(text string, childAge int) float64 {
	return t.Scorer.Score(textrisk.Message{Text: text, Surface: textrisk.Comment, OnChildContent: true, TargetAge: childAge}).Score
}

// NewDetector returns the detector the CLI and the server use: the
// text-signal scorer over its built-in rules, at its threshold.
func NewDetector() (*Detector, error) {
	s, err := textrisk.New(nil)
	if err != nil {
		return nil, err
	}
	return &Detector{Scorer: TextRisk{s}, SexualisedAt: textrisk.Threshold}, nil
}
