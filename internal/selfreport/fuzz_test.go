package selfreport

import (
	"errors"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/bank"
)

// FuzzParseCode: any text is either refused with ErrInvalid or read as a
// code in canonical form that reads back as itself.
func FuzzParseCode(f *testing.F) {
	for _, s := range []string{"7KQ4-M2XH", "7kq4 m2xh", "0000-0000", "", "AAAA-AAAA-AAAA", "ÄAAA-AAAA", NewCode()} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		code, err := ParseCode(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("%q: %v does not wrap ErrInvalid", s, err)
			}
			return
		}
		if len(code) != 9 || code[4] != '-' || strings.Trim(code[:4]+code[5:], codeAlphabet) != "" {
			t.Fatalf("%q read as %q", s, code)
		}
		if again, err := ParseCode(code); err != nil || again != code {
			t.Fatalf("%q read as %q, which reads as %q, %v", s, code, again, err)
		}
	})
}

// FuzzNormalize: an image's hashes are refused with ErrInvalid or come out
// as lower-case hex of the right lengths, unchanged by normalising again.
func FuzzNormalize(f *testing.F) {
	f.Add(strings.Repeat("A", 64), 90, strings.Repeat("b", 32), strings.Repeat("c", 64))
	f.Add("zz", -1, "", " ")
	f.Fuzz(func(t *testing.T, pdq string, quality int, md5, sha string) {
		im, err := Image{PDQ: pdq, Quality: quality, MD5: md5, SHA256: sha}.Normalize()
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("%v does not wrap ErrInvalid", err)
			}
			return
		}
		if len(im.PDQ) != 64 || len(im.MD5) != 32 || len(im.SHA256) != 64 || strings.ToLower(im.PDQ+im.MD5+im.SHA256) != im.PDQ+im.MD5+im.SHA256 {
			t.Fatalf("normalised to %+v", im)
		}
		if again, err := im.Normalize(); err != nil || again != im {
			t.Fatalf("normalising %+v again: %+v, %v", im, again, err)
		}
	})
}

// FuzzNormalizeVideo: a video's hashes from the page are refused with
// ErrInvalid or come out in their stored form, within MaxVideoFrames, with
// the best quality among the frames, unchanged by normalising again.
func FuzzNormalizeVideo(f *testing.F) {
	f.Add(`["`+strings.Repeat("a", 64)+`,90,0.000","`+strings.Repeat("b", 64)+`,40,1.000"]`, strings.Repeat("b", 32), strings.Repeat("c", 64))
	f.Add(`[]`, "", "")
	f.Add(`["zz,1,2"`, strings.Repeat("b", 32), strings.Repeat("c", 64))
	f.Fuzz(func(t *testing.T, vpdq, md5, sha string) {
		v, best, err := Video{VPDQ: vpdq, MD5: md5, SHA256: sha}.Normalize()
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("%v does not wrap ErrInvalid", err)
			}
			return
		}
		frames, err := bank.VPDQFrames(v.VPDQ)
		if err != nil || len(frames) == 0 || len(frames) > MaxVideoFrames || best < 0 || best > 100 {
			t.Fatalf("normalised to %d frames, best quality %d: %v", len(frames), best, err)
		}
		again, best2, err := v.Normalize()
		if err != nil || again != v || best2 != best {
			t.Fatalf("normalising again: %v", err)
		}
	})
}

func TestPIN(t *testing.T) {
	pin := NewPIN()
	h := hashPIN(pin)
	if len(pin) != 6 || strings.Trim(pin, "0123456789") != "" {
		t.Fatalf("PIN %q: want six digits", pin)
	}
	if !checkPIN(h, pin) {
		t.Errorf("the right PIN is refused")
	}
	for _, wrong := range []string{"", pin + "0", pin[:5], "x" + pin[1:]} {
		if checkPIN(h, wrong) {
			t.Errorf("%q accepted for %q", wrong, pin)
		}
	}
	if hashPIN(pin) == h {
		t.Errorf("two hashes of one PIN are equal: no salt")
	}
	for _, bad := range []string{"", "pbkdf2-sha256$0$AA$AA", "md5$1$AA$AA", "pbkdf2-sha256$x$AA$AA"} {
		if checkPIN(bad, pin) {
			t.Errorf("stored hash %q accepted a PIN", bad)
		}
	}
}
