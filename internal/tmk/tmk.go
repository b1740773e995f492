// Package tmk is TMK+PDQF, the video hash of facebook/ThreatExchange's
// tmk/ that NCMEC and StopNCII lists carry beside MD5 and vPDQ: per-frame
// PDQF features (PDQ's DCT before binarisation) of the video resampled to
// 15 fps at 64x64, folded into a pure average and cosine/sine features of a
// temporal match kernel over four periods and 32 Fourier coefficients.
//
// Two videos are compared in two levels, as the reference's
// tmk-two-level-score: level 1 is the cosine similarity of the averages
// (cheap: it culls a bank), level 2 the best time-kernel score over all
// offsets modulo each period. Both must reach 0.7 (the reference's
// validated thresholds for PDQF). The arithmetic follows the reference's
// float32/float64 mix, so that features and scores agree with its files to
// round-off (docs/video.md has the measured tolerances).
package tmk

import (
	"fmt"
	"math"
)

// The reference's parameters (tmkfv.cpp's Poullot periods and
// coefficients, tmkiotypes.h's default rate, PDQF's dimension). Files with
// other parameters cannot be compared with ours, so the reader refuses them.
const (
	FramesPerSecond = 15  // TMK_DEFAULT_FRAMES_PER_SECOND
	FrameSide       = 64  // PDQF's downscale dimension
	Dim             = 256 // a PDQF frame feature: 16x16 DCT coefficients
	NumPeriods      = 4
	NumCoefficients = 32

	// Level1Threshold and Level2Threshold are DEFAULT_LEVEL_{1,2}_THRESHOLD.
	Level1Threshold = 0.7
	Level2Threshold = 0.7
)

// Periods are the Poullot periods, in frames.
var Periods = [NumPeriods]int32{2731, 4391, 9767, 14653}

// Coefficients are the Poullot Fourier coefficients (modified Bessel
// function ratios for beta = 32, tabulated by the reference).
var Coefficients = [NumCoefficients]float32{
	0.0708041893112, 0.13937789309, 0.132897260304,
	0.122765735552, 0.109878684888, 0.09529606433,
	0.0800986647852, 0.0652590650356, 0.0515478238322,
	0.0394851531195, 0.0293374252025, 0.0211492623679,
	0.0147973073245, 0.0100512818746, 0.0066306408014,
	0.00424947117334, 0.0026467615764, 0.00160270959695,
	0.000943882629639, 0.000540841638603, 0.000301633183798,
	0.000163800158855, 8.66454753015e-05, 4.46626303151e-05,
	2.24429442235e-05, 1.09982139799e-05, 5.25823487999e-06,
	2.45358229988e-06, 1.11781474895e-06, 4.97406489221e-07,
	2.16265487234e-07, 9.19087006565e-08,
}

// pairScoreNormalizer is the largest level-2 kernel value: a0 + 2·Σ aj.
var pairScoreNormalizer = func() float32 {
	n := Coefficients[0]
	for _, c := range Coefficients[1:] {
		n += float32(2.0 * float64(c))
	}
	return n
}()

// Features are one video's TMK+PDQF feature vectors, as a .tmk file holds
// them.
type Features struct {
	// FrameCount is how many resampled frames went in (informational).
	FrameCount int
	Average    [Dim]float32 // the pure average of the frame features
	// Cos and Sin are indexed [period][coefficient]; Sin[p][0] is zero.
	Cos, Sin [NumPeriods][NumCoefficients][Dim]float32
}

// Builder accumulates frame features into Features, one frame at a time, so
// a video of any length costs the same memory.
type Builder struct {
	f Features
}

// Add ingests the next frame's PDQF feature.
func (b *Builder) Add(feature *[16][16]float32) {
	f := &b.f
	var n [Dim]float32
	for r := range feature {
		copy(n[r*16:(r+1)*16], feature[r][:])
	}
	for k, v := range n {
		f.Average[k] += v
	}
	normalize(n[:])
	t := float64(f.FrameCount)
	for i, period := range Periods {
		c0 := &f.Cos[i][0]
		for k, v := range n {
			c0[k] += v
		}
		for j := 1; j < NumCoefficients; j++ {
			arg := 2.0 * math.Pi * float64(j) * t / float64(period)
			ca, sa := math.Cos(arg), math.Sin(arg)
			cj, sj := &f.Cos[i][j], &f.Sin[i][j]
			for k, v := range n {
				cj[k] = float32(float64(cj[k]) + float64(v)*ca)
				sj[k] = float32(float64(sj[k]) + float64(v)*sa)
			}
		}
	}
	f.FrameCount++
}

