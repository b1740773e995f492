//go:build !unix

package video

import "os"

// peakRSS is unknown where the system keeps no rusage (js/wasm, Windows):
// the browser hasher links this package but never runs ffmpeg.
func peakRSS(*os.ProcessState) int64 { return 0 }
