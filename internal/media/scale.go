package media

// scaleDenom is the largest of libjpeg's fast DCT scales, 1/8, 1/4 and
// 1/2, that keeps the shorter side of a w x h image at least minSide
// (libjpeg rounds scaled sides up), or 1 when none does.
func scaleDenom(w, h, minSide int) int {
	short := min(w, h)
	for _, d := range []int{8, 4, 2} {
		if (short+d-1)/d >= minSide {
			return d
		}
	}
	return 1
}
