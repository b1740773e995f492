// Package vpdq computes and matches vPDQ, Meta's video hash: the PDQ hash of
// every frame (or one frame every so many seconds) of a video, matched
// frame set against frame set.
//
// Hashing follows the reference (facebook/ThreatExchange vpdq/cpp) so that
// hashes agree with lists made by it: the first video stream, each decoded
// frame converted to RGB24 at the video's own size with area scaling and no
// rotation, PDQ of the full-resolution luminance with no 512-pixel
// pre-resize, frame n kept when n % int(secondsPerHash*fps) == 0, timestamp
// n/fps. Decoding is internal/media/video's (ffmpeg in a child process).
//
// Matching follows python-threatexchange's vPDQ matcher, which is what
// Hasher-Matcher-Actioner and its users' lists assume (see Rule); Index
// answers it against many banked videos at once through the Hamming index.
//
// The formats: the reference's text lines (ReadText, WriteText),
// python-threatexchange's signal string (ParseSignal, FormatSignal) and a
// compact binary form for storage (MarshalBinary, UnmarshalBinary).
package vpdq

import "github.com/safeguard-oss/safeguard/internal/pdq"

// Frame is the vPDQ feature of one video frame.
type Frame struct {
	Number    int      // index among the video's decoded frames, from 0
	Quality   int      // PDQ quality, 0..100
	Hash      pdq.Hash // PDQ of the frame
	Timestamp float64  // seconds from the start: Number / frame rate
}
