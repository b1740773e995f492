package media_test

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/media"
	"github.com/safeguard-oss/safeguard/internal/media/mediatest"
	"github.com/safeguard-oss/safeguard/internal/pdq"
)

// rawPNG writes a non-interlaced PNG from raw rows (each with its filter
// byte), with the chunks given before IDAT: the kinds image/png's encoder
// never writes (low-depth grey, tRNS) need it.
func rawPNG(w, h int, depth, ct byte, pre map[string][]byte, rows func(y int) []byte) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	put := func(typ string, body []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(body)))
		b.WriteString(typ)
		b.Write(body)
		binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), body...)))
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = depth, ct
	put("IHDR", ihdr)
	for _, typ := range []string{"PLTE", "tRNS"} {
		if body, ok := pre[typ]; ok {
			put(typ, body)
		}
	}
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	for y := range h {
		zw.Write(rows(y))
	}
	zw.Close()
	// Two IDAT chunks, to cross a chunk boundary mid-stream.
	zb := z.Bytes()
	put("IDAT", zb[:len(zb)/2])
	put("IDAT", zb[len(zb)/2:])
	put("IEND", nil)
	return b.Bytes()
}

func randomRows(r *rand.Rand, rowBytes int) func(int) []byte {
	return func(int) []byte {
		row := make([]byte, 1+rowBytes)
		row[0] = byte(r.IntN(5)) // every filter
		for i := 1; i < len(row); i++ {
			row[i] = byte(r.IntN(256))
		}
		return row
	}
}

// samplePNGs are PNGs of every colour type and depth, larger than 512 on a
// side (and one only in one direction, so rows or columns repeat).
func samplePNGs(t testing.TB) map[string][]byte {
	r := rand.New(rand.NewPCG(1, 2))
	out := map[string][]byte{}
	encode := func(name string, img image.Image) {
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		out[name] = b.Bytes()
	}
	const w, h = 700, 530
	rect := image.Rect(0, 0, w, h)
	fill := func(pix []byte) {
		for i := range pix {
			pix[i] = byte(r.IntN(256))
		}
	}
	g := image.NewGray(rect)
	fill(g.Pix)
	encode("gray8", g)
	g16 := image.NewGray16(image.Rect(0, 0, 300, 900))
	fill(g16.Pix)
	encode("gray16", g16)
	rgba := image.NewRGBA(rect)
	fill(rgba.Pix)
	for i := 3; i < len(rgba.Pix); i += 4 {
		rgba.Pix[i] = 0xff
	}
	encode("rgb8", rgba)
	nrgba := image.NewNRGBA(rect)
	fill(nrgba.Pix)
	encode("rgba8", nrgba)
	rgba64 := image.NewRGBA64(image.Rect(0, 0, 1030, 300))
	fill(rgba64.Pix)
	for i := 6; i < len(rgba64.Pix); i += 8 {
		rgba64.Pix[i], rgba64.Pix[i+1] = 0xff, 0xff
	}
	encode("rgb16", rgba64)
	nrgba64 := image.NewNRGBA64(rect)
	fill(nrgba64.Pix)
	encode("rgba16", nrgba64)
	for _, n := range []int{2, 4, 16, 200} {
		pal := color.Palette{}
		for range n {
			pal = append(pal, color.RGBA{byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256)), 0xff})
		}
		p := image.NewPaletted(rect, pal)
		for i := range p.Pix {
			p.Pix[i] = byte(r.IntN(n))
		}
		encode(fmt.Sprintf("palette%d", n), p)
	}
	plte := make([]byte, 3*2) // fewer entries than even 1 bit can index
	fill(plte)
	for _, depth := range []byte{1, 2, 4, 8} {
		out["grey-depth"+string(rune('0'+depth))] = rawPNG(w, h, depth, 0, nil, randomRows(r, (w*int(depth)+7)/8))
		out["grey-trns-depth"+string(rune('0'+depth))] = rawPNG(w, h, depth, 0, map[string][]byte{"tRNS": {0, 1}}, randomRows(r, (w*int(depth)+7)/8))
		// Indices past the five entries: image/png's opaque black.
		out["palette-short-depth"+string(rune('0'+depth))] = rawPNG(w, h, depth, 3, map[string][]byte{"PLTE": plte, "tRNS": {9, 80}}, randomRows(r, (w*int(depth)+7)/8))
	}
	out["grey16-trns"] = rawPNG(w, h, 16, 0, map[string][]byte{"tRNS": {0, 7}}, randomRows(r, 2*w))
	out["rgb8-trns"] = rawPNG(w, h, 8, 2, map[string][]byte{"tRNS": {0, 1, 0, 2, 0, 3}}, randomRows(r, 3*w))
	out["rgb16-trns"] = rawPNG(w, h, 16, 2, map[string][]byte{"tRNS": {0, 1, 0, 2, 0, 3}}, randomRows(r, 6*w))
	out["greyalpha8"] = rawPNG(w, h, 8, 4, nil, randomRows(r, 2*w))
	out["greyalpha16"] = rawPNG(w, h, 16, 4, nil, randomRows(r, 4*w))
	return out
}

