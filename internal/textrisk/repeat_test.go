package textrisk

import (
	"strings"
	"testing"
)

// A phrase repeated a thousand times is one reason with MaxSpans phrases,
// not a thousand: the answer stays small, and the score is the score of
// the phrase.
func TestRepeatsBoundPhrases(t *testing.T) {
	s := mustScorer(t)
	once := s.Score(Message{Text: "send pics", Surface: DM, TargetAge: 13})
	r := s.Score(Message{Text: strings.Repeat("send pics ", 1000), Surface: DM, TargetAge: 13})
	if len(r.Reasons) == 0 || !r.Flagged {
		t.Fatalf("repeated request: %+v", r)
	}
	for _, re := range r.Reasons {
		if len(re.Phrases) > MaxSpans || len(re.Spans) != len(re.Phrases) {
			t.Errorf("%s: %d phrases, %d spans: want at most %d, one each", re.Rule, len(re.Phrases), len(re.Spans), MaxSpans)
		}
	}
	if r.Score < once.Score {
		t.Errorf("repeated %.3f, once %.3f", r.Score, once.Score)
	}
}

// One common word of another language ("se", "de") at the end of an
// English request must not hide its English reading: the reading of a
// language that knows fewer of the message's words is the one ruled out.
// (Words are counted as written: "s3nd p1cs la" is still read as Spanish.)
func TestStrayWordKeepsLanguage(t *testing.T) {
	s := mustScorer(t)
	for _, text := range []string{"send pics", "send pics se", "send nudes de"} {
		if r := s.Score(Message{Text: text, Surface: DM, TargetAge: 13}); !r.Flagged || r.Language != "en" {
			t.Errorf("%q: flagged %v %.3f in %s: want flagged, read in English", text, r.Flagged, r.Score, r.Language)
		}
	}
	if r := s.Score(Message{Text: "mándame fotos de tu cuerpo", Surface: DM, TargetAge: 13}); !r.Flagged || r.Language != "es" {
		t.Errorf("Spanish request: flagged %v in %s", r.Flagged, r.Language)
	}
}
