package hasher_test

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"image/jpeg"
	"testing"

	"github.com/safeguard-oss/safeguard/bench"
	"github.com/safeguard-oss/safeguard/internal/hasher"
	"github.com/safeguard-oss/safeguard/internal/media"
)

// BenchmarkScan640 is the hashing a scan of a 640x480 JPEG costs the
// server, on the very images `safeguard-bench scan` sends (quality 85):
// decoding, PDQ with the 8 dihedral hashes, MD5 and SHA-256 ("server"),
// and the digests alone. With the decode's own floor (libjpeg's
// BenchmarkDecode640/full-rgba) it is the least a scan can cost:
//
//	go test -run - -bench Scan640 ./internal/hasher
func BenchmarkScan640(b *testing.B) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, bench.Synthetic(640, 480, 1000), &jpeg.Options{Quality: 85}); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.Run("server", func(b *testing.B) {
		// As the server's: a decode budget, whose estimate reads the
		// header once more.
		h := &hasher.Hasher{Dihedral: true, Budget: media.NewBudget(1 << 30)}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := h.Hash("scan.jpg", data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("digests", func(b *testing.B) {
		for b.Loop() {
			md5.Sum(data)
			sha256.Sum256(data)
		}
	})
}
