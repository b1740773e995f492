package bank

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/safeguard-oss/safeguard/internal/vpdq"
)

// MaxVPDQFrames bounds the frames of one vPDQ entry: 2 h 46 min at one frame
// a second (how python-threatexchange and HMA hash), about 360 KiB stored.
// It keeps an entry's hex within MaxLine, so that every export can be read
// back; an every-frame hash of a longer video should be re-hashed at one
// frame a second.
const MaxVPDQFrames = 10_000

// VPDQValue is the entry value of a video's frame hashes.
func VPDQValue(frames []vpdq.Frame) (string, error) {
	if len(frames) == 0 {
		return "", errors.New("vpdq: no frames")
	}
	if len(frames) > MaxVPDQFrames {
		return "", fmt.Errorf("vpdq: %d frames, more than an entry holds (%d): hash the video at one frame a second", len(frames), MaxVPDQFrames)
	}
	return hex.EncodeToString(vpdq.MarshalBinary(frames)), nil
}

// VPDQFrames decodes the frames of a normalised vPDQ entry value.
func VPDQFrames(value string) ([]vpdq.Frame, error) {
	raw, err := hex.DecodeString(value)
	if err != nil {
		return nil, fmt.Errorf("vpdq value: %w", err)
	}
	return vpdq.UnmarshalBinary(raw)
}

// parseVPDQ normalises a vPDQ value: the hex of the binary form, or
// python-threatexchange's signal string (a JSON array of
// "pdqHex,quality,timestamp"), which HMA's CSV carries as signal_str.
func parseVPDQ(v string) (string, error) {
	v = strings.TrimSpace(v)
	var frames []vpdq.Frame
	var err error
	if strings.HasPrefix(v, "[") {
		frames, err = vpdq.ParseSignal(v)
	} else {
		if len(v) > 2*(8+MaxVPDQFrames*45) {
			return "", fmt.Errorf("vpdq value: %d characters, more than %d frames take", len(v), MaxVPDQFrames)
		}
		frames, err = VPDQFrames(v)
	}
	if err != nil {
		return "", err
	}
	return VPDQValue(frames)
}

// referenceLine is the first line of a vpdq-hash-video output file.
var referenceLine = regexp.MustCompile(`^\d+,\d+,[0-9a-fA-F]{64},\d+(\.\d+)?\r?$`)

// IsVPDQFile reports whether a file's first bytes are one video's vPDQ hash:
// the reference's text (frameNumber,quality,pdqHex,timestamp lines) or
// python-threatexchange's signal string.
func IsVPDQFile(head []byte) bool {
	head = bytes.TrimLeft(bytes.TrimPrefix(head, utf8BOM), " \t\r\n")
	if bytes.HasPrefix(head, []byte(`["`)) {
		return true
	}
	line, _, _ := bytes.Cut(head, []byte("\n"))
	return referenceLine.Match(line)
}

// ReadVPDQFile reads one video's vPDQ hash in either form IsVPDQFile
// recognises, as one entry.
func ReadVPDQFile(r io.Reader) (Entry, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxVPDQFrames*128+1))
	if err != nil {
		return Entry{}, err
	}
	if len(data) > MaxVPDQFrames*128 {
		return Entry{}, fmt.Errorf("vpdq file: longer than %d frames could take", MaxVPDQFrames)
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	var frames []vpdq.Frame
	if t := bytes.TrimSpace(data); bytes.HasPrefix(t, []byte("[")) {
		frames, err = vpdq.ParseSignal(string(t))
	} else {
		frames, err = vpdq.ReadText(bytes.NewReader(data))
	}
	if err != nil {
		return Entry{}, err
	}
	v, err := VPDQValue(frames)
	if err != nil {
		return Entry{}, err
	}
	return Entry{Signal: VPDQ, Value: v}, nil
}

// VideoEntries are the entries of a video hashed here: the MD5 and SHA-256
// of its file, which hotlines (NCMEC) share for videos, and its vPDQ when
// some frame reaches the match rule's quality (a video of flat frames can
// match nothing by vPDQ; python-threatexchange refuses to bank it too).
func VideoEntries(frames []vpdq.Frame, md5 [16]byte, sha256 [32]byte) ([]Entry, error) {
	es := []Entry{
		{Signal: MD5, Value: hex.EncodeToString(md5[:])},
		{Signal: SHA256, Value: hex.EncodeToString(sha256[:])},
	}
	if len(vpdq.DefaultRule.Prepare(frames)) == 0 {
		return es, nil
	}
	v, err := VPDQValue(frames)
	if err != nil {
		return nil, err
	}
	return append([]Entry{{Signal: VPDQ, Value: v}}, es...), nil
}
