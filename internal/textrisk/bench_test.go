package textrisk

import (
	"testing"
)

// benchMessages are short messages of the kinds a platform sees most:
// mostly harmless, some harmful, some disguised.
var benchMessages = []Message{
	{Text: "lol that was so funny 😂", Surface: Comment},
	{Text: "see you at practice tmrw", Surface: DM},
	{Text: "so proud of her first recital 💕", Surface: Comment, OnChildContent: true},
	{Text: "how old r u? r u home alone", Surface: DM, TargetAge: 13},
	{Text: "hot chocolate weather 🥵", Surface: Caption},
	{Text: "so hot 🥵 send more of her", Surface: Comment, OnChildContent: true},
	{Text: "s3nd p1cs pls, dont tell ur mom", Surface: DM},
	{Text: "can u send me the homework page", Surface: DM, TargetAge: 14},
	{Text: "this pizza looks amazing, recipe?", Surface: Comment},
	{Text: "cuántos años tienes? estás sola?", Surface: DM},
	{Text: "great goal!! ⚽🔥", Surface: Comment, OnChildContent: true},
	{Text: "i have ur pics, pay me or everyone sees", Surface: DM},
}

// BenchmarkScore measures messages a second on one core (run with
// -cpu 1); the target is 20,000.
func BenchmarkScore(b *testing.B) {
	benchScore(b, mustScorer(b))
}

// BenchmarkScoreModel is BenchmarkScore with a trained model.
func BenchmarkScoreModel(b *testing.B) {
	s := mustScorer(b)
	md, err := s.Train(readSet(b, "../../testdata/text/tune.tsv"), TrainOptions{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	s, _ = New(md)
	benchScore(b, s)
}

func benchScore(b *testing.B, s *Scorer) {
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		s.Score(benchMessages[n%len(benchMessages)])
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkScoreBuiltin is BenchmarkScore with the built-in model, the
// service's default.
func BenchmarkScoreBuiltin(b *testing.B) {
	s := mustBuiltin(b)
	benchScore(b, s)
}