// Features finishes the accumulation (the reference's
// finishFrameFeatureIngest) and returns the result; the Builder is spent.
func (b *Builder) Features() *Features {
	f := &b.f
	if f.FrameCount > 0 {
		count := float32(f.FrameCount)
		for k := range f.Average {
			f.Average[k] /= count
		}
		for i := range Periods {
			for j, c := range Coefficients {
				s := float32(math.Sqrt(float64(c)))
				normalize(f.Cos[i][j][:])
				normalize(f.Sin[i][j][:])
				scale(f.Cos[i][j][:], s)
				scale(f.Sin[i][j][:], s)
			}
		}
	}
	out := *f
	return &out
}

// norm is the reference's computeNorm: a float32 sum of squares.
func norm(v []float32) float32 {
	var sum float32
	for _, e := range v {
		sum += e * e
	}
	return float32(math.Sqrt(float64(sum)))
}

func normalize(v []float32) {
	if n := norm(v); n > 0 {
		for i := range v {
			v[i] /= n
		}
	}
}

func scale(v []float32, s float32) {
	for i := range v {
		v[i] *= s
	}
}

func dot(u, v []float32) float32 {
	var sum float32
	for i := range u {
		sum += u[i] * v[i]
	}
	return sum
}

// cosine is the reference's computeCosSim (0 when both are zero).
func cosine(u, v []float32) float32 {
	nu, nv := norm(u), norm(v)
	if nu == 0 && nv == 0 {
		return 0
	}
	return dot(u, v) / (nu * nv)
}

// Level1 is the cosine similarity of the two videos' pure averages, in
// [-1, 1].
func Level1(a, b *Features) float32 { return cosine(a.Average[:], b.Average[:]) }

// Level2 is the reference's computeLevel2Score: for each period the best
// time-kernel value over every offset, the largest of those, over the
// largest possible, so 1 for a video against itself.
func Level2(a, b *Features) float32 {
	var best float32
	for i, period := range Periods {
		var cc, ss, sc, cs [NumCoefficients]float32
		for j := range Coefficients {
			ac, as, bc, bs := a.Cos[i][j][:], a.Sin[i][j][:], b.Cos[i][j][:], b.Sin[i][j][:]
			cc[j], ss[j], sc[j], cs[j] = dot(ac, bc), dot(as, bs), dot(as, bc), dot(ac, bs)
		}
		var periodBest float32
		for offset := range period {
			// The reference steps cos(jδ), sin(jδ) by the addition
			// formulae (Numerical Recipes' incremental form) rather than
			// calling cos and sin per term; so do we, in its float32.
			alpha, beta := steps[i][0][offset], steps[i][1][offset]
			cosJD, sinJD := float32(1), float32(0)
			k := cc[0]
			for j := 1; j < NumCoefficients; j++ {
				nc := alpha*cosJD + beta*sinJD
				ns := alpha*sinJD - beta*cosJD
				cosJD -= nc
				sinJD -= ns
				k += cosJD * (cc[j] + ss[j])
				k += sinJD * (sc[j] - cs[j])
			}
			if offset == 0 || k > periodBest {
				periodBest = k
			}
		}
		if i == 0 || periodBest > best {
			best = periodBest
		}
	}
	return best / pairScoreNormalizer
}

// steps holds, for each period and offset, the reference's alpha =
// 2·sin²(δ/2) and beta = sin(δ) of δ = 2π·offset/period, in its float32:
// they depend on nothing else, and the sines were half of Level2's time.
var steps = func() (s [NumPeriods][2][]float32) {
	for i, period := range Periods {
		s[i][0], s[i][1] = make([]float32, period), make([]float32, period)
		for offset := range period {
			delta := float32(2.0 * math.Pi * float64(float32(offset)) / float64(float32(period)))
			alpha := float32(math.Sin(float64(delta / 2)))
			s[i][0][offset] = 2 * alpha * alpha
			s[i][1][offset] = float32(math.Sin(float64(delta)))
		}
	}
	return s
}()

// Score is a comparison of two videos.
type Score struct {
	Level1, Level2 float32
	Match          bool // both levels at or above their thresholds
}

// Compare scores a against b as tmk-two-level-score does: level 2 is only
// computed when level 1 reaches its threshold (it costs ~1,000 times more).
func Compare(a, b *Features) Score {
	s := Score{Level1: Level1(a, b)}
	if s.Level1 >= Level1Threshold {
		s.Level2 = Level2(a, b)
		s.Match = s.Level2 >= Level2Threshold
	}
	return s
}

func (s Score) String() string {
	return fmt.Sprintf("level1 %.6f level2 %.6f match %t", s.Level1, s.Level2, s.Match)
}
