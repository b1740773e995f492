// Package testkit holds what tests across the repository share: a fake
// clock and pictures with enough structure for a good-quality PDQ hash, in
// the formats uploads come in. It is for tests only; nothing in the
// product imports it.
package testkit

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Clock is a fake clock that moves only when told. The zero value reads
// the zero time; it is safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock reading t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now reads the clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Set sets the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Picture is a size x size colour image with enough structure (gradients
// crossing a checkerboard, varied by seed) for a PDQ quality of 100, so
// that re-encodings of it match and pictures of other seeds do not. Its
// fine texture makes mirrored copies hash far apart: tests of rotations
// and mirrors use the reference's photographs in testdata.
func Picture(seed, size int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	for y := range size {
		for x := range size {
			v := uint8((x*(seed+3) + y*y/(seed+2) + (x*8/size+y*8/size)%2*90) % 256)
			img.Set(x, y, color.RGBA{v, uint8(int(v) * (seed + 1) % 256), uint8(255 - int(v)), 255})
		}
	}
	return img
}

// JPEG encodes img at quality 95.
func JPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// PostgresURL returns the URL of a fresh schema of the database that
// SAFEGUARD_TEST_POSTGRES names (dropped when the test ends), or skips the
// test, saying what it needs, where that is unset.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("SAFEGUARD_TEST_POSTGRES")
	if base == "" {
		t.Skip("SAFEGUARD_TEST_POSTGRES not set (postgres://...): skipping the PostgreSQL part")
	}
	return PostgresSchema(t, base)
}

// PostgresSchema creates a schema of its own in the database at base for
// one test, dropped after it, and returns a URL whose connections use it.
func PostgresSchema(t testing.TB, base string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connecting to SAFEGUARD_TEST_POSTGRES: %v", err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("sg_test_%016x", rand.Uint64())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("dropping schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+name+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}
