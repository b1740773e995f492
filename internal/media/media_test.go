package media_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	"github.com/safeguard-oss/safeguard/internal/media"
	"github.com/safeguard-oss/safeguard/internal/pdq"
)

// allModes are the JPEG modes every format must behave alike under: all
// four where libjpeg-turbo is in the build.
var allModes = func() []media.JPEGMode {
	if !media.HaveLibjpeg {
		return []media.JPEGMode{media.JPEGAuto, media.JPEGGo, media.JPEGGoScaled}
	}
	return []media.JPEGMode{media.JPEGAuto, media.JPEGGo, media.JPEGGoScaled, media.JPEGTurbo, media.JPEGTurboScaled}
}()

// gradient is a small colour image with some structure, for encoding.
func gradient(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.SetRGBA(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), uint8((x ^ y) & 0xff), 255})
		}
	}
	return m
}

// encoded returns a w x h image in each format we can write.
func encoded(t testing.TB, w, h int) map[media.Format][]byte {
	t.Helper()
	img := gradient(w, h)
	out := map[media.Format][]byte{}
	var b bytes.Buffer
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}))
	out[media.JPEG] = bytes.Clone(b.Bytes())
	b.Reset()
	must(png.Encode(&b, img))
	out[media.PNG] = bytes.Clone(b.Bytes())
	b.Reset()
	must(gif.Encode(&b, img, nil))
	out[media.GIF] = bytes.Clone(b.Bytes())
	b.Reset()
	must(bmp.Encode(&b, img))
	out[media.BMP] = bytes.Clone(b.Bytes())
	b.Reset()
	must(tiff.Encode(&b, img, &tiff.Options{Compression: tiff.Deflate}))
	out[media.TIFF] = bytes.Clone(b.Bytes())
	out[media.WebP] = solidWebP(w, h, color.NRGBA{200, 100, 50, 255})
	return out
}

// webpHeader is the start of a lossless WebP claiming w x h: enough for
// the header to be read, not for the image to decode.
func webpHeader(w, h int) []byte {
	b := []byte("RIFF\x00\x00\x00\x00WEBPVP8L\x05\x00\x00\x00\x2f")
	b = binary.LittleEndian.AppendUint32(b, uint32(w-1)|uint32(h-1)<<14)
	binary.LittleEndian.PutUint32(b[4:], uint32(len(b)-8))
	return b
}

// solidWebP is a complete lossless WebP of one colour. Go has no WebP
// encoder, but with every prefix code a single symbol, pixels take no bits
// and the image is a few bytes after the header.
func solidWebP(w, h int, c color.NRGBA) []byte {
	var bits []bool
	put := func(v uint32, n int) { // least significant bit first
		for i := 0; i < n; i++ {
			bits = append(bits, v>>i&1 == 1)
		}
	}
	put(0, 1) // no transforms
	put(0, 1) // no colour cache
	put(0, 1) // no meta prefix codes
	for _, sym := range []uint8{c.G, c.R, c.B, c.A} {
		put(1, 1) // a simple code
		put(0, 1) // of one symbol
		put(1, 1) // eight bits long
		put(uint32(sym), 8)
	}
	put(1, 1) // the distance code: simple, one symbol, one bit long: 0
	put(0, 1)
	put(0, 1)
	put(0, 1)
	b := webpHeader(w, h)
	b[len(b)-1] |= 1 << 4 // alpha is used
	data := make([]byte, (len(bits)+7)/8)
	for i, bit := range bits {
		if bit {
			data[i/8] |= 1 << (i % 8)
		}
	}
	b = append(b, data...)
	binary.LittleEndian.PutUint32(b[16:], uint32(len(b)-20))
	binary.LittleEndian.PutUint32(b[4:], uint32(len(b)-8))
	return b
}

