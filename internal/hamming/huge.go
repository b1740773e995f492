package hamming

import "unsafe"

// hugeMin is the size from which an array is worth huge pages: a search
// reads its codes, postings and directories at random, and with 4 KiB
// pages nearly every such read in a multi-gigabyte index also misses the
// TLB (docs/hamming.md, "Huge pages").
const hugeMin = 4 << 20

// hugeSlice returns a zeroed slice of n T, asking the kernel to back it
// with huge pages when it is large (see adviseHuge).
func hugeSlice[T any](n int) []T {
	s := make([]T, n)
	var zero T
	if size := uintptr(n) * unsafe.Sizeof(zero); size >= hugeMin {
		adviseHuge(unsafe.Pointer(unsafe.SliceData(s)), size, false)
	}
	return s
}

// collapseHuge asks for huge pages for an array already written, when it
// is large: the kernel copies it into them now (MADV_COLLAPSE), 2 MiB at a
// time, rather than leave it to the background khugepaged, which takes
// minutes for a gigabyte.
func collapseHuge(p unsafe.Pointer, size uintptr) {
	if size >= hugeMin {
		adviseHuge(p, size, true)
	}
}
