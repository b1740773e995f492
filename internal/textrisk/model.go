package textrisk

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
)

// ModelFormat and ModelVersion identify the serialised model; Load
// refuses any other, so a change of features is a new version, never a
// silent misreading of old weights.
const (
	ModelFormat  = "safeguard-textrisk-model"
	ModelVersion = 1
)

// modelBits is the size of the hashed feature space: 2^18 weights, enough
// that the n-grams of a few hundred thousand decisions rarely collide.
const modelBits = 18

// Model is a logistic regression over the rules' evidence (their score,
// each family's strength, the context) and hashed word and character
// n-grams, trained on reviewers' decisions. It starts from the rules (the
// weight on their score is 1, every other 0) and is pulled back toward
// them by regularisation, so a few decisions nudge the rules rather than
// replace them.
type Model struct {
	ID        string    // a digest of the weights, naming this model in results
	Trained   time.Time // when it was trained
	Examples  int       // decisions it was trained on
	Positives int       // of which confirmed
	// Thresholds are the flagging thresholds per surface chosen for this
	// model by cross-validation when it was trained (TrainOptions.Folds),
	// nil when none were chosen. They are saved with it; the digest (ID)
	// covers the weights only.
	Thresholds Thresholds
	weights    []float32
}

// ModelPart is the learned model's contribution to a Result.
type ModelPart struct {
	ID    string  `json:"id"`
	Score float64 `json:"score"`
	// Top are the features that moved the score most, signed.
	Top []Contribution `json:"top"`
}

// Contribution is one feature's weight times value in a model's score.
type Contribution struct {
	Feature string  `json:"feature"`
	Weight  float64 `json:"weight"`
}

// feature is one input of the model. Its name is prefix+a+sep+b, all
// constants or substrings of the message's tokens, so that scoring builds
// no string: the name is hashed piece by piece (the same FNV-1a as the
// whole name's) and only written out for the contributions a Result shows.
type feature struct {
	idx               uint32
	val               float64
	prefix, a, sep, b string
}

func (f *feature) name() string { return f.prefix + f.a + f.sep + f.b }

const ruleFeature = "rules"

// FNV-1a, 32 bits (hash/fnv's), written out so that a name in pieces
// hashes without being joined.
const (
	fnvOffset = 2166136261
	fnvPrime  = 16777619
)

func fnvAdd(h uint32, s string) uint32 {
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= fnvPrime
	}
	return h
}

func hashFeature(name string) uint32 {
	return fnvAdd(fnvOffset, name) & (1<<modelBits - 1)
}

var ruleIdx = hashFeature(ruleFeature)

// features lists a message's features, for training.
func features(m Message, a *analysis) []feature {
	fs := make([]feature, 0, 8+3*len(a.toks))
	eachFeature(m, a, func(f *feature) { fs = append(fs, *f) })
	return fs
}

// eachFeature calls fn with each of a message's features: the rules'
// evidence by name, the context, and hashed n-grams of its normalised
// words. Scoring walks them without keeping them, so that a message costs
// no allocation here; fn must not keep f.
func eachFeature(m Message, a *analysis, fn func(f *feature)) {
	var f feature
	add4 := func(v float64, prefix, x, sep, y string) {
		h := fnvAdd(fnvAdd(fnvAdd(fnvAdd(fnvOffset, prefix), x), sep), y) & (1<<modelBits - 1)
		f = feature{h, v, prefix, x, sep, y}
		fn(&f)
	}
	add := func(prefix, x string, v float64) { add4(v, prefix, x, "", "") }
	add("bias", "", 1)
	add(ruleFeature, "", logit(a.score))
	for i, v := range a.fam {
		if v > 0 {
			add("family:", families[i].name, v)
		}
	}
	surface := m.Surface
	if surface == "" {
		surface = DM
	}
	add("surface:", string(surface), 1)
	if m.OnChildContent {
		add("context:child-content", "", 1)
	}
	if m.minorTarget() {
		add("context:minor-target", "", 1)
	}
	if m.TargetAge >= 18 {
		add("context:adult-target", "", 1)
	}
	if m.adultToMinor() {
		add("context:adult-to-minor", "", 1)
	}
	if m.minorAuthor() && m.TargetAge > 0 && m.TargetAge < 18 {
		add("context:minor-to-minor", "", 1)
	}
	prev := "^"
	for i := range a.toks {
		w := a.toks[i].text
		if a.toks[i].num >= 0 {
			w = "#"
		}
		add("word:", w, 0.5)
		add4(0.5, "bigram:", prev, " ", w)
		prev = w
		if len(w) >= 4 && w[0] != '<' {
			// The 4-grams of "<"+w+">": the first and last carry the
			// word's edges.
			add4(0.2, "chars:", "<", "", w[:3])
			for j := 1; j+3 <= len(w); j++ {
				add("chars:", w[j-1:j+3], 0.2)
			}
			add4(0.2, "chars:", w[len(w)-3:], "", ">")
		}
	}
}

