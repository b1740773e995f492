//go:build !linux

package hamming

import "unsafe"

// adviseHuge does nothing where the kernel's huge pages are not asked for
// with madvise.
func adviseHuge(unsafe.Pointer, uintptr, bool) {}