func TestDecodeFormats(t *testing.T) {
	for f, data := range encoded(t, 40, 30) {
		for _, mode := range allModes {
			img, got, err := media.Decode("x", data, media.Options{JPEG: mode})
			if err != nil {
				t.Errorf("%s %v: %v", f, mode, err)
				continue
			}
			if got != f || img.Bounds() != image.Rect(0, 0, 40, 30) {
				t.Errorf("%s %v: got %s %v", f, mode, got, img.Bounds())
			}
			if c := color.NRGBAModel.Convert(img.At(39, 29)); f == media.WebP && c != (color.NRGBA{200, 100, 50, 255}) {
				t.Errorf("WebP: pixel %v, want the colour encoded", c)
			}
		}
		cfg, err := media.DecodeConfig("x", data, media.Options{})
		if err != nil || cfg.Format != f || cfg.Width != 40 || cfg.Height != 30 || cfg.Memory < 40*30 || cfg.Memory > 8<<20 {
			t.Errorf("%s: DecodeConfig = %+v, %v", f, cfg, err)
		}
	}
}

func TestSniff(t *testing.T) {
	for _, c := range []struct {
		data string
		want media.Format
	}{
		{"\xff\xd8\xff\xe0", media.JPEG},
		{"\x89PNG\r\n\x1a\n", media.PNG},
		{"GIF87a", media.GIF},
		{"GIF89a", media.GIF},
		{"RIFF\x10\x00\x00\x00WEBPVP8 ", media.WebP},
		{"BM", media.BMP},
		{"II*\x00", media.TIFF},
		{"MM\x00*", media.TIFF},
		{"RIFF\x10\x00\x00\x00WAVEfmt ", ""},
		{"\xff\xd8", ""}, // too short to be a JPEG
		{"GIF90a", ""},
		{"<svg", ""},
		{"", ""},
	} {
		if got := media.Sniff([]byte(c.data)); got != c.want {
			t.Errorf("Sniff(%q) = %q, want %q", c.data, got, c.want)
		}
	}
}

// Bad input gives an *Error of the right Kind whose message names the file
// and the problem, in every mode.
func TestDecodeErrors(t *testing.T) {
	good := encoded(t, 64, 48)
	corruptJPEG := bytes.Clone(good[media.JPEG])
	corruptJPEG[bytes.Index(corruptJPEG, []byte{0xff, 0xdb})+4] = 5 // quantisation table 5 of 0..3
	corruptPNG := bytes.Clone(good[media.PNG])
	corruptPNG[20] ^= 0xff // IHDR's checksum no longer matches
	cases := []struct {
		name string
		data []byte
		kind media.Kind
		msg  string
	}{
		{"z.jpg", nil, media.Empty, "z.jpg: empty file"},
		{"y.bin", []byte("hello, world"), media.UnknownType, "y.bin: unknown image format"},
		{"photo.png", []byte("\x89PNG\r\n\x1a"), media.UnknownType, "photo.png: unknown image format"},
		{"x.png", good[media.PNG][:len(good[media.PNG])/2], media.Truncated, "x.png: truncated PNG"},
		{"x.jpg", good[media.JPEG][:len(good[media.JPEG])/2], media.Truncated, "x.jpg: truncated JPEG"},
		{"x.jpg", good[media.JPEG][:3], media.Truncated, "x.jpg: truncated JPEG"},
		{"x.gif", good[media.GIF][:len(good[media.GIF])/2], media.Truncated, "x.gif: truncated GIF"},
		{"x.bmp", good[media.BMP][:len(good[media.BMP])/2], media.Truncated, "x.bmp: truncated BMP"},
		{"c.jpg", corruptJPEG, media.Corrupt, "c.jpg: corrupt JPEG"},
		{"c.png", corruptPNG, media.Corrupt, "c.png: corrupt PNG"},
		{"x.webp", webpHeader(64, 48), media.Truncated, "x.webp: truncated WebP"},
		{"c.webp", bytes.Replace(webpHeader(64, 48), []byte{0x2f}, []byte{0x2e}, 1), media.Corrupt, "c.webp: corrupt WebP"},
	}
	for _, c := range cases {
		for _, mode := range allModes {
			_, _, err := media.Decode(c.name, c.data, media.Options{JPEG: mode})
			var e *media.Error
			if !errors.As(err, &e) {
				t.Errorf("%s %v: error %v (%T), want a *media.Error", c.name, mode, err, err)
				continue
			}
			if e.Kind != c.kind || e.Name != c.name || !strings.HasPrefix(err.Error(), c.msg) {
				t.Errorf("%s %v: %q (kind %d), want %q... (kind %d)", c.name, mode, err, e.Kind, c.msg, c.kind)
			}
		}
	}
}

