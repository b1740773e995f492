package hasher_test

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"errors"
	"image"
	"image/color"
	"image/png"
	"sync"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/hasher"
	"github.com/safeguard-oss/safeguard/internal/media"
	"github.com/safeguard-oss/safeguard/internal/pdq"
)

func pngOf(t *testing.T, w, h int, seed int) []byte {
	t.Helper()
	m := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.SetGray(x, y, color.Gray{uint8((x*x*seed + y*7) % 251)})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestHash(t *testing.T) {
	data := pngOf(t, 100, 80, 3)
	img, _, err := media.Decode("a.png", data, media.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ph pdq.Hasher
	want := ph.HashImage(img, true)

	for _, dihedral := range []bool{false, true} {
		h := &hasher.Hasher{Dihedral: dihedral}
		s, err := h.Hash("a.png", data)
		if err != nil {
			t.Fatal(err)
		}
		if s.Format != media.PNG || s.PDQ != want.Hash || s.Quality != want.Quality ||
			s.MD5 != md5.Sum(data) || s.SHA256 != sha256.Sum256(data) {
			t.Errorf("dihedral=%v: %+v", dihedral, s)
		}
		if dihedral != (s.Dihedral != nil) || dihedral && *s.Dihedral != *want.Dihedral {
			t.Errorf("dihedral=%v: dihedral hashes %v", dihedral, s.Dihedral)
		}
	}
}

func TestHashError(t *testing.T) {
	var h hasher.Hasher
	_, err := h.Hash("notes.txt", []byte("hello"))
	var e *media.Error
	if !errors.As(err, &e) || e.Kind != media.UnknownType || err.Error() != "notes.txt: unknown image format" {
		t.Errorf("got %v", err)
	}
}

// One Hasher serves many goroutines, each answer the same as alone.
func TestHashConcurrent(t *testing.T) {
	var h hasher.Hasher
	inputs := make([][]byte, 8)
	want := make([]pdq.Hash, len(inputs))
	for i := range inputs {
		inputs[i] = pngOf(t, 64+i*9, 70, i+1)
		s, err := h.Hash("x.png", inputs[i])
		if err != nil {
			t.Fatal(err)
		}
		want[i] = s.PDQ
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < 5; r++ {
				for i, data := range inputs {
					s, err := h.Hash("x.png", data)
					if err != nil || s.PDQ != want[i] {
						t.Errorf("input %d: %v %v, want %v", i, s.PDQ, err, want[i])
					}
				}
			}
		}()
	}
	wg.Wait()
}
