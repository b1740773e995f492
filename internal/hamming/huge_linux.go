package hamming

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// adviseHuge marks the whole pages within [p, p+size) MADV_HUGEPAGE, for
// systems whose transparent huge pages are set to "madvise" (the Debian
// and Ubuntu default), where the Go runtime does not ask for them. A large
// allocation comes fresh from the kernel and is not yet touched, so the
// pages it faults in are huge ones where 2 MiB of it are aligned. Failure
// only costs speed, so it is ignored. collapse also asks for touched
// pages to be moved into huge ones now (MADV_COLLAPSE, Linux 6.1).
func adviseHuge(p unsafe.Pointer, size uintptr, collapse bool) {
	const page = 4096
	start := (uintptr(p) + page - 1) &^ (page - 1)
	end := (uintptr(p) + size) &^ (page - 1)
	if end <= start {
		return
	}
	b := unsafe.Slice((*byte)(unsafe.Add(p, start-uintptr(p))), end-start)
	_ = unix.Madvise(b, unix.MADV_HUGEPAGE)
	if collapse {
		_ = unix.Madvise(b, unix.MADV_COLLAPSE)
	}
}
