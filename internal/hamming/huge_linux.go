package hamming

import (
	"syscall"
	"unsafe"
)

// adviseHuge asks Linux to back s with 2 MiB pages. Searches read the
// arrays at random; with 4 KiB pages nearly every read of a large index
// also misses the TLB and walks the page tables. Fresh large allocations
// are not yet touched, so the advice takes effect as they are first written.
func adviseHuge[T any](s []T) []T {
	if len(s) == 0 {
		return s
	}
	size := uintptr(len(s)) * unsafe.Sizeof(s[0])
	const huge = 2 << 20
	if size < 2*huge {
		return s
	}
	base := unsafe.Pointer(unsafe.SliceData(s))
	p := uintptr(base)
	skip := (huge - p%huge) % huge
	whole := (size - skip) &^ (huge - 1)
	// Best effort: the kernel may have huge pages turned off.
	_ = syscall.Madvise(unsafe.Slice((*byte)(unsafe.Add(base, skip)), whole), syscall.MADV_HUGEPAGE)
	return s
}
