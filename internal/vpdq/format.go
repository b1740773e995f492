package vpdq

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/safeguard-oss/safeguard/internal/pdq"
)

// MaxFrames bounds how many frames a parsed hash may hold: two hours of
// every-frame hashes at 60 fps. Lists from outside are hostile, and one
// video's hash must fit comfortably in memory.
const MaxFrames = 2 * 3600 * 60

// maxLine bounds one line of the reference's text format; a real line is
// about 80 bytes.
const maxLine = 256

// maxTimestamp bounds a timestamp: a day of video.
const maxTimestamp = 86400

// WriteText writes frames in the reference's text format, one line a frame:
// frameNumber,quality,pdqHex,timestampSeconds with 3 decimals, as
// vpdq-hash-video prints them.
func WriteText(w io.Writer, frames []Frame) error {
	bw := bufio.NewWriter(w)
	var line []byte
	for _, f := range frames {
		line = strconv.AppendInt(line[:0], int64(f.Number), 10)
		line = append(line, ',')
		line = strconv.AppendInt(line, int64(f.Quality), 10)
		line = append(line, ',')
		line = append(line, f.Hash.String()...)
		line = append(line, ',')
		line = strconv.AppendFloat(line, f.Timestamp, 'f', 3, 64)
		line = append(line, '\n')
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// ReadText reads the reference's text format. Blank lines are skipped;
// any other line must have the four fields, valid, or the error names the
// line.
func ReadText(r io.Reader) ([]Frame, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, maxLine), maxLine)
	var frames []Frame
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		f, err := parseTextLine(line)
		if err != nil {
			return nil, fmt.Errorf("vpdq text line %d: %w", n, err)
		}
		if len(frames) == MaxFrames {
			return nil, fmt.Errorf("vpdq text: more than %d frames", MaxFrames)
		}
		frames = append(frames, f)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("vpdq text: a line is longer than %d bytes", maxLine)
		}
		return nil, fmt.Errorf("vpdq text: %w", err)
	}
	if len(frames) == 0 {
		return nil, errors.New("vpdq text: no frames")
	}
	return frames, nil
}

func parseTextLine(line string) (Frame, error) {
	fields := strings.Split(line, ",")
	if len(fields) != 4 {
		return Frame{}, fmt.Errorf("want 4 comma-separated fields (frame,quality,hash,timestamp), got %d", len(fields))
	}
	num, err := strconv.Atoi(strings.TrimSpace(fields[0]))
	if err != nil || num < 0 || num > math.MaxInt32 {
		return Frame{}, fmt.Errorf("frame number %q is not a non-negative integer", fields[0])
	}
	f, err := parseFeature(fields[2], fields[1], fields[3])
	f.Number = num
	return f, err
}

// parseFeature checks and converts the fields both text forms share.
func parseFeature(hexs, quality, timestamp string) (Frame, error) {
	h, err := pdq.ParseHex(strings.TrimSpace(hexs))
	if err != nil {
		return Frame{}, fmt.Errorf("hash %q: %w", hexs, err)
	}
	q, err := strconv.Atoi(strings.TrimSpace(quality))
	if err != nil || q < 0 || q > 100 {
		return Frame{}, fmt.Errorf("quality %q is not an integer 0..100", quality)
	}
	t, err := strconv.ParseFloat(strings.TrimSpace(timestamp), 64)
	if err != nil || !(t >= 0 && t <= maxTimestamp) {
		return Frame{}, fmt.Errorf("timestamp %q is not a number of seconds 0..%d", timestamp, maxTimestamp)
	}
	return Frame{Quality: q, Hash: h, Timestamp: t}, nil
}

// FormatSignal gives python-threatexchange's vPDQ signal string: a JSON
// array of "pdqHex,quality,timestamp", the timestamp formatted as Python's
// f"{t:.3}" does (three significant digits, so 12.333 is "12.3" and 100.0
// is "1e+02": that is what Hasher-Matcher-Actioner stores and exchanges).
// The signal string carries no frame numbers.
func FormatSignal(frames []Frame) string {
	items := make([]string, len(frames))
	for i, f := range frames {
		items[i] = f.Hash.String() + "," + strconv.Itoa(f.Quality) + "," + pyFormat3(f.Timestamp)
	}
	b, _ := json.Marshal(items) // strings of hex, digits and punctuation cannot fail
	return strings.ReplaceAll(string(b), `","`, `", "`)
}

