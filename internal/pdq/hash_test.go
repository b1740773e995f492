package pdq_test

import (
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/pdq"
)

func TestParseHex(t *testing.T) {
	const s = "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22"
	h, err := pdq.ParseHex(s)
	if err != nil {
		t.Fatal(err)
	}
	if h.String() != s {
		t.Fatalf("round trip: got %s", h)
	}
	if u, err := pdq.ParseHex(strings.ToUpper(s)); err != nil || u != h {
		t.Fatalf("upper case: %v %v", u, err)
	}
	// Word order: the first four hex digits are the reference's w[15],
	// which holds bits 240..255.
	if !h.Bit(255) || !h.Bit(254) || h.Bit(253) {
		t.Errorf("bits 255,254,253 of d8...: got %v %v %v", h.Bit(255), h.Bit(254), h.Bit(253))
	}
	if !h.Bit(1) || h.Bit(0) { // ...22: bit 1 set, bit 0 clear
		t.Errorf("bits 1,0 of ...22: got %v %v", h.Bit(1), h.Bit(0))
	}
	if pdq.FromWords(h.Words()) != h {
		t.Error("Words/FromWords round trip")
	}
	if w := h.Words(); w[0] != 0xd8f8f0cee0f4a84f {
		t.Errorf("Words()[0] = %x", w[0])
	}

	for _, bad := range []string{"", "d8f8", s + "0", s[:63] + "g", s[:62] + " 2", strings.Repeat("é", 32)} {
		if _, err := pdq.ParseHex(bad); err == nil {
			t.Errorf("ParseHex(%q): no error", bad)
		} else if !strings.Contains(err.Error(), "pdq: hash") {
			t.Errorf("ParseHex(%q): error %q does not say what it was reading", bad, err)
		}
	}
}

func TestDistance(t *testing.T) {
	var a, b pdq.Hash
	if d := pdq.Distance(a, b); d != 0 {
		t.Fatalf("zero hashes: %d", d)
	}
	for i := range b {
		b[i] = 0xff
	}
	if d := pdq.Distance(a, b); d != 256 {
		t.Fatalf("complement: %d", d)
	}
	b = a
	b[0], b[31] = 0x81, 0x10
	if d := pdq.Distance(a, b); d != 3 {
		t.Fatalf("three bits: %d", d)
	}
}

func TestTinyImagesHashToZero(t *testing.T) {
	var h pdq.Hasher
	for _, size := range [][2]int{{4, 100}, {100, 4}, {0, 0}} {
		luma := make([]float32, size[0]*size[1])
		r := h.HashLuma(luma, size[0], size[1], true)
		if r.Hash != (pdq.Hash{}) || r.Quality != 0 || r.Dihedral == nil || r.Dihedral[pdq.Rotate90] != (pdq.Hash{}) {
			t.Errorf("%dx%d: got %v q=%d", size[0], size[1], r.Hash, r.Quality)
		}
	}
}

func FuzzParseHex(f *testing.F) {
	f.Add("d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22")
	f.Add("")
	f.Add("zz")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := pdq.ParseHex(s)
		if err != nil {
			return
		}
		if !strings.EqualFold(h.String(), s) {
			t.Fatalf("ParseHex(%q) = %s", s, h)
		}
	})
}
