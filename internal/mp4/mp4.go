// Package mp4 reads, from an MP4 (ISO BMFF) movie box, when each frame of
// the first video track is shown, and the frame rate ffmpeg reports for
// it (avg_frame_rate). Report Remove's page needs both to sample the
// frames the server's vPDQ keeps (frame n when n % int(fps) == 0, at
// n/fps), since a browser tells a page neither. The box is outside input:
// every count and size is checked against the bytes present before
// anything is allocated. It imports nothing of ours, so the WebAssembly
// hasher can use it.
package mp4

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// MaxMoov is the largest movie box read: a sample table of MaxFrames
// frames takes well under it.
const MaxMoov = 64 << 20

// MaxFrames is the most frames a track may have (four hours at 60 fps).
const MaxFrames = 4 * 3600 * 60

// Track is the first video track's timing.
type Track struct {
	Timescale uint32
	// Times are the frames' presentation times in seconds, in the order
	// they are shown (ffmpeg's frame numbers), edit list applied.
	Times []float64
	// FrameRate is frames over the stts duration, ffmpeg's avg_frame_rate
	// for MP4 (libavformat's mov demuxer computes it so).
	FrameRate float64
}

// ErrNoVideo says the movie has no video track with samples.
var ErrNoVideo = errors.New("mp4: no video track with frames")

// box is one box's type and payload.
type box struct {
	typ  string
	data []byte
}

// children splits b into its boxes.
func children(b []byte) ([]box, error) {
	var out []box
	for len(b) > 0 {
		if len(b) < 8 {
			return nil, fmt.Errorf("mp4: %d stray bytes after the last box", len(b))
		}
		size, hdr := uint64(binary.BigEndian.Uint32(b)), uint64(8)
		typ := string(b[4:8])
		switch size {
		case 0:
			size = uint64(len(b))
		case 1:
			if len(b) < 16 {
				return nil, fmt.Errorf("mp4: box %q cut short", typ)
			}
			size, hdr = binary.BigEndian.Uint64(b[8:]), 16
		}
		if size < hdr || size > uint64(len(b)) {
			return nil, fmt.Errorf("mp4: box %q of %d bytes where %d remain", typ, size, len(b))
		}
		out = append(out, box{typ, b[hdr:size]})
		b = b[size:]
	}
	return out, nil
}

func child(bs []box, typ string) []byte {
	for _, b := range bs {
		if b.typ == typ {
			return b.data
		}
	}
	return nil
}

// path follows typs down from b, or nil.
func path(b []byte, typs ...string) ([]byte, error) {
	for _, t := range typs {
		bs, err := children(b)
		if err != nil {
			return nil, err
		}
		if b = child(bs, t); b == nil {
			return nil, nil
		}
	}
	return b, nil
}

// table checks a full box of n entries of size bytes after its 8-byte
// header (version, flags, count) and returns the entries and the version.
func table(b []byte, name string, size int) ([]byte, uint8, error) {
	if len(b) < 8 {
		return nil, 0, fmt.Errorf("mp4: %s box cut short", name)
	}
	n := uint64(binary.BigEndian.Uint32(b[4:]))
	if n > uint64(len(b)-8)/uint64(size) {
		return nil, 0, fmt.Errorf("mp4: %s box claims %d entries in %d bytes", name, n, len(b)-8)
	}
	return b[8 : 8+n*uint64(size)], b[0], nil
}

// Parse reads the movie box's payload or whole box (moov, as the file
// holds it) and returns its first video track's timing.
func Parse(moov []byte) (Track, error) {
	if len(moov) > MaxMoov {
		return Track{}, fmt.Errorf("mp4: movie box of %d bytes, more than %d", len(moov), MaxMoov)
	}
	if len(moov) >= 8 && string(moov[4:8]) == "moov" {
		bs, err := children(moov)
		if err != nil {
			return Track{}, err
		}
		moov = bs[0].data
	}
	top, err := children(moov)
	if err != nil {
		return Track{}, err
	}
	for _, t := range top {
		if t.typ != "trak" {
			continue
		}
		hdlr, err := path(t.data, "mdia", "hdlr")
		if err != nil {
			return Track{}, err
		}
		if len(hdlr) < 12 || string(hdlr[8:12]) != "vide" {
			continue
		}
		return track(t.data)
	}
	return Track{}, ErrNoVideo
}

