//go:build js && wasm

package hasher

// videoOptions is empty in the browser hasher, which hashes photos only:
// neither ffmpeg's driver nor vPDQ is built into it (see video.go).
type videoOptions struct{}