// The sampled decode for PDQ gives exactly the luminance, so exactly the
// hash, that image/png's whole image does, for every colour type and depth.
func TestPNGSampleHashesAsWhole(t *testing.T) {
	var h pdq.Hasher
	for name, data := range samplePNGs(t) {
		whole, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: image/png: %v", name, err)
		}
		sample, _, err := media.Decode(name, data, media.Options{ForPDQ: true})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if b := sample.Bounds(); b.Dx() != 512 || b.Dy() != 512 {
			t.Errorf("%s: sample is %v, want the 512x512 PDQ keeps", name, b)
		}
		want, _, _ := h.Luma(whole)
		want = append([]float32(nil), want...)
		got, _, _ := h.Luma(sample)
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s (%T): luminance %d is %v, image/png's %v", name, whole, i, got[i], want[i])
				break
			}
		}
	}
}

// A 16-bit 4000x4000 PNG (128 MB as image/png's *image.RGBA64) decodes for
// PDQ within a few megabytes; before, the whole image was allocated.
func TestPNG16SampleMemory(t *testing.T) {
	data := mediatest.PNG16(4000, 4000)
	cfg, err := media.DecodeConfig("bomb.png", data, media.Options{ForPDQ: true})
	if err != nil || cfg.Memory > 8<<20 {
		t.Errorf("estimate for PDQ %d bytes (%v), want a few MB", cfg.Memory, err)
	}
	if cfg, _ := media.DecodeConfig("bomb.png", data, media.Options{}); cfg.Memory < 4000*4000*8 {
		t.Errorf("estimate for a whole decode %d bytes, want at least the 128 MB of the RGBA64", cfg.Memory)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, _, err := media.Decode("bomb.png", data, media.Options{ForPDQ: true}); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 8<<20 {
		t.Errorf("decoding for PDQ allocated %d MB, want under 8", n>>20)
	}
}

// Damaged PNGs are refused by the sampler as by image/png: cut short, a bad
// checksum, a bad filter, too much data.
func TestPNGSampleRefusals(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	good := rawPNG(600, 600, 8, 0, nil, randomRows(r, 600))
	badCRC := bytes.Clone(good)
	badCRC[40] ^= 1
	badFilter := rawPNG(600, 600, 8, 0, nil, func(int) []byte { return append([]byte{7}, make([]byte, 600)...) })
	extra := rawPNG(600, 600, 8, 0, nil, func(int) []byte { return make([]byte, 1+601) })
	short := rawPNG(600, 600, 8, 0, nil, func(y int) []byte {
		if y > 300 {
			return nil
		}
		return make([]byte, 601)
	})
	for name, data := range map[string][]byte{
		"cut short": good[:len(good)/2], "bad checksum": badCRC, "bad filter": badFilter,
		"too much data": extra, "rows missing": short, "no IEND": good[:len(good)-12],
	} {
		_, _, err := media.Decode(name, data, media.Options{ForPDQ: true})
		if _, gerr := png.Decode(bytes.NewReader(data)); err == nil || gerr == nil {
			t.Errorf("%s: sampler %v, image/png %v; want both to refuse it", name, err, gerr)
		}
	}
}

// Whatever the bytes, the sampler does not panic, and when both it and
// image/png read a PNG, they give the same luminance.
func FuzzPNGSample(f *testing.F) {
	r := rand.New(rand.NewPCG(5, 6))
	f.Add(rawPNG(520, 3, 8, 2, nil, randomRows(r, 3*520)))
	f.Add(rawPNG(3, 520, 2, 3, map[string][]byte{"PLTE": {1, 2, 3, 4, 5, 6}}, randomRows(r, 1)))
	f.Add(rawPNG(600, 2, 16, 4, nil, randomRows(r, 4*600)))
	f.Fuzz(func(t *testing.T, data []byte) {
		sample, _, err := media.Decode("fuzz.png", data, media.Options{ForPDQ: true, MaxPixels: 1 << 20})
		if err != nil || media.Sniff(data) != media.PNG {
			return
		}
		whole, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			return
		}
		var h pdq.Hasher
		want, _, _ := h.Luma(whole)
		want = append([]float32(nil), want...)
		got, _, _ := h.Luma(sample)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("luminance %d is %v, image/png's %v", i, got[i], want[i])
			}
		}
	})
}
