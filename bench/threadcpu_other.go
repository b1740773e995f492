//go:build !linux

package bench

import "time"

// threadCPU returns -1: the thread's CPU time is read only on Linux.
func threadCPU() time.Duration { return -1 }
