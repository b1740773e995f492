package tmk

import (
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"
)

func TestUnmarshalRejects(t *testing.T) {
	_, good := readRef(t, "chair-20-sd-bar")
	edit := func(f func(b []byte) []byte) []byte {
		return f(append([]byte(nil), good...))
	}
	put := func(off int, v uint32) []byte {
		return edit(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[off:], v); return b })
	}
	for _, c := range []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "shorter than its 32-byte header"},
		{"vPDQ magic", edit(func(b []byte) []byte { copy(b, "vPQ1"); return b }), "header starts"},
		{"other algorithm", edit(func(b []byte) []byte { copy(b[8:], "XXXX"); return b }), "only PDQF"},
		{"fps", put(12, 30), "30 frames a second"},
		{"periods", put(16, 1<<30), "1073741824 periods"},
		{"dimension", put(24, 0xffffffff), "dimension -1"},
		{"negative count", put(28, 0x80000000), "negative frame count"},
		{"truncated", good[:len(good)-1], "263343 bytes"},
		{"extra", append(append([]byte(nil), good...), 0), "263345 bytes"},
		{"period value", put(32, 2732), "period 0 is 2732"},
		{"coefficient", put(48+4, math.Float32bits(0.14)), "Fourier coefficient 1"},
		{"NaN", put(FileSize-4, 0x7fc00000), "non-finite"},
	} {
		var f Features
		err := f.UnmarshalBinary(c.in)
		if err == nil || !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an ErrFormat saying %q", c.name, err, c.want)
		}
	}
}

// TestBuilder: a video against itself scores 1 at both levels; a video
// against the same frames shifted in time still matches at level 2 (the
// kernel's point), and against unrelated frames it does not.
func TestBuilder(t *testing.T) {
	frame := func(seed, t int) *[16][16]float32 {
		var f [16][16]float32
		for i := range f {
			for j := range f[i] {
				k := float64(i*16 + j + 1)
				f[i][j] = float32(math.Sin(float64(seed)*k) + 0.5*math.Sin(float64(t)/15+k)*math.Cos(float64(seed)*k/3))
			}
		}
		return &f
	}
	build := func(seed, start, n int) *Features {
		var b Builder
		for t := start; t < start+n; t++ {
			b.Add(frame(seed, t))
		}
		return b.Features()
	}
	a := build(1, 0, 300)
	if s := Compare(a, a); !s.Match || math.Abs(float64(s.Level1)-1) > 1e-5 || math.Abs(float64(s.Level2)-1) > 1e-4 {
		t.Errorf("self: %v", s)
	}
	shifted := build(1, 100, 300)
	if s := Compare(a, shifted); !s.Match {
		t.Errorf("shifted by 100 frames: %v", s)
	}
	other := build(7, 0, 300)
	if s := Compare(a, other); s.Match {
		t.Errorf("unrelated: %v", s)
	}
	var empty Builder
	if f := empty.Features(); f.FrameCount != 0 || Level1(f, f) != 0 {
		t.Errorf("empty video: %d frames, level 1 %g", f.FrameCount, Level1(f, f))
	}
}
