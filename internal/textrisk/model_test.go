package textrisk

import (
	"bytes"
	"hash/fnv"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

// Reviewers keep confirming a phrasing the rules do not know ("vip room"
// invitations to children) and dismissing a benign one the rules flag; a
// model retrained on those decisions moves the score of a similar message
// it never saw, in the right direction, and keeps the rules' reasons.
func TestLearningLoop(t *testing.T) {
	rules := mustScorer(t)
	confirmed := []string{
		"join my vip room, only special girls get in",
		"u can be in my vip room if u want",
		"my vip room is just for my fav girls",
		"want an invite to the vip room? dont bring friends",
		"vip room tonight? its exclusive",
		"ill let u into the vip room for free",
	}
	dismissed := []string{
		"the vip section at the concert was amazing",
		"we got vip tickets for the game!!",
		"room 12 is the art room",
		"clean ur room before dinner",
		"our hotel room has a great view",
		"band practice is in the music room",
		"the waiting room was packed",
		"vip parking is full, park by the gym",
	}
	var ex []Example
	for i := 0; i < 3; i++ { // several reviewers' decisions on similar cases
		for _, s := range confirmed {
			ex = append(ex, Example{Message: Message{Text: s, Surface: DM, TargetAge: 13}, Positive: true})
		}
		for _, s := range dismissed {
			ex = append(ex, Example{Message: Message{Text: s, Surface: DM, TargetAge: 13}})
		}
	}
	md, err := rules.Train(ex, TrainOptions{Seed: 1, Now: time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	learned, err := New(md)
	if err != nil {
		t.Fatal(err)
	}
	unseen := Message{Text: "come to my vip room later, its only for special members", Surface: DM, TargetAge: 12}
	before, after := rules.Score(unseen), learned.Score(unseen)
	if after.Score < before.Score+0.2 {
		t.Fatalf("retrained score %.3f, rules %.3f: want the model to raise a message like the confirmed ones", after.Score, before.Score)
	}
	if after.Model == nil || after.Model.ID != md.ID || len(after.Model.Top) == 0 {
		t.Fatalf("model part %+v: want the model's id and its top features", after.Model)
	}
	benign := Message{Text: "the vip room at the museum had free snacks", Surface: DM, TargetAge: 12}
	if r := learned.Score(benign); r.Score > after.Score-0.2 {
		t.Fatalf("benign %q %.3f vs confirmed-like %.3f: want the model to tell them apart", benign.Text, r.Score, after.Score)
	}
	// The rules' reasons stay, model or not.
	m := Message{Text: "dont tell ur mom, delete the chat", Surface: DM, TargetAge: 13}
	if got, want := len(learned.Score(m).Reasons), len(rules.Score(m).Reasons); got != want || got == 0 {
		t.Fatalf("%d reasons with the model, %d without: want the same, non-zero", got, want)
	}
}

func TestModelSaveLoad(t *testing.T) {
	s := mustScorer(t)
	ex := readSet(t, "../../testdata/text/tune.tsv")
	md, err := s.Train(ex, TrainOptions{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := md.Save(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := Load(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if back.ID != md.ID || back.Examples != len(ex) || !back.Trained.Equal(md.Trained) {
		t.Fatalf("loaded %s (%d examples, %v), saved %s (%d, %v)", back.ID, back.Examples, back.Trained, md.ID, md.Examples, md.Trained)
	}
	a, _ := New(md)
	b, _ := New(back)
	for _, e := range ex[:50] {
		if x, y := a.Score(e.Message).Score, b.Score(e.Message).Score; x != y {
			t.Fatalf("%q: %.4f before saving, %.4f after", e.Text, x, y)
		}
	}
	// A changed weight, another version, another format: refused.
	for name, edit := range map[string]func(string) string{
		"version": func(s string) string { return strings.Replace(s, `"version":1`, `"version":2`, 1) },
		"format":  func(s string) string { return strings.Replace(s, ModelFormat, "other", 1) },
		"weight":  func(s string) string { return strings.Replace(s, `"weight":[`, `"weight":[9`, 1) },
		"json":    func(s string) string { return s[:len(s)/2] },
	} {
		if _, err := Load(strings.NewReader(edit(buf.String()))); err == nil {
			t.Errorf("%s changed: loaded", name)
		}
	}
}

// The model's lift on held-out decisions: trained on the tune set,
// measured on the holdout, against the rules alone. Logged for
// docs/text.md; the test holds only that learning does not make things
// worse.
func TestModelLift(t *testing.T) {
	rules := mustScorer(t)
	md, err := rules.Train(readSet(t, "../../testdata/text/tune.tsv"), TrainOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	learned, _ := New(md)
	hold := readSet(t, "../../testdata/text/holdout.tsv")
	r, l := rules.Evaluate(hold), learned.Evaluate(hold)
	t.Logf("holdout, rules alone:   precision %.3f recall %.3f F1 %.3f", r.All.Precision(), r.All.Recall(), r.All.F1())
	t.Logf("holdout, rules + model: precision %.3f recall %.3f F1 %.3f", l.All.Precision(), l.All.Recall(), l.All.F1())
	if l.All.F1() < r.All.F1()-0.02 {
		t.Errorf("model F1 %.3f below the rules' %.3f", l.All.F1(), r.All.F1())
	}
}

// The built-in model is what go generate makes of the files it names: a
// change of rules or data that leaves it stale fails here.
func TestBuiltinModelIsCurrent(t *testing.T) {
	md, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	var ex []Example
	for _, f := range BuiltinFiles {
		ex = append(ex, readSet(t, "../../"+f)...)
	}
	again, err := mustScorer(t).Train(ex, TrainOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != md.ID || md.Examples != len(ex) {
		t.Fatalf("built-in model %s (%d examples), trained again %s (%d): run go generate ./internal/textrisk", md.ID, md.Examples, again.ID, len(ex))
	}
	if len(md.Thresholds) != len(Surfaces) {
		t.Errorf("built-in model thresholds %v: want one per surface, chosen by cross-validation", md.Thresholds)
	}
	s, err := Open(BuiltinModel)
	if err != nil || s.Thresholds().String() != md.Thresholds.String() {
		t.Errorf("Open(builtin): thresholds %v, %v: want the model's %v", s.Thresholds(), err, md.Thresholds)
	}
}

// A feature hashed in pieces has the index of its whole name, so models
// trained before features were built in pieces read the same.
func TestFeatureHashInPieces(t *testing.T) {
	s := mustScorer(t)
	for _, m := range benchMessages {
		a := s.analyse(m)
		fs := features(m, &a)
		if len(fs) < 5 {
			t.Fatalf("%q: %d features", m.Text, len(fs))
		}
		for _, f := range fs {
			if want := hashFeature(f.name()); f.idx != want {
				t.Errorf("%q: feature %q index %d, its name hashes to %d", m.Text, f.name(), f.idx, want)
			}
		}
	}
	if got := hashFeature("chars:<hel"); got != fnv32a("chars:<hel") {
		t.Errorf("hashFeature differs from hash/fnv's FNV-1a")
	}
}

func fnv32a(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32() & (1<<modelBits - 1)
}

// A word's character 4-grams are those of "<"+word+">".
func TestFeatureCharGrams(t *testing.T) {
	s := mustScorer(t)
	m := Message{Text: "hello", Surface: DM}
	a := s.analyse(m)
	var got []string
	for _, f := range features(m, &a) {
		if f.prefix == "chars:" {
			got = append(got, f.name())
		}
	}
	if want := []string{"chars:<hel", "chars:hell", "chars:ello", "chars:llo>"}; !slices.Equal(got, want) {
		t.Errorf("char grams of hello: %q, want %q", got, want)
	}
}

// A Result shows at most the six strongest contributions, strongest first.
func TestModelTopContributions(t *testing.T) {
	s := mustBuiltin(t)
	r := s.Score(Message{Text: "how old r u? dont tell ur mom, add me on snap and send a pic", Surface: DM, TargetAge: 13})
	if r.Model == nil || len(r.Model.Top) == 0 || len(r.Model.Top) > topContributions {
		t.Fatalf("model part %+v: want 1 to %d contributions", r.Model, topContributions)
	}
	for i := 1; i < len(r.Model.Top); i++ {
		if a, b := r.Model.Top[i-1], r.Model.Top[i]; math.Abs(a.Weight) < math.Abs(b.Weight) {
			t.Errorf("contribution %d %+v weaker than the next %+v", i-1, a, b)
		}
	}
}
