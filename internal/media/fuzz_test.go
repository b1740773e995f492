package media_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/media"
)

// fuzzLimit keeps each fuzzed decode small and fast: mutated headers claim
// large images all the time.
const fuzzLimit = 1 << 16

func fuzzSeeds(f *testing.F) {
	for _, data := range encoded(f, 24, 17) {
		f.Add(data)
		f.Add(data[:len(data)*2/3])
	}
	// Wide enough that ForPDQ samples it, small enough for fuzzLimit.
	f.Add(encoded(f, 600, 50)[media.JPEG])
	f.Add([]byte("\xff\xd8\xff"))
	f.Add(webpHeader(3, 3))
}

// checkDecode is what every fuzzed decode must satisfy: no panic (Decode
// recovers, so look for its message), only *media.Error errors naming the
// file, and never an image over the limit (or than the PDQ sample).
func checkDecode(t *testing.T, data []byte, opt media.Options) {
	img, _, err := media.Decode("fuzz.img", data, opt)
	if err != nil {
		var e *media.Error
		if !errors.As(err, &e) || e.Name != "fuzz.img" || !strings.HasPrefix(err.Error(), "fuzz.img: ") {
			t.Fatalf("error %q (%T) is not a *media.Error naming the file", err, err)
		}
		if strings.Contains(err.Error(), "panicked") {
			t.Fatal(err)
		}
		return
	}
	limit := int64(fuzzLimit)
	if opt.ForPDQ {
		limit = max(limit, 512*512) // the sample may be larger than its source
	}
	if b := img.Bounds(); int64(b.Dx())*int64(b.Dy()) > limit || b.Empty() {
		t.Fatalf("decoded %v with a limit of %d pixels", b, limit)
	}
}

func FuzzDecodeGo(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecode(t, data, media.Options{JPEG: media.JPEGGo, MaxPixels: fuzzLimit})
		checkDecode(t, data, media.Options{JPEG: media.JPEGGoScaled, MaxPixels: fuzzLimit, MinSide: 2})
	})
}

func FuzzDecodeTurbo(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecode(t, data, media.Options{JPEG: media.JPEGTurbo, MaxPixels: fuzzLimit})
		checkDecode(t, data, media.Options{JPEG: media.JPEGTurbo, MaxPixels: fuzzLimit, Grey: true, ForPDQ: true})
	})
}

func FuzzDecodeTurboScaled(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecode(t, data, media.Options{JPEG: media.JPEGTurboScaled, MaxPixels: fuzzLimit, MinSide: 2, ForPDQ: true})
	})
}

// FuzzDecodeConfig checks the header reader, and that Decode agrees with
// it: same format, an image no larger than the header said.
func FuzzDecodeConfig(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, mode := range allModes {
			checkConfig(t, data, media.Options{JPEG: mode, MaxPixels: fuzzLimit})
		}
	})
}

// checkConfig: DecodeConfig never panics, never passes the limit, and
// Decode agrees with it.
func checkConfig(t *testing.T, data []byte, opt media.Options) {
	cfg, err := media.DecodeConfig("fuzz.img", data, opt)
	if err != nil {
		var e *media.Error
		if !errors.As(err, &e) || strings.Contains(err.Error(), "panicked") {
			t.Fatalf("DecodeConfig: %v (%T)", err, err)
		}
		return
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > fuzzLimit {
		t.Fatalf("DecodeConfig accepted %dx%d", cfg.Width, cfg.Height)
	}
	img, format, err := media.Decode("fuzz.img", data, opt)
	if err != nil {
		return
	}
	if b := img.Bounds(); format != cfg.Format || b.Dx() > cfg.Width || b.Dy() > cfg.Height {
		t.Fatalf("%v: Decode gave %s %v, DecodeConfig said %+v", opt.JPEG, format, b, cfg)
	}
}
