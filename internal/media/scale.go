package media

// ScaleDenom is the largest of libjpeg's fast DCT scales, 1/8, 1/4 and
// 1/2, that keeps the shorter side of a w x h image at least minSide
// (libjpeg rounds scaled sides up), or 1 when none does.
func ScaleDenom(w, h, minSide int) int {
	short := min(w, h)
	for _, d := range []int{8, 4, 2} {
		if (short+d-1)/d >= minSide {
			return d
		}
	}
	return 1
}

// pdqSide is the side the reference PDQ hasher resizes larger images to,
// by CImg's nearest neighbour: output i reads input floor(i*n/512).
const pdqSide = 512

func pdqSamples(n int) []int {
	s := make([]int, pdqSide)
	for i := range s {
		s[i] = i * n / pdqSide
	}
	return s
}