func track(trak []byte) (Track, error) {
	var tr Track
	mdhd, err := path(trak, "mdia", "mdhd")
	if err != nil {
		return tr, err
	}
	switch {
	case len(mdhd) >= 24 && mdhd[0] == 1:
		tr.Timescale = binary.BigEndian.Uint32(mdhd[20:])
	case len(mdhd) >= 16 && mdhd[0] == 0:
		tr.Timescale = binary.BigEndian.Uint32(mdhd[12:])
	}
	if tr.Timescale == 0 {
		return tr, errors.New("mp4: video track with no media header or time scale")
	}
	stbl, err := path(trak, "mdia", "minf", "stbl")
	if err != nil {
		return tr, err
	}
	if stbl == nil {
		return tr, ErrNoVideo
	}
	bs, err := children(stbl)
	if err != nil {
		return tr, err
	}
	stts, _, err := table(child(bs, "stts"), "stts", 8)
	if err != nil {
		return tr, err
	}
	// Decoding times, from the run lengths; the count is bounded before
	// the times are allocated.
	var frames, duration uint64
	for e := stts; len(e) > 0; e = e[8:] {
		n, d := uint64(binary.BigEndian.Uint32(e)), uint64(binary.BigEndian.Uint32(e[4:]))
		if frames += n; frames > MaxFrames {
			return tr, fmt.Errorf("mp4: more than %d frames", MaxFrames)
		}
		duration += n * d
	}
	if frames == 0 {
		return tr, ErrNoVideo
	}
	pts := make([]int64, 0, frames)
	var dts int64
	for e := stts; len(e) > 0; e = e[8:] {
		n, d := binary.BigEndian.Uint32(e), int64(binary.BigEndian.Uint32(e[4:]))
		for range n {
			pts = append(pts, dts)
			dts += d
		}
	}
	// Composition offsets (B-frames: shown in another order than decoded).
	if b := child(bs, "ctts"); b != nil {
		ctts, version, err := table(b, "ctts", 8)
		if err != nil {
			return tr, err
		}
		i := 0
		for e := ctts; len(e) > 0 && i < len(pts); e = e[8:] {
			n, raw := int(binary.BigEndian.Uint32(e)), binary.BigEndian.Uint32(e[4:])
			off := int64(raw)
			if version == 1 {
				off = int64(int32(raw))
			}
			for ; n > 0 && i < len(pts); n, i = n-1, i+1 {
				pts[i] += off
			}
		}
	}
	// The edit list's first media edit says which media time is shown at
	// 0 (ffmpeg's files start at the first B-frame delay).
	elst, err := path(trak, "edts", "elst")
	if err != nil {
		return tr, err
	}
	var shift int64
	if len(elst) >= 1 {
		size := 12
		if elst[0] == 1 {
			size = 20
		}
		es, version, err := table(elst, "elst", size)
		if err != nil {
			return tr, err
		}
		for e := es; len(e) > 0; e = e[size:] {
			mt := int64(int32(binary.BigEndian.Uint32(e[4:])))
			if version == 1 {
				mt = int64(binary.BigEndian.Uint64(e[8:]))
			}
			if mt >= 0 {
				shift = mt
				break
			}
		}
	}
	slices.Sort(pts)
	tr.Times = make([]float64, 0, len(pts))
	for _, p := range pts {
		if p-shift >= 0 { // before the edit: not shown, and ffmpeg does not count it
			tr.Times = append(tr.Times, float64(p-shift)/float64(tr.Timescale))
		}
	}
	if len(tr.Times) == 0 || duration == 0 {
		return tr, ErrNoVideo
	}
	tr.FrameRate = float64(uint64(tr.Timescale)*frames) / float64(duration)
	return tr, nil
}
