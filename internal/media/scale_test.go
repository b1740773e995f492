package media

import "testing"

func TestScaleDenom(t *testing.T) {
	for _, c := range []struct{ w, h, min, want int }{
		{4000, 3000, 512, 4},  // 1000x750
		{3000, 4000, 512, 4},  // either way up
		{4096, 4096, 512, 8},  // exactly 512
		{4089, 4089, 512, 8},  // 511.1 rounds up to 512, as libjpeg rounds
		{4088, 4088, 512, 4},  // 511 exactly
		{1280, 800, 512, 1},   // 1/2 would be 400 high
		{1024, 1024, 512, 2},  // 512x512
		{512, 100000, 512, 1}, // short side already at the minimum
		{100, 100, 512, 1},
		{4000, 3000, 256, 8},
		{4000, 3000, 2, 8},
	} {
		if got := ScaleDenom(c.w, c.h, c.min); got != c.want {
			t.Errorf("ScaleDenom(%d, %d, %d) = %d, want %d", c.w, c.h, c.min, got, c.want)
		}
	}
}
