//go:build unix

package pdq_test

import (
	"syscall"
	"testing"
	"time"
)

// processCPU is the CPU time (user + system) the process has used, which
// other processes on a shared machine disturb far less than the wall clock.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU runs loop and reports its CPU time per iteration as cpu-ns/op.
func reportCPU(b *testing.B, loop func()) {
	start := processCPU()
	loop()
	b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op")
}
