// Package media turns untrusted bytes into images for hashing: JPEG, PNG,
// GIF (first frame), WebP, BMP and TIFF, sniffed from the bytes rather than
// trusted from a file name.
//
// Uploads are hostile. Decode reads the header first and refuses an image
// over the pixel limit before a single pixel is allocated (a few hundred
// bytes can claim 100000x100000 pixels), and every failure is an *Error
// naming the file and what was wrong with it; no input makes it panic.
// DecodeConfig estimates from the header the memory a decode will hold,
// and a Budget shared by a server admits decodes by that estimate, so that
// a handful of small files cannot together claim gigabytes (see
// docs/hostile.md).
//
// JPEGs, most of what is uploaded, may be decoded by Go's decoder or, in
// builds with cgo, by libjpeg-turbo: at full size, which matches the
// reference PDQ hasher bit for bit, or scaled down in the DCT domain, which
// is several times faster on photographs and lands a bit or two away.
// JPEGAuto picks between them from measurements; see docs/pdq.md.
package media

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"strings"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"

	"github.com/safeguard-oss/safeguard/internal/media/gojpeg"
)

// Format is an image file format, as sniffed from its first bytes.
type Format string

// The formats Decode reads.
const (
	JPEG Format = "jpeg"
	PNG  Format = "png"
	GIF  Format = "gif"
	WebP Format = "webp"
	BMP  Format = "bmp"
	TIFF Format = "tiff"
)

// name is how error messages spell the format: "truncated PNG".
func (f Format) name() string {
	switch f {
	case WebP:
		return "WebP"
	case "":
		return "image"
	}
	return string(bytes.ToUpper([]byte(f)))
}

// JPEGMode says how JPEGs are decoded.
type JPEGMode int

const (
	// JPEGAuto is libjpeg-turbo, scaled in the DCT domain so that the
	// shorter side stays at least MinSide (full size for images already
	// that small): JPEGTurboScaled, or JPEGGoScaled in builds without
	// libjpeg-turbo. It was chosen from `safeguard-bench hash`; see
	// docs/benchmarks.md.
	JPEGAuto JPEGMode = iota
	// JPEGGo is the standard library's pure-Go decoder, with libjpeg's
	// colour conversion applied by internal/pdq.
	JPEGGo
	// JPEGTurbo is libjpeg-turbo at full size: the reference's decoder,
	// so hashes match the reference's exactly.
	JPEGTurbo
	// JPEGTurboScaled is libjpeg-turbo scaled by 1/2, 1/4 or 1/8 in the
	// DCT domain, as far as the shorter side stays at least MinSide.
	JPEGTurboScaled
	// JPEGGoScaled is the pure-Go counterpart of JPEGTurboScaled: package
	// gojpeg decodes as libjpeg-turbo does (hashes are the same), for the
	// baseline JPEGs it reads; the rest go to Go's decoder at full size.
	JPEGGoScaled
)

var modeNames = [...]string{"auto", "go", "turbo", "turbo-scaled", "go-scaled"}

func (m JPEGMode) String() string {
	if m < 0 || int(m) >= len(modeNames) {
		return fmt.Sprintf("JPEGMode(%d)", int(m))
	}
	return modeNames[m]
}

// Defaults for the zero Options.
const (
	// DefaultMaxPixels is 100 megapixels: more than any camera or phone
	// makes, and about 400 MB decoded, so a handful of decodes at once
	// stay within a server's memory.
	DefaultMaxPixels = 100_000_000
	// DefaultMinSide keeps a scaled JPEG's shorter side at 512 or more:
	// the reference samples 512x512 pixels from larger images, so at 512
	// the scaled decode still gives it a pixel for every one it samples.
	DefaultMinSide = 512
)

