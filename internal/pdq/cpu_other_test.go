//go:build !unix

package pdq_test

import "testing"

func reportCPU(_ *testing.B, loop func()) { loop() }
