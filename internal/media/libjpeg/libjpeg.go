//go:build cgo && !nolibjpeg

package libjpeg

/*
#cgo LDFLAGS: -ljpeg
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <jpeglib.h>
#include <jerror.h>

// A progressive JPEG may hold any number of scans, each one a full pass over
// the coefficients: a few kilobytes of tiny scans can cost minutes. Real
// encoders write about ten; libjpeg-turbo's own tools cap them at 500.
#define SG_MAX_SCANS 500

typedef struct {
	struct jpeg_decompress_struct d; // first: a j_common_ptr is an sg_dec*
	struct jpeg_error_mgr err;
	struct jpeg_progress_mgr progress;
	jmp_buf jmp;
	char msg[JMSG_LENGTH_MAX];
	int truncated;
} sg_dec;

// libjpeg's default error_exit calls exit(); ours keeps the message and
// jumps back to the sg_ function that called into the library.
static void sg_error_exit(j_common_ptr c) {
	sg_dec *s = (sg_dec *)c;
	(*c->err->format_message)(c, s->msg);
	longjmp(s->jmp, 1);
}

// Warnings are silent, as in the reference, except running out of data:
// libjpeg would fill the rest of the image with grey and call it a success.
static void sg_emit_message(j_common_ptr c, int level) {
	sg_dec *s = (sg_dec *)c;
	if (level < 0 && c->err->msg_code == JWRN_JPEG_EOF) {
		(*c->err->format_message)(c, s->msg);
		s->truncated = 1;
		longjmp(s->jmp, 1);
	}
}

static void sg_progress(j_common_ptr c) {
	sg_dec *s = (sg_dec *)c;
	if (s->d.input_scan_number > SG_MAX_SCANS) {
		snprintf(s->msg, sizeof s->msg, "more than %d scans", SG_MAX_SCANS);
		longjmp(s->jmp, 1);
	}
}

static sg_dec *sg_new(void) {
	sg_dec *s = calloc(1, sizeof(sg_dec));
	if (s == NULL) {
		return NULL;
	}
	s->d.err = jpeg_std_error(&s->err);
	s->err.error_exit = sg_error_exit;
	s->err.emit_message = sg_emit_message;
	s->progress.progress_monitor = sg_progress;
	return s;
}

// sg_open reads the header of the n bytes at data, which must stay put
// until sg_free. It returns 0, or 1 with the reason in s->msg.
static int sg_open(sg_dec *s, const unsigned char *data, unsigned long n) {
	if (setjmp(s->jmp)) {
		return 1;
	}
	jpeg_create_decompress(&s->d);
	s->d.progress = &s->progress;
	jpeg_mem_src(&s->d, data, n);
	jpeg_read_header(&s->d, TRUE);
	return 0;
}

// sg_dims sets the output scale (1/denom) and colour space and computes
// the output size, so that the caller can allocate the pixels.
static int sg_dims(sg_dec *s, int denom, J_COLOR_SPACE out) {
	if (setjmp(s->jmp)) {
		return 1;
	}
	s->d.scale_num = 1;
	s->d.scale_denom = denom;
	s->d.out_color_space = out;
	jpeg_calc_output_dimensions(&s->d);
	return 0;
}

// sg_read decodes into out, whose rows are stride bytes apart and hold
// output_width * output_components bytes each.
static int sg_read(sg_dec *s, unsigned char *out, size_t stride) {
	if (setjmp(s->jmp)) {
		return 1;
	}
	jpeg_start_decompress(&s->d);
	while (s->d.output_scanline < s->d.output_height) {
		JSAMPROW rows[16];
		JDIMENSION n = s->d.output_height - s->d.output_scanline;
		if (n > 16) {
			n = 16;
		}
		for (JDIMENSION i = 0; i < n; i++) {
			rows[i] = out + (size_t)(s->d.output_scanline + i) * stride;
		}
		if (jpeg_read_scanlines(&s->d, rows, n) == 0) {
			snprintf(s->msg, sizeof s->msg, "decoder returned no rows at row %u", s->d.output_scanline);
			return 1;
		}
	}
	return 0;
}

// sg_gather copies the pixels at columns xs[0..nx) of the row in to o.
// The copies have a constant size for the usual pixel sizes, so the
// compiler makes each one a move instead of a call to memcpy: a 512-wide
// sample of 512 rows is 262,144 of them.
static void sg_gather(unsigned char *o, const unsigned char *in, const int *xs, int nx, int bpp) {
	switch (bpp) {
	case 4:
		for (int i = 0; i < nx; i++) {
			memcpy(o + (size_t)i * 4, in + (size_t)xs[i] * 4, 4);
		}
		break;
	case 1:
		for (int i = 0; i < nx; i++) {
			o[i] = in[xs[i]];
		}
		break;
	default:
		for (int i = 0; i < nx; i++) {
			memcpy(o + (size_t)i * bpp, in + (size_t)xs[i] * bpp, bpp);
		}
	}
}

// sg_read_sampled decodes and keeps only the pixels at rows ys[0..ny) and
// columns xs[0..nx) (each nondecreasing, within the output): output pixel
// (i, j) is input pixel (xs[i], ys[j]). Every row is still decoded:
// libjpeg-turbo 2.1's jpeg_skip_scanlines returns wrong rows when a skip
// starts inside a row group (libjpeg-turbo issue 915).
static int sg_read_sampled(sg_dec *s, unsigned char *out, size_t stride,
		const int *xs, int nx, const int *ys, int ny) {
	if (setjmp(s->jmp)) {
		return 1;
	}
	jpeg_start_decompress(&s->d);
	int bpp = s->d.output_components;
	if (s->d.out_color_space == JCS_EXT_RGBA) {
		bpp = 4;
	}
	JSAMPARRAY row = (*s->d.mem->alloc_sarray)((j_common_ptr)&s->d, JPOOL_IMAGE,
		s->d.output_width * bpp, 1);
	int j = 0;
	while (j < ny) {
		JDIMENSION want = (JDIMENSION)ys[j];
		while (s->d.output_scanline <= want) {
			if (jpeg_read_scanlines(&s->d, row, 1) != 1) {
				snprintf(s->msg, sizeof s->msg, "decoder returned no rows at row %u", s->d.output_scanline);
				return 1;
			}
		}
		unsigned char *first = out + (size_t)j * stride;
		sg_gather(first, row[0], xs, nx, bpp);
		// A row sampled again (an image under 512 rows is stretched to
		// 512) is the row just gathered.
		for (j++; j < ny && (JDIMENSION)ys[j] == want; j++) {
			memcpy(out + (size_t)j * stride, first, (size_t)nx * bpp);
		}
	}
	return 0;
}

static void sg_free(sg_dec *s) {
	jpeg_destroy_decompress(&s->d);
	free(s);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"image"
	"runtime"
	"sync"
	"unsafe"
)

// Error is a failure libjpeg reported, in its words.
type Error struct {
	Msg string
	// Truncated reports that the data ended before the image did (libjpeg's
	// "Premature end of JPEG file"), which libjpeg itself only warns about.
	Truncated bool
}

func (e *Error) Error() string { return e.Msg }

// ColorSpace is the colour space a JPEG stores its pixels in.
type ColorSpace int

// The colour spaces libjpeg recognises in a header.
const (
	Unknown ColorSpace = iota
	Gray
	RGB
	YCbCr
	CMYK
	YCCK
)

var colorSpaceNames = [...]string{"unknown", "greyscale", "RGB", "YCbCr", "CMYK", "YCCK"}

func (c ColorSpace) String() string {
	if c < 0 || int(c) >= len(colorSpaceNames) {
		return fmt.Sprintf("ColorSpace(%d)", int(c))
	}
	return colorSpaceNames[c]
}

// Decoder decodes one JPEG. Its header has been read; Decode then
// allocates and fills the pixels. Close must be called to free libjpeg's
// state.
type Decoder struct {
	Width, Height int // of the full-size image
	ColorSpace    ColorSpace
	Components    int
	// Adobe reports an Adobe APP14 marker, whose CMYK and YCCK images store
	// ink inverted (255 meaning none).
	Adobe bool

	c   *C.sg_dec
	pin runtime.Pinner
}

// NewDecoder reads the header of the JPEG in data. data must not change
// until the Decoder is closed.
func NewDecoder(data []byte) (*Decoder, error) {
	if len(data) == 0 {
		return nil, &Error{Msg: "empty JPEG data", Truncated: true}
	}
	c := C.sg_new()
	if c == nil {
		return nil, errors.New("libjpeg: out of memory")
	}
	d := &Decoder{c: c}
	// libjpeg's source manager keeps a pointer to data between our calls.
	d.pin.Pin(&data[0])
	if C.sg_open(c, (*C.uchar)(unsafe.Pointer(&data[0])), C.ulong(len(data))) != 0 {
		err := d.err()
		d.Close()
		return nil, err
	}
	d.Width, d.Height = int(c.d.image_width), int(c.d.image_height)
	d.Components = int(c.d.num_components)
	d.Adobe = c.d.saw_Adobe_marker != 0
	switch c.d.jpeg_color_space {
	case C.JCS_GRAYSCALE:
		d.ColorSpace = Gray
	case C.JCS_RGB:
		d.ColorSpace = RGB
	case C.JCS_YCbCr:
		d.ColorSpace = YCbCr
	case C.JCS_CMYK:
		d.ColorSpace = CMYK
	case C.JCS_YCCK:
		d.ColorSpace = YCCK
	}
	return d, nil
}

func (d *Decoder) err() error {
	return &Error{Msg: C.GoString(&d.c.msg[0]), Truncated: d.c.truncated != 0}
}

// Close frees libjpeg's state. It is safe to call more than once.
func (d *Decoder) Close() {
	if d.c != nil {
		C.sg_free(d.c)
		d.c = nil
	}
	d.pin.Unpin()
}

// OutputSize is the size Decode(denom, ...) gives: libjpeg rounds up.
func OutputSize(width, height, denom int) (int, int) {
	return (width + denom - 1) / denom, (height + denom - 1) / denom
}

// Decode decodes the image scaled by 1/denom (1, 2, 4 or 8) in the DCT
// domain, which skips most of the inverse DCT and upsampling work.
//
// It returns an *image.Gray for greyscale JPEGs, or for any JPEG but CMYK
// and YCCK ones when grey is set (the luminance channel alone, without its
// chroma: faster, but not the luminance the reference computes from RGB);
// an *image.CMYK, with ink 0 meaning none as image.CMYK wants, for CMYK and
// YCCK; and an *image.RGBA (opaque) for the rest, converted by libjpeg's
// default, accurate path: integer IDCT and "fancy" chroma upsampling.
func (d *Decoder) Decode(denom int, grey bool) (image.Image, error) {
	img, pix, stride, err := d.prepare(denom, grey, 0, 0)
	if err != nil {
		return nil, err
	}
	if C.sg_read(d.c, (*C.uchar)(unsafe.Pointer(&pix[0])), C.size_t(stride)) != 0 {
		return nil, d.err()
	}
	d.invertAdobe(pix)
	return img, nil
}

// DecodeSampled decodes as Decode does, but returns only the pixels at the
// columns xs and rows ys of the scaled image (each list nondecreasing and
// within the size OutputSize gives): pixel (i, j) of the result is pixel
// (xs[i], ys[j]). Only one row of the scaled image is held at a time.
func (d *Decoder) DecodeSampled(denom int, grey bool, xs, ys []int) (image.Image, error) {
	if len(xs) == 0 || len(ys) == 0 {
		return nil, errors.New("libjpeg: nothing to sample")
	}
	img, pix, stride, err := d.prepare(denom, grey, len(xs), len(ys))
	if err != nil {
		return nil, err
	}
	w, h := int(d.c.d.output_width), int(d.c.d.output_height)
	cx, cy := make([]C.int, len(xs)), make([]C.int, len(ys))
	for i, x := range xs {
		if x < 0 || x >= w || i > 0 && x < xs[i-1] {
			return nil, fmt.Errorf("libjpeg: sample column %d of %d: out of order or range", x, w)
		}
		cx[i] = C.int(x)
	}
	for i, y := range ys {
		if y < 0 || y >= h || i > 0 && y < ys[i-1] {
			return nil, fmt.Errorf("libjpeg: sample row %d of %d: out of order or range", y, h)
		}
		cy[i] = C.int(y)
	}
	if C.sg_read_sampled(d.c, (*C.uchar)(unsafe.Pointer(&pix[0])), C.size_t(stride),
		&cx[0], C.int(len(cx)), &cy[0], C.int(len(cy))) != 0 {
		return nil, d.err()
	}
	d.invertAdobe(pix)
	return img, nil
}

// prepare sets the scale and output colour space and allocates the result:
// the scaled size, or w x h when w is not 0.
func (d *Decoder) prepare(denom int, grey bool, w, h int) (img image.Image, pix []byte, stride int, err error) {
	if d.c == nil {
		return nil, nil, 0, errors.New("libjpeg: Decode after Close")
	}
	if denom != 1 && denom != 2 && denom != 4 && denom != 8 {
		return nil, nil, 0, fmt.Errorf("libjpeg: scale 1/%d: want 1/1, 1/2, 1/4 or 1/8", denom)
	}
	out := C.J_COLOR_SPACE(C.JCS_EXT_RGBA)
	switch {
	case d.ColorSpace == CMYK || d.ColorSpace == YCCK:
		out = C.JCS_CMYK
	case grey || d.ColorSpace == Gray:
		out = C.JCS_GRAYSCALE
	}
	if C.sg_dims(d.c, C.int(denom), out) != 0 {
		return nil, nil, 0, d.err()
	}
	if w == 0 {
		w, h = int(d.c.d.output_width), int(d.c.d.output_height)
	}
	r := image.Rect(0, 0, w, h)
	// libjpeg writes every byte, so a released buffer needs no clearing.
	switch out {
	case C.JCS_GRAYSCALE:
		m := &image.Gray{Pix: pixels(w * h), Stride: w, Rect: r}
		img, pix, stride = m, m.Pix, m.Stride
	case C.JCS_CMYK:
		m := &image.CMYK{Pix: pixels(4 * w * h), Stride: 4 * w, Rect: r}
		img, pix, stride = m, m.Pix, m.Stride
	default:
		m := &image.RGBA{Pix: pixels(4 * w * h), Stride: 4 * w, Rect: r}
		img, pix, stride = m, m.Pix, m.Stride
	}
	if len(pix) == 0 {
		return nil, nil, 0, &Error{Msg: fmt.Sprintf("image is %dx%d", w, h)}
	}
	return img, pix, stride, nil
}

// invertAdobe turns the inverted ink of an Adobe CMYK or YCCK JPEG into
// image.CMYK's (0 meaning none).
func (d *Decoder) invertAdobe(pix []byte) {
	if d.Adobe && (d.ColorSpace == CMYK || d.ColorSpace == YCCK) {
		for i := range pix {
			pix[i] = 255 - pix[i]
		}
	}
}

// maxPooled bounds the pixel buffers kept for reuse: a 512x512 RGBA sample
// (what PDQ hashing decodes every large JPEG to) and anything smaller.
const maxPooled = 4 * 512 * 512

var pool sync.Pool // of *[]byte, each of capacity maxPooled

// pixels returns n bytes for a decode's pixels, reused where Release gave
// them back. Their contents are stale: the decoder overwrites every byte.
func pixels(n int) []byte {
	if n > maxPooled {
		return make([]byte, n)
	}
	if b, ok := pool.Get().(*[]byte); ok {
		return (*b)[:n]
	}
	return make([]byte, n, maxPooled)
}

// Release gives the pixels of an image Decode or DecodeSampled returned
// back for later decodes to reuse. The image must not be used afterwards.
// Releasing any other image, or none, is harmless.
func Release(img image.Image) {
	var pix []byte
	switch m := img.(type) {
	case *image.RGBA:
		pix = m.Pix
	case *image.Gray:
		pix = m.Pix
	case *image.CMYK:
		pix = m.Pix
	default:
		return
	}
	if cap(pix) == maxPooled {
		pix = pix[:0]
		pool.Put(&pix)
	}
}
