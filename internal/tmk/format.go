package tmk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// FileSize is the length of every .tmk file the reference writes with its
// parameters: a 32-byte header, the periods and coefficients, the average,
// and the cosine and sine features, all little-endian 4-byte values.
const FileSize = 32 + 4*(NumPeriods+NumCoefficients+Dim+2*NumPeriods*NumCoefficients*Dim)

const headerMagic = "TMK1FVECPDQF"

// MarshalBinary writes f as the reference's .tmk file (its
// writeToOutputStream), byte for byte.
func (f *Features) MarshalBinary() ([]byte, error) {
	out := make([]byte, 0, FileSize)
	out = append(out, headerMagic...)
	for _, v := range [...]int32{FramesPerSecond, NumPeriods, NumCoefficients, Dim, int32(min(f.FrameCount, math.MaxInt32))} {
		out = binary.LittleEndian.AppendUint32(out, uint32(v))
	}
	for _, p := range Periods {
		out = binary.LittleEndian.AppendUint32(out, uint32(p))
	}
	floats := func(v []float32) {
		for _, x := range v {
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(x))
		}
	}
	floats(Coefficients[:])
	floats(f.Average[:])
	for _, set := range []*[NumPeriods][NumCoefficients][Dim]float32{&f.Cos, &f.Sin} {
		for i := range set {
			for j := range set[i] {
				floats(set[i][j][:])
			}
		}
	}
	return out, nil
}

// ErrFormat is wrapped by every error UnmarshalBinary returns.
var ErrFormat = errors.New("not a TMK+PDQF .tmk file")

// UnmarshalBinary reads a .tmk file. It accepts only what can be compared
// with our own hashes: TMK1/FVEC/PDQF at 15 fps with the reference's
// periods, coefficients (to 1e-6, as its areCompatible) and dimension, the
// exact length those imply, and finite values. The length is checked
// before anything is decoded, so a hostile header cannot make it allocate.
func (f *Features) UnmarshalBinary(data []byte) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("tmk: %w: %s", ErrFormat, fmt.Sprintf(format, a...))
	}
	if len(data) < 32 {
		return bad("%d bytes is shorter than its 32-byte header", len(data))
	}
	if string(data[:12]) != headerMagic {
		return bad("header starts %q, want %q (only PDQF feature vectors are supported)", printable(data[:12]), headerMagic)
	}
	u32 := func(off int) uint32 { return binary.LittleEndian.Uint32(data[off:]) }
	fps, p, c, d, count := int32(u32(12)), int32(u32(16)), int32(u32(20)), int32(u32(24)), int32(u32(28))
	if fps != FramesPerSecond {
		return bad("made at %d frames a second, want %d", fps, FramesPerSecond)
	}
	if p != NumPeriods || c != NumCoefficients || d != Dim {
		return bad("%d periods, %d coefficients, dimension %d; want %d, %d, %d", p, c, d, NumPeriods, NumCoefficients, Dim)
	}
	if count < 0 {
		return bad("negative frame count %d", count)
	}
	if len(data) != FileSize {
		return bad("%d bytes, want %d", len(data), FileSize)
	}
	off := 32
	for i, want := range Periods {
		if got := int32(u32(off)); got != want {
			return bad("period %d is %d, want %d", i, got, want)
		}
		off += 4
	}
	next := func() float32 {
		v := math.Float32frombits(u32(off))
		off += 4
		return v
	}
	for i, want := range Coefficients {
		got := next()
		if m := max(abs32(got), abs32(want)); !(abs32(got-want) <= 1e-6*m) {
			return bad("Fourier coefficient %d is %g, want %g", i, got, want)
		}
	}
	var g Features
	g.FrameCount = int(count)
	read := func(v []float32, what string) error {
		for k := range v {
			x := next()
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return bad("%s has a non-finite value at %d", what, k)
			}
			v[k] = x
		}
		return nil
	}
	if err := read(g.Average[:], "the average"); err != nil {
		return err
	}
	for _, s := range []struct {
		set  *[NumPeriods][NumCoefficients][Dim]float32
		name string
	}{{&g.Cos, "a cosine feature"}, {&g.Sin, "a sine feature"}} {
		for i := range s.set {
			for j := range s.set[i] {
				if err := read(s.set[i][j][:], s.name); err != nil {
					return err
				}
			}
		}
	}
	*f = g
	return nil
}

func abs32(x float32) float32 { return float32(math.Abs(float64(x))) }

func printable(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			c = '?'
		}
		out[i] = c
	}
	return string(out)
}
