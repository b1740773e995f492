package limits_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/derrors"
	"github.com/safeguard-oss/safeguard/internal/limits"
)

func TestLineAndProse(t *testing.T) {
	for _, c := range []struct {
		s           string
		line, prose string // "" when accepted, else a word of the error
	}{
		{"acct-1", "", ""},
		{"two\nlines", "control", ""},
		{"tab\there", "control", ""},
		{"a\x00b", "control", "control"},
		{"\xff", "UTF-8", "UTF-8"},
		{"\xc3\x28", "UTF-8", "UTF-8"},
		{"bell\x07", "control", "control"},
		{"del\x7f", "control", "control"},
		{strings.Repeat("x", 11), "more than", "more than"},
		{"emoji 🥵 fine", "", ""},
	} {
		for _, k := range []struct {
			check func(string, string, int) error
			want  string
		}{{limits.Line, c.line}, {limits.Prose, c.prose}} {
			err := k.check("account_id", c.s, 10+len("emoji 🥵 fine"))
			if c.s == strings.Repeat("x", 11) {
				err = k.check("account_id", c.s, 10)
			}
			switch {
			case k.want == "" && err != nil:
				t.Errorf("%q: %v, want accepted", c.s, err)
			case k.want != "" && (err == nil || !strings.Contains(err.Error(), k.want) || !strings.Contains(err.Error(), "account_id")):
				t.Errorf("%q: %v, want an error naming account_id and saying %q", c.s, err, k.want)
			case err != nil && !errors.Is(err, derrors.Invalid):
				t.Errorf("%q: %v is not of kind invalid", c.s, err)
			}
		}
	}
}