// bomb patches a small image's header to claim w x h pixels.
func bomb(t *testing.T, f media.Format, data []byte, w, h int) []byte {
	t.Helper()
	b := bytes.Clone(data)
	switch f {
	case media.PNG: // IHDR: width, height at 16..24, its CRC at 29
		binary.BigEndian.PutUint32(b[16:], uint32(w))
		binary.BigEndian.PutUint32(b[20:], uint32(h))
		binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	case media.GIF: // logical screen
		binary.LittleEndian.PutUint16(b[6:], uint16(w))
		binary.LittleEndian.PutUint16(b[8:], uint16(h))
	case media.JPEG: // SOF0: height, width after length and precision
		i := bytes.Index(b, []byte{0xff, 0xc0})
		binary.BigEndian.PutUint16(b[i+5:], uint16(h))
		binary.BigEndian.PutUint16(b[i+7:], uint16(w))
	case media.BMP: // BITMAPINFOHEADER
		binary.LittleEndian.PutUint32(b[18:], uint32(w))
		binary.LittleEndian.PutUint32(b[22:], uint32(h))
	case media.TIFF: // ImageWidth (256) and ImageLength (257) in the first IFD
		ifd := binary.LittleEndian.Uint32(b[4:])
		n := int(binary.LittleEndian.Uint16(b[ifd:]))
		for i := 0; i < n; i++ {
			e := b[int(ifd)+2+12*i:]
			switch binary.LittleEndian.Uint16(e) {
			case 256:
				binary.LittleEndian.PutUint16(e[2:], 4) // LONG
				binary.LittleEndian.PutUint32(e[8:], uint32(w))
			case 257:
				binary.LittleEndian.PutUint16(e[2:], 4)
				binary.LittleEndian.PutUint32(e[8:], uint32(h))
			}
		}
	case media.WebP:
		b = webpHeader(min(w, 16384), min(h, 16384))
	}
	return b
}

// A header claiming a huge image is refused before any pixels are
// allocated.
func TestDecompressionBombs(t *testing.T) {
	for f, data := range encoded(t, 16, 16) {
		w, h := 100000, 100000
		switch f {
		case media.GIF:
			w, h = 65535, 65535 // its largest
		case media.JPEG:
			w, h = 65500, 65500 // libjpeg's largest
		}
		b := bomb(t, f, data, w, h)
		for _, mode := range allModes {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, _, err := media.Decode("bomb."+string(f), b, media.Options{JPEG: mode})
			runtime.ReadMemStats(&after)
			var e *media.Error
			if !errors.As(err, &e) || e.Kind != media.TooLarge || !strings.HasPrefix(err.Error(), "bomb."+string(f)+": image is ") ||
				!strings.HasSuffix(err.Error(), "over the 100 MP limit") {
				t.Errorf("%s %v: got %v, want a too-large error", f, mode, err)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
				t.Errorf("%s %v: allocated %d bytes refusing a bomb", f, mode, alloc)
			}
		}
		if _, err := media.DecodeConfig("bomb", b, media.Options{}); err == nil {
			t.Errorf("%s: DecodeConfig accepted a bomb", f)
		}
	}
	// The limit is the caller's to set, and the message says it.
	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, 2000, 1000)), nil); err != nil {
		t.Fatal(err)
	}
	_, _, err := media.Decode("photo.jpg", b.Bytes(), media.Options{MaxPixels: 1_000_000})
	if want := "photo.jpg: image is 2000x1000 (2 MP), over the 1 MP limit"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func TestGreyGoDecoder(t *testing.T) {
	data := encoded(t, 40, 30)[media.JPEG]
	img, _, err := media.Decode("x.jpg", data, media.Options{JPEG: media.JPEGGo, Grey: true})
	if err != nil {
		t.Fatal(err)
	}
	g, ok := img.(*image.Gray)
	if !ok {
		t.Fatalf("Grey gave %T, want *image.Gray", img)
	}
	full, _, _ := media.Decode("x.jpg", data, media.Options{JPEG: media.JPEGGo})
	if y := full.(*image.YCbCr).Y; !bytes.Equal(g.Pix, y[:len(g.Pix)]) || g.Bounds() != full.Bounds() {
		t.Errorf("grey image is not the luminance plane")
	}
}