// Options control decoding. The zero value is ready to use.
type Options struct {
	JPEG JPEGMode
	// MaxPixels refuses images whose header claims more pixels (width
	// times height); 0 means DefaultMaxPixels.
	MaxPixels int64
	// MinSide is the shortest side a DCT-scaled JPEG may be decoded to;
	// 0 means DefaultMinSide.
	MinSide int
	// Grey decodes only the luminance of colour JPEGs: faster, but the
	// reference computes luminance from RGB, so hashes may differ by a bit
	// or two.
	Grey bool
	// ForPDQ lets Decode return, for a JPEG that libjpeg-turbo decodes to
	// more than 512 pixels on a side, and for a non-interlaced PNG of more
	// than 512 on a side, only the 512x512 pixels that the reference PDQ
	// hasher's nearest-neighbour pre-resize keeps, without ever holding the
	// whole image. internal/pdq hashes the sample exactly as it hashes the
	// whole.
	ForPDQ bool
}

func (o Options) maxPixels() int64 {
	if o.MaxPixels <= 0 {
		return DefaultMaxPixels
	}
	return o.MaxPixels
}

func (o Options) minSide() int {
	if o.MinSide <= 0 {
		return DefaultMinSide
	}
	return o.MinSide
}

// Kind is what went wrong. Kinds are only ever appended.
type Kind int

const (
	Other       Kind = iota
	Empty            // zero bytes
	UnknownType      // not a format we read
	TooLarge         // the header claims more pixels than allowed
	Truncated        // the data ends before the image does
	Corrupt          // the data is not a valid image of its format
	Unsupported      // valid, but uses a feature the decoder lacks
	Unavailable      // the asked-for decoder is not in this build
	OverBudget       // decoding it would need more memory than the whole decode budget
	Busy             // its holder already has its share of a budget (Budget.AcquireShare)
)

// Error is a failure to decode one file.
type Error struct {
	Name   string // as given to Decode
	Format Format // "" if unknown
	Kind   Kind
	Err    error // the decoder's own words, or the detail of a Kind; may be nil
}

