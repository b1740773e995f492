package video

import "bytes"

// SniffLen is how many leading bytes Sniff needs at most.
const SniffLen = 512

// Sniff reports whether the leading bytes of a file look like a video
// container ffmpeg reads: ISO BMFF (MP4, MOV, 3GP), Matroska/WebM, AVI,
// FLV, MPEG program and transport streams, ASF/WMV, Ogg and YUV4MPEG2. It
// decides by content, never by file name; ffprobe has the last word.
func Sniff(head []byte) bool {
	h := head[:min(len(head), SniffLen)]
	switch {
	case len(h) >= 12 && string(h[4:8]) == "ftyp":
		return true
	case len(h) >= 8 && (string(h[4:8]) == "moov" || string(h[4:8]) == "mdat" || string(h[4:8]) == "wide" || string(h[4:8]) == "free"):
		return true // QuickTime files without an ftyp box
	case bytes.HasPrefix(h, []byte{0x1a, 0x45, 0xdf, 0xa3}): // EBML: Matroska, WebM
		return true
	case len(h) >= 12 && string(h[:4]) == "RIFF" && string(h[8:12]) == "AVI ":
		return true
	case bytes.HasPrefix(h, []byte("FLV\x01")):
		return true
	case bytes.HasPrefix(h, []byte{0, 0, 1, 0xba}), bytes.HasPrefix(h, []byte{0, 0, 1, 0xb3}): // MPEG-PS, MPEG-1/2 video
		return true
	case bytes.HasPrefix(h, []byte{0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11}): // ASF
		return true
	case bytes.HasPrefix(h, []byte("OggS")):
		return true
	case bytes.HasPrefix(h, []byte("YUV4MPEG2 ")):
		return true
	case len(h) >= 377 && h[0] == 0x47 && h[188] == 0x47 && h[376] == 0x47: // MPEG-TS packets
		return true
	}
	return false
}