func TestModeString(t *testing.T) {
	for m, want := range map[media.JPEGMode]string{
		media.JPEGAuto: "auto", media.JPEGGo: "go", media.JPEGTurbo: "turbo", media.JPEGTurboScaled: "turbo-scaled",
		media.JPEGGoScaled: "go-scaled", 9: "JPEGMode(9)",
	} {
		if got := m.String(); got != want {
			t.Errorf("%d: %q, want %q", int(m), got, want)
		}
	}
}

// Without libjpeg-turbo the turbo modes say so; JPEGAuto uses Go's decoder.
func TestWithoutLibjpeg(t *testing.T) {
	if media.HaveLibjpeg {
		t.Skip("libjpeg-turbo is in this build; run with CGO_ENABLED=0 or -tags nolibjpeg")
	}
	data := encoded(t, 40, 30)[media.JPEG]
	for _, mode := range []media.JPEGMode{media.JPEGTurbo, media.JPEGTurboScaled} {
		_, _, err := media.Decode("x.jpg", data, media.Options{JPEG: mode})
		var e *media.Error
		if !errors.As(err, &e) || e.Kind != media.Unavailable || !strings.Contains(err.Error(), "libjpeg-turbo") {
			t.Errorf("%v: got %v, want an unavailable error", mode, err)
		}
	}
	if img, _, err := media.Decode("x.jpg", data, media.Options{}); err != nil {
		t.Errorf("auto: %v", err)
	} else if _, ok := img.(*image.YCbCr); !ok {
		t.Errorf("auto gave %T, want the pure-Go *image.YCbCr", img)
	}
}

// With ForPDQ, a JPEG libjpeg-turbo decodes larger than 512 on a side comes
// back as the reference's 512x512 nearest-neighbour sample, which hashes
// exactly as the whole image does.
func TestForPDQ(t *testing.T) {
	data := encoded(t, 1300, 700)[media.JPEG]
	for _, mode := range allModes {
		for _, grey := range []bool{false, true} {
			opt := media.Options{JPEG: mode, Grey: grey, MinSide: 256}
			whole, _, err := media.Decode("x.jpg", data, opt)
			if err != nil {
				t.Fatal(err)
			}
			opt.ForPDQ = true
			sample, _, err := media.Decode("x.jpg", data, opt)
			if err != nil {
				t.Fatal(err)
			}
			var h pdq.Hasher
			a, b := h.HashImage(whole, true), h.HashImage(sample, true)
			if *a.Dihedral != *b.Dihedral || a.Quality != b.Quality {
				t.Errorf("%v grey=%v: sampled %v hashes %v, whole %v hashes %v", mode, grey, sample.Bounds(), b.Hash, whole.Bounds(), a.Hash)
			}
			if turbo(mode) && sample.Bounds() != image.Rect(0, 0, 512, 512) {
				t.Errorf("%v grey=%v: sample is %v, want 512x512", mode, grey, sample.Bounds())
			}
		}
	}
}

// turbo reports whether mode decodes JPEGs with libjpeg-turbo in this build.
func turbo(mode media.JPEGMode) bool {
	return media.HaveLibjpeg && (mode == media.JPEGAuto || mode == media.JPEGTurbo || mode == media.JPEGTurboScaled)
}
