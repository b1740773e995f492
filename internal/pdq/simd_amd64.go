//go:build amd64 && !purego

package pdq

import "golang.org/x/sys/cpu"

// useSIMD says whether the AVX2 kernels of simd_amd64.s run the pixel
// passes. They do exactly the float32 operations of the Go code, element by
// element and in the same order (additions, subtractions, products and
// correctly rounded divisions; no fused multiply-add), so the hashes are
// the same bit for bit; TestSIMDMatchesGo and FuzzSIMDMatchesGo check it.
// The pure-Go code stays the reference: other architectures, WebAssembly
// (the browser hasher), CPUs without AVX2 and the purego build tag use it.
var useSIMD = cpu.X86.HasAVX2

// addSubAVX2 sets sums[j] = (sums[j] + add[j]) - sub[j] for j < n, a
// multiple of 8.
//
//go:noescape
func addSubAVX2(sums, add, sub *float32, n int)

// addAVX2 sets sums[j] += add[j] for j < n, a multiple of 8.
//
//go:noescape
func addAVX2(sums, add *float32, n int)

// subAVX2 sets sums[j] -= sub[j] for j < n, a multiple of 8.
//
//go:noescape
func subAVX2(sums, sub *float32, n int)

// divAVX2 sets out[j] = sums[j] / div for j < n, a multiple of 8.
//
//go:noescape
func divAVX2(out, sums *float32, div float32, n int)

// transposeAVX2 transposes n blocks of 8x8 floats: block b reads row k
// (8 floats) at src[k] + b*srcStep bytes and writes its column k at
// dst[k] + b*dstStep bytes.
//
//go:noescape
func transposeAVX2(dst *[8]*float32, dstStep int, src *[8]*float32, srcStep int, n int)

// boxAVX2 runs the box filter along 8 rows at once on their interleaved
// columns (column c of the 8 rows is the 8 floats at in + (window+c)*32
// bytes, with window columns of zeros before the first and half-1 after
// the last): for t < steps, s = (s + column t+window) - column t, and from
// t = emitFrom on, output oi = t - emitFrom goes, divided by divs[oi], to
// out + dst[oi]*32 bytes unless dst[oi] < 0.
//
//go:noescape
func boxAVX2(in, out *float32, dst *int32, divs *float32, steps, window, emitFrom int)

// lumaAVX2 sets out[j] = (0.299 R + 0.587 G) + 0.114 B, each product in
// float32, for the n (a multiple of 8) little-endian RGBA pixels at pix;
// out may be pix itself.
//
//go:noescape
func lumaAVX2(out *float32, pix *byte, n int, cr, cg, cb float32)

// mulAccAVX2 sets out[j] = sum over kk < k of float32(coef[kk] * m[kk*n+j]),
// added in order of kk from 0, for j < n, a multiple of 8.
//
//go:noescape
func mulAccAVX2(out, coef, m *float32, k, n int)