// pyFormat3 is Python's format(x, ".3") for a finite non-negative float:
// 3 significant digits; fixed notation, with at least one digit after the
// point, when the decimal exponent is -4..1, else exponent notation (CPython
// adds ".0" in fixed notation and so moves to exponents one decade sooner
// than %g: 150.0 is "1.5e+02").
func pyFormat3(x float64) string {
	e := strconv.FormatFloat(x, 'e', 2, 64) // d.dde±XX, correctly rounded
	mant, exps, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(exps)
	if exp >= -4 && exp < 2 {
		s := strconv.FormatFloat(x, 'f', 2-exp, 64)
		if strings.Contains(s, ".") {
			s = strings.TrimRight(s, "0")
		}
		if strings.HasSuffix(s, ".") || !strings.Contains(s, ".") {
			s = strings.TrimSuffix(s, ".") + ".0"
		}
		return s
	}
	if strings.Contains(mant, ".") {
		mant = strings.TrimSuffix(strings.TrimRight(mant, "0"), ".")
	}
	sign := "+"
	if exp < 0 {
		sign, exp = "-", -exp
	}
	return fmt.Sprintf("%se%s%02d", mant, sign, exp)
}

// ParseSignal reads python-threatexchange's vPDQ signal string. Frames get
// their position in the array as Number, since the string has none.
func ParseSignal(s string) ([]Frame, error) {
	if len(s) > MaxFrames*100 {
		return nil, fmt.Errorf("vpdq signal: %d bytes is more than %d frames could take", len(s), MaxFrames)
	}
	var items []string
	if err := json.Unmarshal([]byte(s), &items); err != nil {
		return nil, fmt.Errorf("vpdq signal: not a JSON array of strings: %w", err)
	}
	if len(items) == 0 {
		return nil, errors.New("vpdq signal: no frames")
	}
	if len(items) > MaxFrames {
		return nil, fmt.Errorf("vpdq signal: more than %d frames", MaxFrames)
	}
	frames := make([]Frame, len(items))
	for i, it := range items {
		parts := strings.Split(it, ",")
		if len(parts) != 3 {
			return nil, fmt.Errorf("vpdq signal item %d: want \"hash,quality,timestamp\", got %q", i, clip(it))
		}
		f, err := parseFeature(parts[0], parts[1], parts[2])
		if err != nil {
			return nil, fmt.Errorf("vpdq signal item %d: %w", i, err)
		}
		f.Number = i
		frames[i] = f
	}
	return frames, nil
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// The binary form: "vPQ1", the frame count, then per frame its number,
// quality, 32 hash bytes and timestamp in milliseconds (both text forms
// carry at most 3 decimals, so milliseconds lose nothing they hold).
// Numbers are unsigned varints, so a typical frame takes 36 bytes.
var binaryMagic = []byte("vPQ1")

// minBinaryFrame is the fewest bytes one encoded frame can take.
const minBinaryFrame = 1 + 1 + 32 + 1

// MarshalBinary encodes frames compactly, for a bank entry to hold.
func MarshalBinary(frames []Frame) []byte {
	b := make([]byte, 0, len(binaryMagic)+binary.MaxVarintLen64+len(frames)*40)
	b = append(b, binaryMagic...)
	b = binary.AppendUvarint(b, uint64(len(frames)))
	for _, f := range frames {
		b = binary.AppendUvarint(b, uint64(max(f.Number, 0)))
		b = append(b, byte(min(max(f.Quality, 0), 100)))
		b = append(b, f.Hash[:]...)
		b = binary.AppendUvarint(b, uint64(math.Round(max(f.Timestamp, 0)*1000)))
	}
	return b
}

// UnmarshalBinary decodes what MarshalBinary encoded.
func UnmarshalBinary(b []byte) ([]Frame, error) {
	if len(b) < len(binaryMagic) || string(b[:len(binaryMagic)]) != string(binaryMagic) {
		return nil, errors.New("vpdq binary: bad magic (not an encoded vPDQ hash)")
	}
	b = b[len(binaryMagic):]
	n, k := binary.Uvarint(b)
	if k <= 0 {
		return nil, errors.New("vpdq binary: bad frame count")
	}
	b = b[k:]
	if n > MaxFrames || n > uint64(len(b)/minBinaryFrame) {
		return nil, fmt.Errorf("vpdq binary: %d frames cannot fit in %d bytes (or exceed %d)", n, len(b), MaxFrames)
	}
	frames := make([]Frame, n)
	for i := range frames {
		num, k := binary.Uvarint(b)
		if k <= 0 || num > math.MaxInt32 {
			return nil, fmt.Errorf("vpdq binary frame %d: bad frame number", i)
		}
		b = b[k:]
		if len(b) < 33 {
			return nil, fmt.Errorf("vpdq binary frame %d: truncated", i)
		}
		q := int(b[0])
		if q > 100 {
			return nil, fmt.Errorf("vpdq binary frame %d: quality %d over 100", i, q)
		}
		var h pdq.Hash
		copy(h[:], b[1:33])
		b = b[33:]
		ms, k := binary.Uvarint(b)
		if k <= 0 || ms > maxTimestamp*1000 {
			return nil, fmt.Errorf("vpdq binary frame %d: bad timestamp", i)
		}
		b = b[k:]
		frames[i] = Frame{Number: int(num), Quality: q, Hash: h, Timestamp: float64(ms) / 1000}
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("vpdq binary: %d bytes after the last frame", len(b))
	}
	return frames, nil
}
