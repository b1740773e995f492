//go:build !amd64 || purego

package pdq

// useSIMD is false where there are no assembly kernels: the pure-Go code
// does all the work (see simd_amd64.go).
const useSIMD = false

func addSubAVX2(sums, add, sub *float32, n int)      { panic("no SIMD") }
func addAVX2(sums, add *float32, n int)              { panic("no SIMD") }
func subAVX2(sums, sub *float32, n int)              { panic("no SIMD") }
func divAVX2(out, sums *float32, div float32, n int) { panic("no SIMD") }
func transposeAVX2(dst *[8]*float32, dstStep int, src *[8]*float32, srcStep int, n int) {
	panic("no SIMD")
}
func boxAVX2(in, out *float32, dst *int32, divs *float32, steps, window, emitFrom int) {
	panic("no SIMD")
}
func lumaAVX2(out *float32, pix *byte, n int, cr, cg, cb float32) { panic("no SIMD") }
func mulAccAVX2(out, coef, m *float32, k, n int)                  { panic("no SIMD") }