func (e *Error) Error() string {
	var msg string
	switch e.Kind {
	case Empty:
		msg = "empty file"
	case UnknownType:
		msg = "unknown image format"
	case Truncated:
		msg = "truncated " + e.Format.name()
	case Corrupt:
		msg = "corrupt " + e.Format.name()
	case Unsupported:
		msg = "unsupported " + e.Format.name()
	case TooLarge, OverBudget, Busy:
		if e.Err != nil {
			// It says it all: "image is 20000x20000 (400 MP), over the 100 MP limit".
			return e.Name + ": " + e.Err.Error()
		}
		msg = "image too large"
	default:
		msg = "cannot decode " + e.Format.name()
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return e.Name + ": " + msg
}

func (e *Error) Unwrap() error { return e.Err }

// Sniff returns the format of data from its first bytes, or "" when it is
// none that Decode reads.
func Sniff(data []byte) Format {
	switch {
	case bytes.HasPrefix(data, []byte("\xff\xd8\xff")):
		return JPEG
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return PNG
	case bytes.HasPrefix(data, []byte("GIF87a")), bytes.HasPrefix(data, []byte("GIF89a")):
		return GIF
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return WebP
	case bytes.HasPrefix(data, []byte("BM")):
		return BMP
	case bytes.HasPrefix(data, []byte("II*\x00")), bytes.HasPrefix(data, []byte("MM\x00*")):
		return TIFF
	}
	return ""
}

// Config is what an image's header says.
type Config struct {
	Format        Format
	Width, Height int
	// Memory is about the most bytes decoding the image with the options
	// given will hold at once, estimated from the header: pixels by
	// channels by bit depth, and for progressive JPEGs their coefficient
	// buffers, less what scaled and sampled decoding saves. A Budget
	// admits decodes by it.
	Memory int64
}

// DecodeConfig reads only the header of data: its format and size. It
// checks the size against opt's pixel limit, so a caller can refuse a
// bomb as cheaply as Decode does.
func DecodeConfig(name string, data []byte, opt Options) (cfg Config, err error) {
	defer recoverAs(name, &cfg.Format, &err)
	cfg.Format, err = sniff(name, data)
	if err != nil {
		return cfg, err
	}
	if cfg.Format == JPEG && opt.usesTurbo() {
		// The header as the decoder that will decode it reads it.
		cfg.Width, cfg.Height, err = turboConfig(name, data, opt)
		if err != nil {
			return cfg, err
		}
	} else {
		c, err := goConfig(cfg.Format, data)
		if err != nil {
			return cfg, decodeError(name, cfg.Format, err)
		}
		cfg.Width, cfg.Height = c.Width, c.Height
	}
	if err := checkSize(name, cfg.Format, cfg.Width, cfg.Height, opt.maxPixels()); err != nil {
		return cfg, err
	}
	if err := checkJPEGLength(name, cfg.Format, data, opt); err != nil {
		return cfg, err
	}
	cfg.Memory = estimate(cfg.Format, data, cfg.Width, cfg.Height, opt)
	return cfg, nil
}

// checkJPEGLength refuses a JPEG too short to hold the image its header
// declares: a 214-byte file claiming 10000x10000 pixels would otherwise be
// decoded in full (as grey) at the cost of a real one.
func checkJPEGLength(name string, f Format, data []byte, opt Options) error {
	if f != JPEG {
		return nil
	}
	fr, ok := readJPEGFrame(data)
	if !ok || int64(fr.w)*int64(fr.h) > opt.maxPixels() {
		return nil // the decoder, or the pixel limit, says what is wrong
	}
	if need := fr.minBytes(); int64(len(data)) < need {
		return &Error{Name: name, Format: JPEG, Kind: Truncated,
			Err: fmt.Errorf("%d bytes cannot encode the %dx%d pixels the header declares (at least %d are needed)", len(data), fr.w, fr.h, need)}
	}
	return nil
}

// usesTurbo reports whether opt decodes JPEGs with libjpeg-turbo (or fails
// for want of it).
func (o Options) usesTurbo() bool {
	return o.JPEG == JPEGTurbo || o.JPEG == JPEGTurboScaled || o.JPEG == JPEGAuto && HaveLibjpeg
}

// Release hands the pixels of an image Decode returned back for later
// decodes to reuse (libjpeg-turbo's decodes of up to 512x512 pixels, what
// ForPDQ gives large JPEGs), which spares the garbage collector a
// megabyte per hash. img must not be used afterwards.
func Release(img image.Image) { releaseTurbo(img) }

// Decode decodes the image in data; name is only for error messages.
// Errors are *Error. The image's pixels are laid out as its decoder left
// them (*image.YCbCr, *image.RGBA, *image.Gray, *image.Paletted, ...):
// internal/pdq reads each without conversion, and alpha is not applied.
func Decode(name string, data []byte, opt Options) (img image.Image, format Format, err error) {
	defer recoverAs(name, &format, &err)
	format, err = sniff(name, data)
	if err != nil {
		return nil, format, err
	}
	if err := checkJPEGLength(name, format, data, opt); err != nil {
		return nil, format, err
	}
	if format == JPEG && opt.usesTurbo() {
		img, err = decodeTurbo(name, data, opt)
		return img, format, err
	}
	c, err := goConfig(format, data)
	if err != nil {
		return nil, format, decodeError(name, format, err)
	}
	if err := checkSize(name, format, c.Width, c.Height, opt.maxPixels()); err != nil {
		return nil, format, err
	}
	if _, _, interlaced, _ := pngIHDR(data); format == PNG && opt.ForPDQ && !interlaced && (c.Width > pdqSide || c.Height > pdqSide) {
		img, err := pngSample(data, c.Width, c.Height)
		if err != nil {
			return nil, format, decodeError(name, format, err)
		}
		return img, format, nil
	}
	if format == JPEG && (opt.JPEG == JPEGGoScaled || opt.JPEG == JPEGAuto) {
		// Any failure, even of a valid file gojpeg does not read, is left
		// to image/jpeg to decode or to explain.
		denom := ScaleDenom(c.Width, c.Height, opt.minSide())
		if img, err := gojpeg.Decode(data, denom, opt.maxPixels()); err == nil {
			return grey(img, opt), format, nil
		}
	}
	img, err = goDecode(format, data)
	if err != nil {
		return nil, format, decodeError(name, format, err)
	}
	if b := img.Bounds(); int64(b.Dx())*int64(b.Dy()) > int64(c.Width)*int64(c.Height) {
		// No decoder we use does this; if one ever did, the limit would lie.
		return nil, format, &Error{Name: name, Format: format, Kind: Corrupt,
			Err: fmt.Errorf("decoded %dx%d, but the header said %dx%d", b.Dx(), b.Dy(), c.Width, c.Height)}
	}
	return grey(img, opt), format, nil
}

// grey keeps only the luminance plane of a YCbCr image when opt asks.
func grey(img image.Image, opt Options) image.Image {
	if m, ok := img.(*image.YCbCr); ok && opt.Grey {
		return &image.Gray{Pix: m.Y, Stride: m.YStride, Rect: m.Rect}
	}
	return img
}

func sniff(name string, data []byte) (Format, error) {
	if len(data) == 0 {
		return "", &Error{Name: name, Kind: Empty}
	}
	f := Sniff(data)
	if f == "" {
		return "", &Error{Name: name, Kind: UnknownType}
	}
	return f, nil
}

// recoverAs turns a decoder's panic into an error: the standard and x/image
// decoders are fuzzed, but a panic on one hostile upload must not take
// down a server hashing thousands.
func recoverAs(name string, format *Format, err *error) {
	if r := recover(); r != nil {
		*err = &Error{Name: name, Format: *format, Kind: Corrupt, Err: fmt.Errorf("decoder panicked: %v", r)}
	}
}

func checkSize(name string, f Format, w, h int, limit int64) error {
	if w <= 0 || h <= 0 {
		return &Error{Name: name, Format: f, Kind: Corrupt, Err: fmt.Errorf("image is %dx%d", w, h)}
	}
	if px := int64(w) * int64(h); px > limit {
		return &Error{Name: name, Format: f, Kind: TooLarge,
			Err: fmt.Errorf("image is %dx%d (%s), over the %s limit", w, h, megapixels(px), megapixels(limit))}
	}
	return nil
}

// megapixels prints a pixel count the way people say it: "400 MP",
// "0.3 MP".
func megapixels(px int64) string {
	mp := float64(px) / 1e6
	if mp >= 10 || mp == float64(int64(mp)) {
		return fmt.Sprintf("%.0f MP", mp)
	}
	return fmt.Sprintf("%.1f MP", mp)
}

func goConfig(f Format, data []byte) (image.Config, error) {
	r := bytes.NewReader(data)
	switch f {
	case JPEG:
		return jpeg.DecodeConfig(r)
	case PNG:
		return png.DecodeConfig(r)
	case GIF:
		return gif.DecodeConfig(r)
	case WebP:
		return webp.DecodeConfig(r)
	case BMP:
		return bmp.DecodeConfig(r)
	case TIFF:
		return tiff.DecodeConfig(r)
	}
	panic("media: no decoder for " + f) // sniff returns only the formats above
}

func goDecode(f Format, data []byte) (image.Image, error) {
	r := bytes.NewReader(data)
	switch f {
	case JPEG:
		return jpeg.Decode(r)
	case PNG:
		return png.Decode(r)
	case GIF:
		return gif.Decode(r) // the first frame
	case WebP:
		return webp.Decode(r)
	case BMP:
		return bmp.Decode(r)
	case TIFF:
		return tiff.Decode(r)
	}
	panic("media: no decoder for " + f)
}

// decodeError classifies a Go decoder's error. The decoders say "unexpected
// EOF" for most truncated data (PNG and GIF have their own words when the
// compressed pixels end early) and name unsupported features with their
// own UnsupportedError types; everything else is corruption.
func decodeError(name string, f Format, err error) error {
	kind := Corrupt
	var (
		jpegU jpeg.UnsupportedError
		pngU  png.UnsupportedError
		tiffU tiff.UnsupportedError
	)
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		strings.Contains(err.Error(), "not enough pixel data"), // png
		strings.Contains(err.Error(), "not enough image data"): // gif
		kind, err = Truncated, nil
	case errors.As(err, &jpegU), errors.As(err, &pngU), errors.As(err, &tiffU), errors.Is(err, bmp.ErrUnsupported):
		kind = Unsupported
	}
	return &Error{Name: name, Format: f, Kind: kind, Err: err}
}