func logit(p float64) float64 {
	p = min(max(p, 0.0025), 0.9975)
	return math.Log(p / (1 - p))
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func (md *Model) dot(fs []feature) float64 {
	z := 0.0
	for _, f := range fs {
		z += float64(md.weights[f.idx]) * f.val
	}
	return z
}

// topContributions is how many of the features that moved a model's score
// most a Result shows.
const topContributions = 6

func (md *Model) score(m Message, a *analysis) ModelPart {
	// One walk sums the score and keeps the strongest contributions by
	// insertion into a small array; only those few are named (naming every
	// feature over 0.05 was most of the model's allocations).
	z := 0.0
	var top [topContributions]struct {
		f feature
		c float64
	}
	n := 0
	eachFeature(m, a, func(f *feature) {
		c := float64(md.weights[f.idx]) * f.val
		z += c
		if math.Abs(c) < 0.05 || n == len(top) && math.Abs(c) <= math.Abs(top[n-1].c) {
			return
		}
		if n < len(top) {
			n++
		}
		i := n - 1
		for ; i > 0 && math.Abs(top[i-1].c) < math.Abs(c); i-- {
			top[i] = top[i-1]
		}
		top[i].f, top[i].c = *f, c
	})
	p := ModelPart{ID: md.ID, Score: round3(sigmoid(z))}
	if n > 0 {
		p.Top = make([]Contribution, n)
		for i := range n {
			p.Top[i] = Contribution{top[i].f.name(), round3(top[i].c)}
		}
	}
	return p
}

// Example is one reviewed message: Positive when a reviewer confirmed it
// (or the evaluation set labels it harmful), with its label if known.
type Example struct {
	Message
	Label    string // grooming, sextortion, sexual_comment, or "" when harmless
	Positive bool
	Line     int // in the file it was read from
}

// TrainOptions tune training; the zero value gives the defaults.
type TrainOptions struct {
	Epochs int     // passes over the examples; default 12
	Rate   float64 // AdaGrad's base learning rate; default 0.3
	L2     float64 // pull toward the rules per update; default 0.002
	Seed   uint64  // of the shuffle, so training is reproducible
	Now    time.Time
}

// Train fits a Model to examples, starting from the rules of s.
func (s *Scorer) Train(examples []Example, o TrainOptions) (*Model, error) {
	if len(examples) == 0 {
		return nil, errors.New("textrisk: train: no examples")
	}
	pos := 0
	for _, e := range examples {
		if e.Positive {
			pos++
		}
	}
	if pos == 0 || pos == len(examples) {
		return nil, fmt.Errorf("textrisk: train: %d examples, %d confirmed: need both confirmed and dismissed decisions", len(examples), pos)
	}
	if o.Epochs <= 0 {
		o.Epochs = 12
	}
	if o.Rate <= 0 {
		o.Rate = 0.3
	}
	if o.L2 <= 0 {
		o.L2 = 0.002
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	md := &Model{Trained: o.Now.UTC().Truncate(time.Second), Examples: len(examples), Positives: pos,
		weights: make([]float32, 1<<modelBits)}
	md.weights[ruleIdx] = 1
	xs := make([][]feature, len(examples))
	for i, e := range examples {
		a := s.analyse(e.Message)
		xs[i] = features(e.Message, &a)
	}
	g2 := make([]float32, 1<<modelBits)
	order := make([]int, len(xs))
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x7e47))
	for epoch := 0; epoch < o.Epochs; epoch++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			y := 0.0
			if examples[i].Positive {
				y = 1
			}
			err := sigmoid(md.dot(xs[i])) - y
			for _, f := range xs[i] {
				prior := float32(0)
				if f.idx == ruleIdx {
					prior = 1
				}
				g := err*f.val + o.L2*float64(md.weights[f.idx]-prior)
				g2[f.idx] += float32(g * g)
				md.weights[f.idx] -= float32(o.Rate * g / math.Sqrt(float64(g2[f.idx])+1e-8))
			}
		}
	}
	md.ID = md.digest()
	return md, nil
}

