package network

import "strings"

// Lexicon is the minimal comment scorer used when no better one is wired
// in: a comment scores 1 when it holds one of a few phrases or emoji that
// sexualise a person, and 0 otherwise. It knows nothing of context,
// negation or spelling games; it is not a classifier, only enough to run
// the detector and its tests without internal/textrisk. Production passes
// the text-signal scorer as Detector.Scorer.
type Lexicon struct{}

var lexicon = []string{
	"🥵", "😏", "👅", "🍑", "💦", "😈",
	"so hot", "sexy", "mature for her age", "developed", "more of her", "dm me more",
	"caliente", "rica", "sexi", "más fotos de ella",
}

// Sexualised implements CommentScorer.
func (Lexicon) Sexualised(text string, _ int) float64 {
	t := strings.ToLower(text)
	for _, w := range lexicon {
		if strings.Contains(t, w) {
			return 1
		}
	}
	return 0
}
