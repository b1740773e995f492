package selfreporttest

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/selfreport"
)

// Run checks a selfreport.Store; open returns a new, empty one.
func Run(t *testing.T, open func(t *testing.T) selfreport.Store) {
	ctx := context.Background()
	at := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	im := func(c byte) selfreport.Image {
		return selfreport.Image{PDQ: strings.Repeat(string(c), 64), Quality: 90, MD5: strings.Repeat(string(c), 32), SHA256: strings.Repeat(string(c), 64)}
	}
	// A video's vPDQ value is long (the hex of its frames): longer than a
	// PostgreSQL btree row may hold.
	vid := func(c byte) selfreport.Video {
		return selfreport.Video{VPDQ: strings.Repeat(string(c), 20_000), MD5: strings.Repeat(string(c)+"1", 16), SHA256: strings.Repeat(string(c)+"1", 32)}
	}

	t.Run("create and read back", func(t *testing.T) {
		s := open(t)
		c := selfreport.Case{Code: "AAAA-BBBB", PINHash: "pbkdf2-sha256$1$x$y", State: selfreport.Active,
			Images: []selfreport.Image{im('a'), im('b')}, Videos: []selfreport.Video{vid('c'), vid('d')}, CreatedAt: at}
		if err := s.CreateSelfReport(ctx, c); err != nil {
			t.Fatal(err)
		}
		got, err := s.SelfReport(ctx, c.Code)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, c) {
			t.Errorf("read back %+v, want %+v", got, c)
		}
		if err := s.CreateSelfReport(ctx, c); !errors.Is(err, selfreport.ErrExists) {
			t.Errorf("same code again: %v, want ErrExists", err)
		}
		if _, err := s.SelfReport(ctx, "ZZZZ-ZZZZ"); !errors.Is(err, selfreport.ErrNoCase) {
			t.Errorf("unknown code: %v, want ErrNoCase", err)
		}
	})

	t.Run("withdraw", func(t *testing.T) {
		s := open(t)
		for _, c := range []selfreport.Case{
			{Code: "AAAA-AAAA", PINHash: "h", State: selfreport.Active, Images: []selfreport.Image{im('a'), im('b')}, Videos: []selfreport.Video{vid('c'), vid('d')}, CreatedAt: at},
			{Code: "BBBB-BBBB", PINHash: "h", State: selfreport.Active, Images: []selfreport.Image{im('b')}, Videos: []selfreport.Video{vid('d')}, CreatedAt: at},
			{Code: "CCCC-CCCC", PINHash: "h", State: selfreport.Active, Images: []selfreport.Image{im('e')}, Videos: []selfreport.Video{vid('d')}, CreatedAt: at},
		} {
			if err := s.CreateSelfReport(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		holders := func(v string) int {
			n, err := s.SelfReportHolders(ctx, v)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := holders(im('b').PDQ); n != 2 {
			t.Errorf("holders of b's pdq: %d, want 2", n)
		}
		for v, want := range map[string]int{vid('c').VPDQ: 1, vid('d').VPDQ: 3, vid('d').MD5: 3, vid('c').SHA256: 1, vid('c').VPDQ[:64]: 0} {
			if n := holders(v); n != want {
				t.Errorf("holders of video hash %s…: %d, want %d", v[:4], n, want)
			}
		}
		c, err := s.WithdrawSelfReport(ctx, "AAAA-AAAA", at.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if c.State != selfreport.Withdrawn || !c.WithdrawnAt.Equal(at.Add(time.Hour)) || len(c.Images) != 2 || len(c.Videos) != 2 {
			t.Errorf("withdrawn: %+v", c)
		}
		for v, want := range map[string]int{im('a').PDQ: 0, im('a').MD5: 0, im('b').SHA256: 1, im('b').MD5: 1,
			vid('c').VPDQ: 0, vid('c').MD5: 0, vid('d').VPDQ: 2, vid('d').SHA256: 2} {
			if n := holders(v); n != want {
				t.Errorf("holders of %s…: %d, want %d", v[:4], n, want)
			}
		}
		again, err := s.WithdrawSelfReport(ctx, "AAAA-AAAA", at.Add(2*time.Hour))
		if err != nil || !again.WithdrawnAt.Equal(at.Add(time.Hour)) {
			t.Errorf("second withdrawal: %+v, %v; want the first's time kept", again, err)
		}
		if _, err := s.WithdrawSelfReport(ctx, "ZZZZ-ZZZZ", at); !errors.Is(err, selfreport.ErrNoCase) {
			t.Errorf("unknown code: %v, want ErrNoCase", err)
		}
	})
}