func (md *Model) digest() string {
	h := sha256.New()
	var b [8]byte
	for i, w := range md.weights {
		if w != 0 {
			binary.LittleEndian.PutUint32(b[:4], uint32(i))
			binary.LittleEndian.PutUint32(b[4:], math.Float32bits(w))
			h.Write(b[:])
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

type modelFile struct {
	Format    string    `json:"format"`
	Version   int       `json:"version"`
	ID        string    `json:"id"`
	Trained   time.Time `json:"trained"`
	Examples  int       `json:"examples"`
	Positives int       `json:"positives"`
	Bits      int       `json:"bits"`
	// Thresholds is optional (older files lack it): per surface.
	Thresholds Thresholds `json:"thresholds,omitempty"`
	Index      []uint32   `json:"index"`
	Weight     []float32  `json:"weight"`
}

// Save writes the model as JSON: its format and version, provenance, and
// the non-zero weights.
func (md *Model) Save(w io.Writer) error {
	f := modelFile{Format: ModelFormat, Version: ModelVersion, ID: md.ID, Trained: md.Trained,
		Examples: md.Examples, Positives: md.Positives, Bits: modelBits, Thresholds: md.Thresholds, Index: []uint32{}, Weight: []float32{}}
	for i, v := range md.weights {
		if v != 0 {
			f.Index = append(f.Index, uint32(i))
			f.Weight = append(f.Weight, v)
		}
	}
	enc := json.NewEncoder(w)
	return enc.Encode(f)
}

// MaxModelBytes bounds a model file read by Load: every one of the 2^18
// weights written out is under 8 MiB.
const MaxModelBytes = 16 << 20

// Load reads a model Save wrote, refusing other formats and versions and
// weights that are out of range or not finite.
func Load(r io.Reader) (*Model, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxModelBytes+1))
	if err != nil {
		return nil, fmt.Errorf("textrisk: read model: %w", err)
	}
	if len(b) > MaxModelBytes {
		return nil, fmt.Errorf("textrisk: model larger than %d MiB", MaxModelBytes>>20)
	}
	var f modelFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("textrisk: model: %w", err)
	}
	switch {
	case f.Format != ModelFormat:
		return nil, fmt.Errorf("textrisk: model format %q: want %q", truncate(f.Format, 40), ModelFormat)
	case f.Version != ModelVersion:
		return nil, fmt.Errorf("textrisk: model version %d: this build reads version %d; retrain with safeguard text train", f.Version, ModelVersion)
	case f.Bits != modelBits:
		return nil, fmt.Errorf("textrisk: model has 2^%d features: want 2^%d", f.Bits, modelBits)
	case len(f.Index) != len(f.Weight):
		return nil, fmt.Errorf("textrisk: model has %d indices for %d weights", len(f.Index), len(f.Weight))
	}
	for sf, v := range f.Thresholds {
		if !slices.Contains(Surfaces, sf) || !(v > 0 && v <= 1) {
			return nil, fmt.Errorf("textrisk: model threshold %s=%g: want a surface (dm, comment, caption, bio) and a value in (0, 1]", truncate(string(sf), 20), v)
		}
	}
	md := &Model{Trained: f.Trained, Examples: f.Examples, Positives: f.Positives, Thresholds: f.Thresholds, weights: make([]float32, 1<<modelBits)}
	for i, idx := range f.Index {
		w := f.Weight[i]
		if idx >= 1<<modelBits {
			return nil, fmt.Errorf("textrisk: model weight %d: index %d out of range", i, idx)
		}
		if math.IsNaN(float64(w)) || math.IsInf(float64(w), 0) || math.Abs(float64(w)) > 1e3 {
			return nil, fmt.Errorf("textrisk: model weight %d: %s is not a usable weight", i, strconv.FormatFloat(float64(w), 'g', -1, 32))
		}
		md.weights[idx] = w
	}
	md.ID = md.digest()
	if f.ID != "" && f.ID != md.ID {
		return nil, fmt.Errorf("textrisk: model id %q does not match its weights (%s): the file was changed", truncate(f.ID, 40), md.ID)
	}
	return md, nil
}
