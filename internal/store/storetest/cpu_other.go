//go:build !unix

package storetest

import "time"

// processCPU is unknown here: benchmarks then report wall-clock time only.
func processCPU() time.Duration { return 0 }
